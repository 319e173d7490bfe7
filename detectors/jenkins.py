"""Jenkins: a `Jenkinsfile` (read as text, never run): its stages and `sh` steps."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, ci, kind, signal
from maturity_scan.detectors._pipelines import FACTS, signals


class JenkinsDetector:
    id = "jenkins"
    description = "Jenkins pipelines (Jenkinsfile)"
    kinds = {"jenkins": kind("CI/CD pipelines on Jenkins", **FACTS, stages="set")}
    patterns = ci.JENKINS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        p = ci.pipeline(doc)
        if p is None:
            return
        yield from signals(p, stages=sorted({j.id for j in p.jobs}))
        for job in p.jobs:
            if job.id.lower().startswith(("deploy", "release to", "rollout")):
                yield signal("jenkins", p.path, job.line, f"stage {job.id}", deploys=True)

DETECTOR = JenkinsDetector()
