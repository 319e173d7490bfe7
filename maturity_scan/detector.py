"""Kept for plugins written against the old module names: the detector contract now lives in
`maturity_scan.sdk` (import from there)."""
from __future__ import annotations

from maturity_scan.sdk.detector import Concluding, Detector, RepoContext, conclude, signal

__all__ = ["Concluding", "Detector", "RepoContext", "conclude", "signal"]
