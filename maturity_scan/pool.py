"""Parsing in isolated worker processes, one per core by default.

Each file gets a time budget (a soft alarm in the worker, then a hard kill from here) and each
worker a memory cap (RLIMIT_AS). A file that raises, hangs or kills its worker becomes one
FileResult with an error; the worker is replaced and the scan goes on. Workers write nothing to
the terminal: a Go or C parser crashing prints pages of stack to stderr.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from maturity_scan import registry
from maturity_scan.analysis import FileResult, FileTimeout, analyze, failed
from maturity_scan.document import Document, RepoView


@dataclass(frozen=True)
class Limits:
    seconds_per_file: float = 20.0
    # Address space, not resident memory: Go's runtime (pygohcl) reserves far more than it
    # touches, and fails under 2 GiB on a 5 MB file whose parse peaks at 0.8 GB resident.
    memory_bytes: int = 4 << 30
    grace_seconds: float = 5.0  # after the soft alarm, before the hard kill


STARTUP_SECONDS = 60.0
Task = tuple[str, bytes, tuple[str, ...]]  # path, contents, ids of the claiming detectors


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _on_alarm(signum: int, frame: Any) -> None:
    raise FileTimeout


def _run_one(task: Task, view: RepoView, limits: Limits) -> tuple[FileResult, bool]:
    """The file's result, and whether this worker must be replaced: after an interrupted or
    out-of-memory parse, native parsers (PyYAML's C core, Go's runtime) may be left broken."""
    path, data, ids = task
    signal.setitimer(signal.ITIMER_REAL, limits.seconds_per_file)
    try:
        return analyze(Document(path, data, view), registry.by_id(ids)), False
    except FileTimeout:
        return failed(path, ids, f"took longer than {limits.seconds_per_file:g}s (skipped)"), True
    except MemoryError:
        return failed(path, ids, "exceeded the parser memory cap (skipped)"), True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _worker(conn: Connection, paths: frozenset[str], limits: Limits) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.dup2(devnull, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    except (ValueError, OSError):
        pass
    view = RepoView(paths)
    registry.all_detectors()
    conn.send("ready")  # the parent starts a file's clock only once a worker is ready
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        result, recycle = _run_one(task, view, limits)
        conn.send((result, recycle))
        if recycle:
            return


class _Worker:
    def __init__(self, ctx: Any, paths: frozenset[str], limits: Limits) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, paths, limits), daemon=True)
        self.proc.start()
        child.close()
        self.task: Task | None = None
        self.started = self.deadline = 0.0
        self.ready = False

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def _context() -> Any:
    # Not plain fork: the parent may hold threads (org scans) or a loaded Go runtime (pygohcl,
    # after an inline scan) that a forked child would inherit broken. A fork server forks
    # workers from a clean process that has imported the detectors and nothing else.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["maturity_scan.pool", "maturity_scan.preload"])
        return ctx
    return mp.get_context("spawn")


def run_isolated(tasks: Iterable[Task], paths: frozenset[str], jobs: int,
                 limits: Limits = Limits()) -> Iterator[FileResult]:
    """Analyze files in worker processes, yielding results in completion order."""
    queue: deque[Task] = deque()
    source = iter(tasks)
    ctx = _context()
    workers: list[_Worker] = []

    def refill() -> None:
        while len(queue) < 2 * max(1, jobs):
            nxt = next(source, None)
            if nxt is None:
                return
            queue.append(nxt)

    refill()
    if not queue:
        return
    try:
        workers = [_Worker(ctx, paths, limits) for _ in range(jobs)]
        hard = limits.seconds_per_file + limits.grace_seconds
        while True:
            refill()
            for w in workers:
                if w.ready and w.task is None and queue:
                    w.task = queue.popleft()
                    w.started = time.monotonic()
                    w.deadline = w.started + hard
                    w.conn.send(w.task)
            busy = [w for w in workers if w.task is not None]
            if not busy and not queue:
                return
            starting = [w for w in workers if not w.ready]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy \
                else STARTUP_SECONDS
            ready = wait([w.conn for w in busy + starting], timeout=timeout)
            for w in starting:
                if w.conn in ready:
                    try:
                        w.ready = w.conn.recv() == "ready"
                    except (EOFError, OSError):
                        raise RuntimeError("a parser worker could not start") from None
            now = time.monotonic()
            for i, w in enumerate(workers):
                if w.task is None:
                    continue
                path, _, ids = w.task
                if w.conn in ready:
                    try:
                        result, recycle = w.conn.recv()
                        w.task = None
                        if recycle:
                            w.kill()
                            workers[i] = _Worker(ctx, paths, limits)
                        yield result
                        continue
                    except (EOFError, OSError):
                        w.proc.join(1)
                        code = w.proc.exitcode
                        if now - w.started >= limits.seconds_per_file:
                            # the alarm landed in native code (Go aborts on it): a timeout
                            why = f"took longer than {limits.seconds_per_file:g}s (killed)"
                        elif code and code < 0:
                            why = f"the parser crashed (signal {-code}) (skipped)"
                        else:
                            why = "the parser crashed (skipped)"
                        result = failed(path, ids, why)
                elif now >= w.deadline:
                    result = failed(path, ids, f"took longer than "
                                    f"{limits.seconds_per_file:g}s (killed)")
                else:
                    continue
                w.kill()
                workers[i] = _Worker(ctx, paths, limits)
                yield result
    finally:
        for w in workers:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        for w in workers:
            w.proc.join(1)
            if w.proc.is_alive():
                w.kill()


def run_inline(tasks: Iterable[Task], paths: frozenset[str]) -> Iterator[FileResult]:
    """The same analysis in this process: no isolation, for debugging and detector tests."""
    view = RepoView(paths)
    for path, data, ids in tasks:
        yield analyze(Document(path, data, view), registry.by_id(ids))


def run(tasks: Iterable[Task], paths: frozenset[str], jobs: int,
        limits: Limits = Limits()) -> Iterator[FileResult]:
    return run_inline(tasks, paths) if jobs <= 0 else run_isolated(tasks, paths, jobs, limits)

