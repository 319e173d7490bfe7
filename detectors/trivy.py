"""Trivy: its config files (`trivy.yaml`, `.trivyignore`, `trivy-secret.yaml`) and Trivy run in
CI (the trivy / setup-trivy actions, a `trivy <subcommand>` script, the aquasec/trivy image),
with the scan types used (the action's `scan-type` input or the CLI subcommand)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._citools import PRE_COMMIT, pre_commit_hooks
from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.shell import commands
from maturity_scan.sdk.ci import CI_FILES, find, matrix_values

SCAN_TYPES = {"image": "image", "i": "image", "filesystem": "fs", "fs": "fs",
              "rootfs": "rootfs", "repository": "repo", "repo": "repo", "config": "config",
              "conf": "config", "kubernetes": "k8s", "k8s": "k8s", "sbom": "sbom", "vm": "vm"}
NOT_SCANS = {"version", "help", "server", "plugin", "clean", "convert", "module", "completion",
             "registry", "vex", "auth"}
CONFIG_KEYS = {"format", "severity", "scan", "vulnerability", "db", "cache", "exit-code",
               "timeout", "output", "misconfiguration", "secret", "ignorefile", "license",
               "report", "pkg", "rego", "scanners", "skip-dirs", "skip-files", "exit-on-eol",
               "ignore-unfixed", "list-all-pkgs", "dependency-tree", "severity-source"}
SECRET_KEYS = {"rules", "allow-rules", "disable-rules", "enable-builtin-rules",
               "disable-allow-rules", "exclude-block"}
IGNORE_KEYS = {"vulnerabilities", "misconfigurations", "secrets", "licenses"}


def cli_scan_type(words: list[str]) -> str | None:
    """The scan type of a `trivy ...` command, None for `trivy --version`, `trivy server` …"""
    args = [w for w in words[1:] if not w.startswith("-")]
    for w in args:
        if w in SCAN_TYPES:
            return SCAN_TYPES[w]
        if w in NOT_SCANS:
            return None
    return "image" if args else None  # `trivy alpine:3.19` (before subcommands existed)


class TrivyDetector:
    id = "trivy"
    description = "Trivy scanner: config files and scans run in CI, with their scan types"
    kinds = {"trivy": kind("Vulnerability / misconfiguration scanning with Trivy",
                           in_ci="flag", scan_types="set", configs="set")}
    patterns = (*CI_FILES, "trivy.y{a,}ml", ".trivyignore", ".trivyignore.yaml",
                "trivy-secret.y{a,}ml", PRE_COMMIT)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.path.startswith(".github/") or doc.path == ".gitlab-ci.yml":
            yield from self._ci(doc)
            return
        if doc.path == PRE_COMMIT.lstrip("/"):
            yield from self._hooks(doc)
            return
        if doc.name == ".trivyignore":
            # an empty ignore file (or one of comments) is a placeholder, not Trivy in use
            line = doc.line_of(r"^\s*[^#\s]")
            if line is not None:
                yield signal("trivy", doc.path, line, "ignore file", configs=[doc.name])
            return
        data = doc.yaml
        keys = {str(k) for k in data} if isinstance(data, dict) else set()
        wanted = SECRET_KEYS if doc.name.startswith("trivy-secret") else \
            IGNORE_KEYS if doc.name.startswith(".trivyignore") else CONFIG_KEYS
        if keys & wanted:
            yield signal("trivy", doc.path, 1, "trivy configuration", configs=[doc.name])

    @staticmethod
    def _hooks(doc: Document) -> Iterable[Signal]:
        """A pre-commit hook that runs trivy: a local hook's `entry` (`trivy fs .`), or a hook
        of a trivy hook repository (`trivy-fs`, `trivy-config` …)."""
        for hook in pre_commit_hooks(doc):
            scans = [s for w in commands(hook.entry) if w[0] == "trivy"
                     for s in [cli_scan_type(w)] if s]
            if not hook.entry and hook.id.startswith("trivy"):
                scans = [SCAN_TYPES.get(hook.id.split("-", 1)[-1].split("_", 1)[-1], "fs")]
            if not scans:
                continue
            types = sorted(set(scans))
            yield signal("trivy", doc.path, hook.line, f"pre-commit hook {hook.id} runs trivy" +
                         (f" ({', '.join(types)})" if types else ""), scan_types=types)

    def _ci(self, doc: Document) -> Iterable[Signal]:
        for hit in find(doc, actions=("aquasecurity/trivy-action", "aquasecurity/setup-trivy"),
                        programs=("trivy",), images=("aquasec/trivy",)):
            if hit.via == "action":
                raw = hit.inputs.get("scan-type") or "image"
                values = matrix_values(hit.job, raw)
                scans = sorted({SCAN_TYPES.get(str(v).strip(), "image")
                                for v in (values if values is not None else [raw])})
                if hit.step.action.startswith("aquasecurity/setup-trivy"):
                    scans = []  # installs the CLI: the scan is a later `trivy …` step
                yield signal("trivy", doc.path, hit.line,
                             f"job {hit.job.id} uses {hit.step.action}" +
                             (f" ({', '.join(scans)})" if scans else ""),
                             in_ci=True, scan_types=scans)
                continue
            scan = cli_scan_type(hit.words)  # a `trivy …` script line
            if scan is not None:
                yield signal("trivy", doc.path, hit.line, f"job {hit.job.id} runs trivy {scan}",
                             in_ci=True, scan_types=[scan])

DETECTOR = TrivyDetector()
