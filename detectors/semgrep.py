"""Semgrep: rule configs (`.semgrep.yml`, `.semgrep/` rule files, `.semgrepignore`), Semgrep
run in CI (the semgrep action, a `semgrep` script, the semgrep docker image) and the Semgrep
pre-commit hook."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._citools import PRE_COMMIT, pre_commit_hooks
from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, find

ACTIONS = ("returntocorp/semgrep-action", "semgrep/semgrep-action")
IMAGES = ("returntocorp/semgrep", "semgrep/semgrep")
SCANS = ("ci", "scan", "--config", "-c", "-f")


class SemgrepDetector:
    id = "semgrep"
    description = "Semgrep: rule configs, Semgrep in CI and in pre-commit"
    kinds = {"semgrep": kind("Static analysis with Semgrep", in_ci="flag", rules="count")}
    patterns = (*CI_FILES, PRE_COMMIT, ".semgrep.y{a,}ml", ".semgrep/**/*.y{a,}ml",
                ".semgrepignore")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name == ".semgrepignore":
            doc.text
            yield signal("semgrep", doc.path, 1, "semgrep ignore file")
        elif doc.path == PRE_COMMIT.lstrip("/"):
            for hook in pre_commit_hooks(doc):
                if hook.id.startswith("semgrep") or "semgrep" in hook.repo.lower():
                    yield signal("semgrep", doc.path, hook.line, f"pre-commit hook {hook.id}")
        elif doc.path.startswith((".github/", ".gitlab-ci")):
            for hit in find(doc, actions=ACTIONS, programs=("semgrep", "semgrep-agent"),
                            images=IMAGES):
                if hit.via == "run" and not any(w in SCANS or w.startswith("--config=")
                                                for w in hit.words[1:]):
                    continue  # `semgrep --version`, `semgrep login` alone
                what = hit.step.action if hit.via == "action" else " ".join(hit.words[:2])
                yield signal("semgrep", doc.path, hit.line,
                             f"job {hit.job.id} {'runs' if hit.via == 'run' else 'uses'} {what}",
                             in_ci=True)
        else:
            cfg = doc.yaml
            rules = cfg.get("rules") if isinstance(cfg, dict) else None
            if isinstance(rules, list) and any(isinstance(r, dict) and "id" in r for r in rules):
                yield signal("semgrep", doc.path, cfg.line_of("rules"),
                             f"{len(rules)} semgrep rule(s)", rules=len(rules))


DETECTOR = SemgrepDetector()
