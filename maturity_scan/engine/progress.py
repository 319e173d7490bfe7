"""Progress on a terminal: one line on stderr, redrawn in place by rich
(`files parsed 120/800 (57.3/s) ━━━━━━╸━━━━━ 0:00:02`), shown only when stderr is a terminal,
the command was not given `--quiet`, and the work has lasted a moment (`after` seconds); the
line is cleared at the end. Nothing ever goes to stdout, so reports stay clean. rich is
imported when the line is first drawn (a short or piped command never loads it); it honours
`NO_COLOR` (which `--no-color` sets for the command); none on `TERM=dumb`."""
from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

REFRESH = 0.1  # seconds between two redraws
# A scan shows progress once it has run this long (MATURITY_SCAN_PROGRESS_AFTER overrides it).
SCAN_AFTER = 1.0


def wanted(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Progress on `stream` (stderr): a terminal that can redraw a line (not TERM=dumb), and
    not --quiet."""
    stream = stream or sys.stderr
    try:
        return not quiet and stream.isatty() and os.environ.get("TERM") != "dumb"
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
        self._bar: Any = None  # rich.progress.Progress, once drawn
        self._task: Any = None

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
        try:
            if self._bar is None:
                self._bar, self._task = self._start(f"{rate:.1f}/s")
            else:
                self._bar.update(self._task, completed=self.done, rate=f"{rate:.1f}/s")
                self._bar.refresh()
            self.shown = True
        except (OSError, ValueError):  # the terminal went away: no more progress
            self.enabled = False

    def _start(self, rate: str) -> tuple[Any, Any]:
        from rich.console import Console
        from rich.progress import BarColumn, Progress as Bar, TextColumn, TimeElapsedColumn
        console = Console(file=self.stream, markup=False, emoji=False, highlight=False)
        bar = Bar(TextColumn("{task.description} {task.completed}/{task.total} "
                             "({task.fields[rate]})", markup=False),
                  BarColumn(), TimeElapsedColumn(), console=console, transient=True,
                  auto_refresh=False, redirect_stdout=False, redirect_stderr=False)
        task = bar.add_task(self.what, total=self.total, completed=self.done, rate=rate)
        bar.start()  # drawn now; no refresh thread: advance() redraws, every REFRESH at most
        return bar, task

    def close(self) -> None:
        if self._bar is not None:
            try:
                self._bar.stop()  # the line is cleared: what follows starts clean
            except (OSError, ValueError):
                pass
            self._bar = None
            self.shown = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
