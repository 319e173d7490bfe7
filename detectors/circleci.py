"""CircleCI: `.circleci/config.yml`, its jobs' `run` steps read structurally."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, ci, kind
from maturity_scan.detectors._pipelines import FACTS, signals


class CircleCIDetector:
    id = "circleci"
    description = "CircleCI pipelines (.circleci/config.yml)"
    kinds = {"circleci": kind("CI/CD pipelines on CircleCI", **FACTS, orbs="set")}
    patterns = ci.CIRCLECI

    def analyze(self, doc: Document) -> Iterable[Signal]:
        p = ci.pipeline(doc)
        if p is None:
            return
        orbs = p.raw.get("orbs") if isinstance(p.raw, dict) else None
        names = sorted(str(k) for k in orbs) if isinstance(orbs, dict) else []
        yield from signals(p, orbs=names)

DETECTOR = CircleCIDetector()
