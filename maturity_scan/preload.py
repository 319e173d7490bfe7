"""Imported once by the parser fork server, so every worker it forks starts with the detectors
(and their parsers) already loaded."""
from __future__ import annotations

from maturity_scan import registry

registry.all_detectors()
