"""Starting a parser worker: a fresh isolated interpreter (see `isolation`) and our end of its
socket. Apart from `pool` so that a command can start its first worker (`prestart`) before it
imports anything else: this module loads only the standard library."""
from __future__ import annotations

import atexit
import os
import socket
import subprocess
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import IO

from maturity_scan.engine import isolation

Task = tuple[str, bytes, tuple[str, ...]]  # path, contents, ids of the claiming detectors


@dataclass(frozen=True)
class Limits:
    seconds_per_file: float = 20.0
    # Address space, not resident memory: Go's runtime (pygohcl) reserves far more than it
    # touches, and fails under 2 GiB on a 5 MB file whose parse peaks at 0.8 GB resident.
    memory_bytes: int = 4 << 30
    grace_seconds: float = 5.0  # after the soft alarm, before the hard kill
    seconds_total: float = 900.0  # the whole scan: what is left then is reported, not parsed


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Worker:
    """One child interpreter and our end of its socket."""

    def __init__(self, limits: Limits) -> None:
        ours, theirs = socket.socketpair()
        self.stderr: IO[bytes] = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                isolation.python_command("maturity_scan.engine.worker", str(theirs.fileno()),
                                         str(os.getpid()), repr(limits.seconds_per_file),
                                         str(limits.memory_bytes)),
                cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.stderr, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.booted = time.monotonic()
        self.loaded = False  # detectors imported, file list sent
        self.paths: frozenset[str] | None = None  # the file list it holds (its RepoView)
        self.batch: deque[Task] = deque()  # sent, not answered yet; the first one is parsing
        self.started = self.deadline = 0.0

    def why_not_started(self) -> str:
        self.proc.wait(5)
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {self.proc.returncode}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process in D state
            pass
        self.conn.close()
        self.stderr.close()


_early: list[tuple[Limits, _Worker]] = []  # started by `prestart`, for the next Pool
_early_registered: list[bool] = []


def prestart(limits: Limits = Limits()) -> None:
    """Start the first parser worker now: a command calls this first thing, so the worker
    imports the detectors while the command reads its configuration and rule packs."""
    if not _early:
        if not _early_registered:
            atexit.register(_drop_early)
            _early_registered.append(True)
        _early.append((limits, _Worker(limits)))


def _drop_early() -> None:
    while _early:
        _early.pop()[1].kill()


def _first_worker(limits: Limits) -> _Worker:
    while _early:
        started, w = _early.pop()
        if started == limits and w.proc.poll() is None:
            return w
        w.kill()
    return _Worker(limits)
