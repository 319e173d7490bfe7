"""Progress on a terminal: one line on stderr, rewritten in place (`files parsed 120/800`),
shown only when stderr is a terminal, the command was not given `--quiet`, and the work has
lasted a moment (`after` seconds). Nothing ever goes to stdout, so reports stay clean."""
from __future__ import annotations

import os
import sys
import time
from typing import TextIO

REFRESH = 0.1  # seconds between two redraws
# A scan shows progress once it has run this long (MATURITY_SCAN_PROGRESS_AFTER overrides it).
SCAN_AFTER = 1.0


def wanted(quiet: bool = False, stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):
        return False


def scan_delay() -> float:
    try:
        return max(0.0, float(os.environ.get("MATURITY_SCAN_PROGRESS_AFTER", SCAN_AFTER)))
    except ValueError:
        return SCAN_AFTER


class Progress:
    def __init__(self, what: str, total: int, *, enabled: bool, after: float = 0.0,
                 stream: TextIO | None = None) -> None:
        self.what, self.total, self.enabled = what, total, enabled and total > 0
        self.after = after
        self.stream = stream or sys.stderr
        self.started = self.last = time.monotonic()
        self.done = 0
        self.shown = False

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.after or (self.shown and now - self.last < REFRESH
                                                and self.done < self.total):
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-6)
        self._write(f"\r{self.what} {self.done}/{self.total} ({rate:.1f}/s)\x1b[K")
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self._write("\r\x1b[K")  # the line is cleared: what follows starts clean
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
