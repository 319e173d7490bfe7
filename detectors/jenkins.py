"""Jenkins: a `Jenkinsfile` (read as text, never run): its stages and `sh` steps; a stage named
for a deploy, release or rollout deploys."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import Document, Signal, ci, signal


def _stages(p: ci.Pipeline) -> dict[str, Any]:
    return {"stages": sorted({j.id for j in p.jobs})}


def _deploy_stages(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    for job in p.jobs:
        if job.id.lower().startswith(("deploy", "release to", "rollout")):
            yield signal("jenkins", p.path, job.line, f"stage {job.id}", deploys=True)


DETECTOR = PipelineDetector("jenkins", "Jenkins pipelines (Jenkinsfile)",
                            "CI/CD pipelines on Jenkins", ci.JENKINS,
                            own_facts={"stages": "set"}, facts=_stages, more=_deploy_stages,
                            anchors=("Jenkinsfile",))
