"""Dependency / image vulnerability scanners and SAST tools that have no detector of their own:
pip-audit, grype, osv-scanner, govulncheck and FOSSA (`dependency_scanning`); zizmor, bandit,
gosec and Brakeman (`sast`); GitLab's SAST, Dependency-Scanning and Container-Scanning templates
or components. Found where they run: a CI step (their action, or a script line that runs the
command with a scan, as `sdk.ci.find` reads pipelines), or a root pre-commit hook. Trivy, Snyk,
Semgrep, CodeQL and SonarQube have detectors of their own.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.detectors._citools import (GITLAB_FRAGMENTS, PRE_COMMIT,
                                              gitlab_security_includes, hook_tool,
                                              pre_commit_hooks)
from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, find, include_detail

DEP_ACTIONS = {"pypa/gh-action-pip-audit": "pip-audit", "anchore/scan-action": "grype",
               "google/osv-scanner-action": "osv-scanner",
               "golang/govulncheck-action": "govulncheck", "fossas/fossa-action": "fossa"}
DEP_PROGRAMS = {"pip-audit": "pip-audit", "grype": "grype", "osv-scanner": "osv-scanner",
                "govulncheck": "govulncheck", "fossa": "fossa"}
DEP_IMAGES = ("anchore/grype",)
SAST_ACTIONS = {"zizmorcore/zizmor-action": "zizmor", "woodruffw/zizmor-action": "zizmor",
                "securego/gosec": "gosec", "pycqa/bandit-action": "bandit"}
SAST_PROGRAMS = {"zizmor": "zizmor", "bandit": "bandit", "gosec": "gosec", "brakeman": "brakeman"}
HOOKS = {"pip-audit": "pip-audit", "osv-scanner": "osv-scanner", "zizmor": "zizmor",
         "bandit": "bandit", "gosec": "gosec", "golang-gosec": "gosec"}
NOT_SCANS = {"--version", "-V", "version", "--help", "-h", "help", "db", "completion",
             "login", "init", "update"}
# GitLab's own scanners, included as templates (`Security/SAST.gitlab-ci.yml`) or CI/CD
# components (`…/components/sast/sast@2`): name -> (kind, tool, scans images). SAST-IaC is an
# IaC check, Secret-Detection the secret_scanning detector's.
GITLAB_SCANNERS = {"sast": ("sast", "gitlab-sast", False),
                   "dependency-scanning": ("dependency_scanning", "gitlab-dependency-scanning",
                                           False),
                   "container-scanning": ("dependency_scanning", "gitlab-container-scanning",
                                          True)}
_GITLAB_NAME = re.compile(r"(?:^|/)(sast|dependency-scanning|container-scanning)"
                          r"(?:\.latest)?(?:\.gitlab-ci\.yml|@|/|$)", re.I)

# FOSSA's CLI scans with `analyze` / `test`; the others scan with any other arguments
SCAN_VERBS = {"fossa": {"analyze", "test"}}


def _scans(words: list[str]) -> bool:
    args = words[1:]
    if any(a in NOT_SCANS for a in args[:1]) or any(a in ("--version", "--help") for a in args):
        return False
    verbs = SCAN_VERBS.get(words[0])
    return bool(set(args) & verbs) if verbs else True


def _grype_image(words: list[str]) -> bool:
    """`grype alpine:3.19`, `grype registry:…`: an image; `grype dir:.`, `sbom:…`: not."""
    targets = [a for a in words[1:] if not a.startswith("-")]
    return bool(targets) and not targets[0].startswith(("dir:", "file:", "sbom:", ".", "/"))


class VulnScanningDetector:
    id = "vuln_scanning"
    description = "pip-audit, grype, osv-scanner, govulncheck, FOSSA; zizmor, bandit, gosec, Brakeman"
    kinds = {
        "dependency_scanning": kind(
            "Dependencies (or images) are scanned for known vulnerabilities",
            tools="set", in_ci="flag", pre_commit="flag", images="flag"),
        "sast": kind("Code (or workflows) statically analysed for vulnerabilities",
                     tools="set", in_ci="flag", pre_commit="flag"),
    }
    patterns = (*CI_FILES, PRE_COMMIT, *GITLAB_FRAGMENTS)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.path == PRE_COMMIT.lstrip("/"):
            yield from self._hooks(doc)
            return
        if doc.path != ".gitlab-ci.yml" and not doc.path.startswith(".github/"):
            yield from _gitlab_scanners(doc, gitlab_security_includes(doc))  # a fragment
            return
        for kind_name, actions, programs, images in (
                ("dependency_scanning", DEP_ACTIONS, DEP_PROGRAMS, DEP_IMAGES),
                ("sast", SAST_ACTIONS, SAST_PROGRAMS, ())):
            for hit in find(doc, actions=tuple(actions), programs=tuple(programs),
                            images=images):
                if hit.via == "run":
                    if not _scans(hit.words):
                        continue
                    tool = programs[hit.words[0]]
                    detail = f"job {hit.job.id} runs {' '.join(hit.words[:2])}"
                    image = tool == "grype" and _grype_image(hit.words)
                elif hit.step.action.startswith("docker://"):
                    tool, detail, image = "grype", f"job {hit.job.id} uses {hit.step.action}", \
                        False
                else:
                    tool = next(t for a, t in actions.items() if hit.step.action.startswith(a))
                    detail = f"job {hit.job.id} uses {hit.step.action}"
                    image = tool == "grype" and bool(hit.inputs.get("image"))
                facts = {"tools": [tool], "in_ci": True}
                if kind_name == "dependency_scanning":
                    facts["images"] = image
                yield signal(kind_name, doc.path, hit.line, detail, **facts)
        yield from _gitlab_scanners(doc, gitlab_security_includes(doc))

    @staticmethod
    def _hooks(doc: Document) -> Iterable[Signal]:
        for hook in pre_commit_hooks(doc):
            tool = hook_tool(HOOKS, {**DEP_PROGRAMS, **SAST_PROGRAMS}, hook.id, hook.entry)
            if tool is None:
                continue
            kind_name = "sast" if tool in SAST_PROGRAMS else "dependency_scanning"
            yield signal(kind_name, doc.path, hook.line, f"pre-commit hook {hook.id} runs {tool}",
                         tools=[tool], pre_commit=True)


def _gitlab_scanners(doc: Document, includes: Iterable[tuple[str, int]]) -> Iterable[Signal]:
    for template, line in includes:
        m = _GITLAB_NAME.search(template)
        if m:
            kind_name, tool, images = GITLAB_SCANNERS[m.group(1).lower()]
            facts = {"tools": [tool], "in_ci": True}
            if kind_name == "dependency_scanning":
                facts["images"] = images
            yield signal(kind_name, doc.path, line, include_detail(template), **facts)


DETECTOR = VulnScanningDetector()
