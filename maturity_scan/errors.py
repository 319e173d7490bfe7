"""The error hierarchy, one exit status each (DESIGN.md): usage 2, gate 1, bug 3."""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    BUG = 3


class ScanError(Exception):
    exit_code = ExitCode.BUG


class UsageError(ScanError):
    """Bad usage or unusable input: a missing path, a bad config or rule file. The message
    begins with the path or key it is about."""

    exit_code = ExitCode.USAGE


class GateFailed(ScanError):
    exit_code = ExitCode.GATE_FAILED
