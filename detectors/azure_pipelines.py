"""Azure Pipelines: `azure-pipelines.yml` (and `.azure-pipelines/`), stages, jobs, tasks."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, ci, kind
from maturity_scan.detectors._pipelines import FACTS, signals


class AzurePipelinesDetector:
    id = "azure_pipelines"
    description = "Azure Pipelines (azure-pipelines.yml)"
    kinds = {"azure_pipelines": kind("CI/CD pipelines on Azure DevOps", **FACTS)}
    patterns = ci.AZURE_PATTERNS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        p = ci.pipeline(doc)
        if p is None:
            return
        yield from signals(p)

DETECTOR = AzurePipelinesDetector()
