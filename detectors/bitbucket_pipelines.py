"""Bitbucket Pipelines: `bitbucket-pipelines.yml` at the root; steps with `deployment` deploy;
the recipes and scripts its steps call are followed (`_pipelines`). Steps whose `condition:
changesets:` name `includePaths` (or `excludePaths`) record them as `filters` (as
github_actions does), for `scan --components` to give their evidence to the services those
paths reach."""
from __future__ import annotations

from bisect import bisect_right
from typing import Any

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import ci

MAX_PATHS = 100  # paths of one step's changesets read; more: the step is not narrowed


def _globs(values: Any) -> list[str]:
    if not isinstance(values, list) or len(values) > MAX_PATHS:
        return []
    return [v.strip().lstrip("/") for v in values
            if isinstance(v, str) and v.strip("/ ") and "$" not in v]


def _facts(p: ci.Pipeline) -> dict[str, Any]:
    """`{"filters": [record]}` when a step has `condition: changesets:`; each step's record
    spans from its line to the next step's."""
    starts = sorted({job.line for job in p.jobs})
    jobs = []
    for job in sorted(p.jobs, key=lambda j: j.line):
        cond = job.raw.get("condition") if isinstance(job.raw, dict) else None
        sets = cond.get("changesets") if isinstance(cond, dict) else None
        sets = sets if isinstance(sets, dict) else {}
        entry: dict[str, Any] = {"id": job.id, "line": job.line, "matrix": [], "dir": ""}
        at = bisect_right(starts, job.line)
        later = starts[at:at + 1]
        if later:
            entry["end"] = later[0]
        paths, ignore = _globs(sets.get("includePaths")), _globs(sets.get("excludePaths"))
        if paths or ignore:
            entry.update(paths=paths, paths_ignore=ignore)
        jobs.append(entry)
    if not any("paths" in j for j in jobs):
        return {}
    return {"filters": [{"workflow": p.path, "events": {}, "jobs": jobs}]}


DETECTOR = PipelineDetector("bitbucket_pipelines", "Bitbucket Pipelines (bitbucket-pipelines.yml)",
                            "CI/CD pipelines on Bitbucket", ci.BITBUCKET, anchors=ci.BITBUCKET,
                            own_facts={"filters": "records"},  # steps' changesets
                            facts=_facts)
