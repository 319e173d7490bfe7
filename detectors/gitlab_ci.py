"""GitLab CI: `.gitlab-ci.yml` at the root (the only place GitLab reads it), jobs read
structurally; security templates from `include:` (templates and CI/CD components)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from maturity_scan.sdk import Document, Signal, ci, kind, signal
from maturity_scan.detectors._pipelines import FACTS, signals

SECURITY = re.compile(r"(?:^|/)(SAST|SAST-IaC|Secret-Detection|Dependency-Scanning|"
                      r"Container-Scanning|DAST|License-Scanning|Coverage-Fuzzing|API-Fuzzing)"
                      r"(?:\.latest)?(?:\.gitlab-ci\.yml|@|$)", re.I)
COMPONENT = re.compile(r"/(sast|secret-detection|dependency-scanning|container-scanning|dast)"
                       r"(?:@|$)", re.I)


def _includes(cfg: Any) -> list[Any]:
    inc = cfg.get("include") if isinstance(cfg, dict) else None
    return inc if isinstance(inc, list) else [inc] if inc else []


class GitLabCIDetector:
    id = "gitlab_ci"
    description = "GitLab CI pipelines (.gitlab-ci.yml at the root)"
    kinds = {"gitlab_ci": kind("CI/CD pipelines on GitLab", **FACTS, stages="set",
                               security_templates="set", includes="count")}
    patterns = ci.GITLAB

    def analyze(self, doc: Document) -> Iterable[Signal]:
        p = ci.pipeline(doc)
        if p is None:
            return
        cfg = p.raw
        stages = cfg.get("stages") if isinstance(cfg.get("stages"), list) else []
        includes = _includes(cfg)
        yield from signals(p, stages=sorted(str(s) for s in stages), includes=len(includes))
        for item in includes:
            ref = item.get("template") or item.get("component") if isinstance(item, dict) else None
            if not isinstance(ref, str):
                continue
            m = SECURITY.search(ref) or COMPONENT.search(ref)
            if m:
                name = m.group(1).lower()
                yield signal("gitlab_ci", doc.path, getattr(item, "line", 1),
                             f"include {ref.rsplit('/', 1)[-1]}", security_templates=[name])


DETECTOR = GitLabCIDetector()
