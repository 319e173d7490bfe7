"""A parser worker: the child side of `pool`. Started isolated (see `isolation`) with its
working directory at `/`, it loads the detectors once, then analyses the files it is sent (in
batches, each file on its own) under a per-file alarm and an address-space cap. It dies with its
parent."""
from __future__ import annotations

import os
import resource
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from maturity_scan.engine import registry
from maturity_scan.engine.analysis import FileResult, FileTimeout, analyze, failed
from maturity_scan.sdk.document import Document, RepoView

PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill us when the parent goes, whatever way it goes (even SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux: EOF on the pipe ends us
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _on_alarm(signum: int, frame: Any) -> None:
    raise FileTimeout


def _run_one(task: tuple[str, bytes, tuple[str, ...]], view: RepoView,
             seconds: float) -> tuple[FileResult, bool]:
    """The file's result, and whether this worker must be replaced: after an interrupted or
    out-of-memory parse, native parsers (PyYAML's C core, Go's runtime) may be left broken."""
    path, data, ids = task
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return analyze(Document(path, data, view), registry.by_id(ids)), False
    except FileTimeout:
        return failed(path, ids, f"took longer than {seconds:g}s (skipped)"), True
    except MemoryError:
        return failed(path, ids, "exceeded the parser memory cap (skipped)"), True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv: list[str]) -> None:
    fd, parent, seconds, memory = int(argv[0]), int(argv[1]), float(argv[2]), int(argv[3])
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and ends us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass
    conn = Connection(fd)
    try:
        registry.all_detectors()
    except Exception as e:  # a broken plugin: the parent reports it as a usage error
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("loaded", ""))
    try:
        paths = conn.recv()  # the repository's file list, once the parent has it
        view = RepoView(paths)
        while True:
            batch = conn.recv()  # a list of files, answered one by one as each is done
            if batch is None:
                return
            if isinstance(batch, frozenset):  # the next repository's file list (a lent pool)
                view = RepoView(batch)
                continue
            for task in batch:
                result, recycle = _run_one(task, view, seconds)
                conn.send((result, recycle))
                if recycle:
                    return  # the parent gives the rest of the batch to a fresh worker
    except (EOFError, OSError):
        return  # the parent is gone
    finally:
        sys.stdout.flush()
