"""GitLab CI: `.gitlab-ci.yml` at the root (the only place GitLab reads it), jobs read
structurally (`extends:` resolved); security templates from `include:` (templates and CI/CD
components); `include: local:` files and the recipes jobs run followed (`_pipelines`)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import Document, Signal, ci, signal

SECURITY = re.compile(r"(?:^|/)(SAST|SAST-IaC|Secret-Detection|Dependency-Scanning|"
                      r"Container-Scanning|DAST|License-Scanning|Coverage-Fuzzing|API-Fuzzing)"
                      r"(?:\.latest)?(?:\.gitlab-ci\.yml|@|$)", re.I)
COMPONENT = re.compile(r"/(sast|secret-detection|dependency-scanning|container-scanning|dast)"
                       r"(?:@|$)", re.I)


def _includes(cfg: Any) -> list[Any]:
    inc = cfg.get("include") if isinstance(cfg, dict) else None
    return inc if isinstance(inc, list) else [inc] if inc else []


def _facts(p: ci.Pipeline) -> dict[str, Any]:
    cfg = p.raw
    stages = cfg.get("stages") if isinstance(cfg.get("stages"), list) else []
    return {"stages": sorted(str(s) for s in stages), "includes": len(_includes(cfg))}


def _security_includes(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    for item in _includes(p.raw):
        ref = item.get("template") or item.get("component") if isinstance(item, dict) else None
        if not isinstance(ref, str):
            continue
        m = SECURITY.search(ref) or COMPONENT.search(ref)
        if m:
            name = m.group(1).lower()
            yield signal("gitlab_ci", doc.path, getattr(item, "line", 1),
                         f"include {ref.rsplit('/', 1)[-1]}", security_templates=[name])


DETECTOR = PipelineDetector("gitlab_ci", "GitLab CI pipelines (.gitlab-ci.yml at the root)",
                            "CI/CD pipelines on GitLab", ci.GITLAB,
                            own_facts={"stages": "set", "security_templates": "set",
                                       "includes": "count"},
                            facts=_facts, more=_security_includes,
                            anchors=ci.GITLAB, includes=ci.gitlab_local_includes,
                            included=(".gitlab/**/*.y{a,}ml", "**/*.gitlab-ci.y{a,}ml",
                                      "{ci,.ci,gitlab,gitlab-ci,.gitlab-ci,templates,"
                                      "pipelines}/**/*.y{a,}ml"))
