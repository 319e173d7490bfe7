"""The detector toolkit: everything a detector may import, built-in or third-party, and nothing
else. A detector module imports from here (and from helper modules of its own), never from the
engine, the rules or another detector.

    from maturity_scan.sdk import Document, Signal, ci, kind, signal
"""
from __future__ import annotations

from maturity_scan.model import Evidence, FactType, FileError, KindSpec, Signal, kind
from maturity_scan.sdk import ci, git, globs, k8s, recipes, shell, yamlsafe
from maturity_scan.sdk.detector import Concluding, Detector, RepoContext, conclude, signal
from maturity_scan.sdk.document import Document, ParseError, RepoView

__all__ = [
    "Concluding", "Detector", "Document", "Evidence", "FactType", "FileError", "KindSpec",
    "ParseError", "RepoContext", "RepoView", "Signal", "ci", "conclude", "git", "globs", "k8s",
    "kind", "recipes", "shell", "signal", "yamlsafe",
]
