"""Bitbucket Pipelines: `bitbucket-pipelines.yml` at the root; steps with `deployment` deploy."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, ci, kind
from maturity_scan.detectors._pipelines import FACTS, signals


class BitbucketPipelinesDetector:
    id = "bitbucket_pipelines"
    description = "Bitbucket Pipelines (bitbucket-pipelines.yml)"
    kinds = {"bitbucket_pipelines": kind("CI/CD pipelines on Bitbucket", **FACTS)}
    patterns = ci.BITBUCKET

    def analyze(self, doc: Document) -> Iterable[Signal]:
        p = ci.pipeline(doc)
        if p is None:
            return
        yield from signals(p)

DETECTOR = BitbucketPipelinesDetector()
