"""Azure Pipelines: `azure-pipelines.yml` (and `.azure-pipelines/`), stages, jobs, tasks; the
recipes and scripts its steps call are followed (`_pipelines`)."""
from __future__ import annotations

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import ci

DETECTOR = PipelineDetector("azure_pipelines", "Azure Pipelines (azure-pipelines.yml)",
                            "CI/CD pipelines on Azure DevOps", ci.AZURE_PATTERNS,
                            anchors=ci.AZURE)
