"""Supply-chain security in CI and release configs: artifact signing (cosign, sigstore,
notation), SBOMs (syft, CycloneDX, anchore/sbom-action, trivy/docker SBOM output), build
provenance (SLSA generator, attest-build-provenance, buildx/npm provenance) and the OpenSSF
Scorecard action. GoReleaser configs count for the `signs`/`sboms` they declare.

PyPI trusted publishing (`pypa/gh-action-pypi-publish` without a `password`, v1.11 or later,
`attestations` not turned off) uploads PEP 740 attestations, Sigstore-signed provenance of the
distributions: provenance. A version is read from the ref (`v1.12.4`, `release/v1`) or, for a
commit SHA, from its `# v1.12.4` comment; a SHA without one is taken as current."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from maturity_scan.sdk import Document, ParseError, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, Hit, find, lenient_pipeline

# action prefix -> (fact, tool)
ACTIONS = {
    "sigstore/gh-action-sigstore-python": ("signing", "sigstore"),
    "anchore/sbom-action": ("sbom", "syft"),
    "cyclonedx/gh-": ("sbom", "cyclonedx"),
    "actions/attest-sbom": ("sbom", "attest-sbom"),
    "slsa-framework/slsa-github-generator": ("provenance", "slsa-github-generator"),
    "actions/attest-build-provenance": ("provenance", "attest-build-provenance"),
    "actions/attest": ("provenance", "attest"),
    "ossf/scorecard-action": ("scorecard", "scorecard"),
    "aquasecurity/trivy-action": ("sbom", "trivy"),  # only with an SBOM format
    "docker/build-push-action": ("provenance", "buildx"),  # only with sbom/provenance inputs
    "pypa/gh-action-pypi-publish": ("provenance", "pypi-attestations"),  # trusted publishing
}
_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?")
_SHA = re.compile(r"^[0-9a-f]{40}$")
SBOM_FORMATS = {"cyclonedx", "spdx", "spdx-json", "github"}
PROGRAMS = ("cosign", "notation", "syft", "cyclonedx-py", "cyclonedx-npm", "cyclonedx-bom",
            "cyclonedx", "cyclonedx-gomod", "trivy", "docker", "npm", "pnpm", "yarn", "scorecard")
GORELEASER_KEYS = {"signs": "signing", "docker_signs": "signing", "binary_signs": "signing",
                   "sboms": "sbom"}


def _truthy(value: object) -> bool:
    text = str(value).strip().lower()
    return text not in ("", "false", "0", "none", "no") and "${{" not in text


def _opt(words: list[str], name: str) -> str | None:
    """Value of `--name v` / `--name=v` (None when absent, "" for a bare flag)."""
    for i, w in enumerate(words):
        if w == name:
            nxt = words[i + 1] if i + 1 < len(words) else ""
            return "" if nxt.startswith("-") else nxt
        if w.startswith(name + "="):
            return w.split("=", 1)[1]
    return None


def _run(words: list[str]) -> list[tuple[str, str]]:
    prog, args = words[0], [w for w in words[1:] if not w.startswith("-")]
    first = args[0] if args else ""
    if prog == "cosign" and first in ("sign", "sign-blob"):
        return [("signing", "cosign")]
    if prog == "cosign" and first in ("attest", "attest-blob"):
        return [("signing", "cosign"), ("provenance", "cosign")]
    if prog == "notation" and first == "sign":
        return [("signing", "notation")]
    if prog == "syft" and first and first not in ("version", "login", "help"):
        return [("sbom", "syft")]
    if prog.startswith("cyclonedx") and len(words) > 1 and first not in ("version", "help"):
        return [("sbom", "cyclonedx")]
    if prog == "trivy" and (_opt(words, "--format") or _opt(words, "-f") or "") in SBOM_FORMATS:
        return [("sbom", "trivy")]
    if prog == "scorecard" and _opt(words, "--repo") is not None:
        return [("scorecard", "scorecard")]
    out = []
    if prog == "docker" and "build" in words[1:3]:
        for opt, fact in (("--sbom", "sbom"), ("--provenance", "provenance")):
            value = _opt(words, opt)
            if value == "" or (value is not None and _truthy(value)):
                out.append((fact, "buildx"))
    if prog in ("npm", "pnpm", "yarn") and "publish" in args[:2] and \
            _opt(words, "--provenance") is not None:
        out.append(("provenance", "npm-provenance"))
    return out


def _flags(fact: str) -> dict[str, bool]:
    return {f: f == fact for f in ("signing", "sbom", "provenance", "scorecard")}


class SupplyChainDetector:
    id = "supply_chain"
    description = "Signing, SBOMs, build provenance and OpenSSF Scorecard in CI or releases"
    kinds = {"supply_chain": kind("Artifacts are signed, with SBOMs or provenance",
                                  signing="flag", sbom="flag", provenance="flag",
                                  scorecard="flag", tools="set")}
    patterns = (*CI_FILES, ".goreleaser.y{a,}ml", "goreleaser.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if "goreleaser" in doc.name and not doc.path.startswith(".github/"):
            try:
                cfg = doc.yaml
            except ParseError:
                return  # release_automation reports a broken goreleaser config
            if isinstance(cfg, dict):
                for key, fact in GORELEASER_KEYS.items():
                    if cfg.get(key):
                        yield signal("supply_chain", doc.path, cfg.line_of(key),
                                     f"goreleaser {key}", tools=["goreleaser"], **_flags(fact))
            return
        for hit in find(doc, actions=tuple(ACTIONS), programs=PROGRAMS):
            for fact, tool, what in self._judge(hit, doc):
                yield signal("supply_chain", doc.path, hit.line, f"job {hit.job.id} {what}",
                             tools=[tool], **_flags(fact))
        p = lenient_pipeline(doc)
        for job in p.jobs if p is not None else ():
            # a shared Scorecard workflow (open-telemetry/shared-workflows/…/scorecard.yml)
            name = job.uses.split("@")[0].rsplit("/", 1)[-1].lower()
            if re.match(r"^(ossf[-_])?scorecards?([-_]analysis)?\.ya?ml$", name):
                yield signal("supply_chain", doc.path, job.raw.line_of("uses"),
                             f"job {job.id} calls {name}", tools=["scorecard"],
                             **_flags("scorecard"))

    @staticmethod
    def _judge(hit: Hit, doc: Document) -> Iterator[tuple[str, str, str]]:
        if hit.via == "run":
            for fact, tool in _run(hit.words):
                yield fact, tool, f"runs {' '.join(hit.words[:2])}"
            return
        action = hit.step.action
        fact, tool = next(v for a, v in ACTIONS.items() if action.startswith(a))
        inputs = hit.inputs
        if tool == "trivy":
            if str(inputs.get("format") or "").lower() in SBOM_FORMATS:
                yield "sbom", "trivy", f"uses {action} (SBOM format)"
            return
        if tool == "buildx":
            attests = str(inputs.get("attests") or "")
            if _truthy(inputs.get("sbom", "")) or "type=sbom" in attests:
                yield "sbom", "buildx", f"uses {action} (sbom)"
            if _truthy(inputs.get("provenance", "")) or "type=provenance" in attests:
                yield "provenance", "buildx", f"uses {action} (provenance)"
            return
        if tool == "pypi-attestations":
            if _attests(hit, doc):
                yield fact, tool, f"uses {action} (trusted publishing with attestations)"
            return
        yield fact, tool, f"uses {action}"


def _attests(hit: Hit, doc: Document) -> bool:
    """Whether a PyPI publish step uploads attestations: trusted publishing (no `password`),
    `attestations` not false, and an action version that makes them (v1.11 or later)."""
    inputs = hit.inputs
    if "password" in inputs or not _truthy(inputs.get("attestations", "true")):
        return False
    ref = hit.step.ref.lower()
    if ref.startswith("release/"):
        ref = ref.split("/", 1)[1]
    elif _SHA.match(ref):
        line = doc.lines[hit.line - 1] if 0 < hit.line <= len(doc.lines) else ""
        comment = line.partition("#")[2].strip()
        if not _VERSION.match(comment):
            return True  # a pinned commit, version unknown: taken as current
        ref = comment
    m = _VERSION.match(ref)
    if not m:
        return False
    major, minor = int(m.group(1)), int(m.group(2) or 99)  # `v1` follows the latest 1.x
    return (major, minor) >= (1, 11)


DETECTOR = SupplyChainDetector()
