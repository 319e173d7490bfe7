"""CircleCI: `.circleci/config.yml`, its jobs' `run` steps read structurally, and its orbs; the
recipes and scripts its steps call are followed (`_pipelines`)."""
from __future__ import annotations

from typing import Any

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import ci


def _orbs(p: ci.Pipeline) -> dict[str, Any]:
    orbs = p.raw.get("orbs") if isinstance(p.raw, dict) else None
    return {"orbs": sorted(str(k) for k in orbs) if isinstance(orbs, dict) else []}


DETECTOR = PipelineDetector("circleci", "CircleCI pipelines (.circleci/config.yml)",
                            "CI/CD pipelines on CircleCI", ci.CIRCLECI,
                            own_facts={"orbs": "set"}, facts=_orbs, anchors=ci.CIRCLECI)
