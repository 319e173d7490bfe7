"""maturity-scan: infer DevOps / platform maturity from what a repository contains."""
from __future__ import annotations

__version__ = "0.1.0"
