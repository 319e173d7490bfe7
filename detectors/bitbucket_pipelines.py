"""Bitbucket Pipelines: `bitbucket-pipelines.yml` at the root; steps with `deployment` deploy;
the recipes and scripts its steps call are followed (`_pipelines`)."""
from __future__ import annotations

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import ci

DETECTOR = PipelineDetector("bitbucket_pipelines", "Bitbucket Pipelines (bitbucket-pipelines.yml)",
                            "CI/CD pipelines on Bitbucket", ci.BITBUCKET, anchors=ci.BITBUCKET)
