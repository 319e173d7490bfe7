"""Secret scanning: gitleaks, detect-secrets, trufflehog, ggshield and talisman, by their
configs (`.gitleaks.toml`, `.secrets.baseline`, `.gitguardian.yaml`, `.talismanrc` …), CI
steps, root pre-commit hooks and GitLab's Secret-Detection template."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._citools import (
    CI_FILES,
    PRE_COMMIT,
    find,
    gitlab_includes,
    include_detail,
    pre_commit_hooks,
)

from maturity_scan.sdk.ci import commands
from maturity_scan.sdk import Document, Signal, kind, signal

ACTIONS = {"gitleaks/gitleaks-action": "gitleaks", "zricethezav/gitleaks-action": "gitleaks",
           "trufflesecurity/trufflehog": "trufflehog", "gitguardian/ggshield-action": "ggshield",
           "gitguardian/ggshield/actions": "ggshield",
           "reviewdog/action-detect-secrets": "detect-secrets"}
PROGRAMS = {"gitleaks": "gitleaks", "trufflehog": "trufflehog", "detect-secrets": "detect-secrets",
            "detect-secrets-hook": "detect-secrets", "ggshield": "ggshield", "talisman": "talisman"}
IMAGES = ("zricethezav/gitleaks", "gitleaks/gitleaks", "trufflesecurity/trufflehog")
HOOKS = {"gitleaks": "gitleaks", "gitleaks-docker": "gitleaks", "gitleaks-system": "gitleaks",
         "detect-secrets": "detect-secrets", "trufflehog": "trufflehog", "ggshield": "ggshield",
         "talisman-commit": "talisman", "talisman-push": "talisman", "secretlint": "secretlint"}
CONFIGS = {".gitleaks.toml": "gitleaks", "gitleaks.toml": "gitleaks", ".gitleaksignore": "gitleaks",
           ".secrets.baseline": "detect-secrets", ".gitguardian.yaml": "ggshield",
           ".gitguardian.yml": "ggshield", ".talismanrc": "talisman",
           ".secretlintrc.json": "secretlint"}


def hook_tool(hook_id: str, entry: str = "") -> str | None:
    """The scanner a pre-commit hook runs: by its id, or a local hook's `entry` command."""
    if hook_id in HOOKS:
        return HOOKS[hook_id]
    return next((PROGRAMS[w[0]] for w in commands(entry) if w[0] in PROGRAMS), None)


class SecretScanningDetector:
    id = "secret_scanning"
    description = "Secret scanners (gitleaks, detect-secrets, trufflehog, ggshield, talisman)"
    kinds = {"secret_scanning": kind("Secrets are scanned for before or after commit",
                                     tools="set", in_ci="flag", pre_commit="flag")}
    patterns = (*CI_FILES, PRE_COMMIT, *CONFIGS)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name in CONFIGS and not doc.path.startswith(".github/workflows/"):
            yield from self._config(doc)
        elif doc.path == PRE_COMMIT.lstrip("/"):
            for hook in pre_commit_hooks(doc):
                if (tool := hook_tool(hook.id, hook.entry)) is not None:
                    yield signal("secret_scanning", doc.path, hook.line,
                                 f"pre-commit hook {hook.id}", tools=[tool], pre_commit=True)
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
            for template, line in gitlab_includes(doc):
                if "secret-detection" in template.lower():
                    yield signal("secret_scanning", doc.path, line, include_detail(template),
                                 tools=["gitlab-secret-detection"], in_ci=True)

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


DETECTOR = SecretScanningDetector()
