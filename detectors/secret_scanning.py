"""Secret scanning: gitleaks, detect-secrets, trufflehog, ggshield and talisman, by their
configs (`.gitleaks.toml`, `.secrets.baseline`, `.gitguardian.yaml`, `.talismanrc` …), CI
steps, root pre-commit hooks and GitLab's Secret-Detection template (in the root pipeline or a
fragment it includes)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._citools import (GITLAB_FRAGMENTS, PRE_COMMIT,
                                              gitlab_security_includes, hook_signals)
from maturity_scan.detectors._secrets import HOOKS, PROGRAMS
from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, find, include_detail

ACTIONS = {"gitleaks/gitleaks-action": "gitleaks", "zricethezav/gitleaks-action": "gitleaks",
           "trufflesecurity/trufflehog": "trufflehog", "gitguardian/ggshield-action": "ggshield",
           "gitguardian/ggshield/actions": "ggshield",
           "reviewdog/action-detect-secrets": "detect-secrets"}
IMAGES = ("zricethezav/gitleaks", "gitleaks/gitleaks", "trufflesecurity/trufflehog")
CONFIGS = {".gitleaks.toml": "gitleaks", "gitleaks.toml": "gitleaks", ".gitleaksignore": "gitleaks",
           ".secrets.baseline": "detect-secrets", ".gitguardian.yaml": "ggshield",
           ".gitguardian.yml": "ggshield", ".talismanrc": "talisman",
           ".secretlintrc.json": "secretlint"}


class SecretScanningDetector:
    id = "secret_scanning"
    description = "Secret scanners (gitleaks, detect-secrets, trufflehog, ggshield, talisman)"
    kinds = {"secret_scanning": kind("Secrets are scanned for before or after commit",
                                     tools="set", in_ci="flag", pre_commit="flag")}
    patterns = (*CI_FILES, PRE_COMMIT, *CONFIGS, *GITLAB_FRAGMENTS)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name in CONFIGS and not doc.path.startswith(".github/workflows/"):
            yield from self._config(doc)
        elif doc.path == PRE_COMMIT.lstrip("/"):
            yield from hook_signals(doc, "secret_scanning", HOOKS, PROGRAMS)
        elif doc.path != ".gitlab-ci.yml" and not doc.path.startswith(".github/"):
            yield from _secret_detection(doc)  # a fragment the root pipeline includes
        else:
            for hit in find(doc, actions=tuple(ACTIONS), programs=tuple(PROGRAMS), images=IMAGES):
                if hit.via == "run":
                    tool = PROGRAMS[hit.words[0]]
                    if not any(not w.startswith("-") and w not in ("version", "help")
                               for w in hit.words[1:]):
                        continue  # `gitleaks version`, `detect-secrets --version`
                    detail = f"job {hit.job.id} runs {hit.words[0]}"
                else:
                    tool = next((t for a, t in ACTIONS.items() if hit.step.action.startswith(a)),
                                hit.step.action.rsplit("/", 1)[-1])
                    detail = f"job {hit.job.id} uses {hit.step.action}"
                yield signal("secret_scanning", doc.path, hit.line, detail, tools=[tool],
                             in_ci=True)
            yield from _secret_detection(doc)

    def _config(self, doc: Document) -> Iterable[Signal]:
        tool = CONFIGS[doc.name]
        if doc.name.endswith(".toml"):
            doc.toml
        elif doc.name in (".secrets.baseline", ".secretlintrc.json"):
            data = doc.json
            if not isinstance(data, dict) or not (data.keys() & {"plugins_used", "results",
                                                                 "rules", "version"}):
                return
        elif doc.name.startswith(".gitguardian") or doc.name == ".talismanrc":
            data = doc.yaml
            if data is not None and not isinstance(data, dict):
                return
        else:
            doc.text
        yield signal("secret_scanning", doc.path, 1, f"{tool} configuration", tools=[tool])


def _secret_detection(doc: Document) -> Iterable[Signal]:
    for template, line in gitlab_security_includes(doc):
        if "secret-detection" in template.lower():
            yield signal("secret_scanning", doc.path, line, include_detail(template),
                         tools=["gitlab-secret-detection"], in_ci=True)


DETECTOR = SecretScanningDetector()
