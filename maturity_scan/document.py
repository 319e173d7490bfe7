"""Kept for plugins written against the old module names: `Document` now lives in
`maturity_scan.sdk` (import from there)."""
from __future__ import annotations

from maturity_scan.sdk.document import Document, ParseError, RepoView

__all__ = ["Document", "ParseError", "RepoView"]
