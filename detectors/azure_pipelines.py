"""Azure Pipelines: `azure-pipelines.yml` (and `.azure-pipelines/`), stages, jobs, tasks; the
recipes and scripts its steps call are followed (`_pipelines`). A pipeline whose `trigger:` and
`pr:` name `paths:` records them as `filters` (as github_actions does), for `scan --components`
to give its evidence to the services those paths reach."""
from __future__ import annotations

from typing import Any

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import ci

MAX_PATHS = 100  # paths of one filter read; more: the pipeline is not narrowed


def _paths(values: Any) -> list[str]:
    """Azure path filters (prefixes, or globs) as globs: `services/orders` -> `services/orders/**`."""
    if not isinstance(values, list) or len(values) > MAX_PATHS:
        return []
    out = []
    for v in values:
        if isinstance(v, str) and v.strip("/ ") and "$" not in v:
            v = v.strip().strip("/")
            out.append(v if any(c in v for c in "*?[") else f"{v}/**")
    return out


def _event(spec: Any) -> dict[str, list[str]] | None:
    """An event's filters: None when it never runs (`none`), no paths when any change runs it."""
    if spec == "none":
        return None
    paths = spec.get("paths") if isinstance(spec, dict) else None
    if not isinstance(paths, dict):
        return {"paths": [], "paths_ignore": []}
    return {"paths": _paths(paths.get("include")), "paths_ignore": _paths(paths.get("exclude"))}


def _facts(p: ci.Pipeline) -> dict[str, Any]:
    """`{"filters": [record]}` when `trigger:` or `pr:` have `paths:`; a missing one runs on
    every change (so covers every component), `none` never."""
    cfg = p.raw if isinstance(p.raw, dict) else {}
    events = {}
    for key, event in (("trigger", "push"), ("pr", "pull_request")):
        found = _event(cfg.get(key, {}))
        if found is not None:
            events[event] = found
    if not any(e["paths"] or e["paths_ignore"] for e in events.values()):
        return {}
    return {"filters": [{"workflow": p.path, "events": events, "jobs": []}]}


DETECTOR = PipelineDetector("azure_pipelines", "Azure Pipelines (azure-pipelines.yml)",
                            "CI/CD pipelines on Azure DevOps", ci.AZURE_PATTERNS,
                            own_facts={"filters": "records"},  # trigger/pr paths
                            facts=_facts, anchors=ci.AZURE)
