"""Parsing in isolated worker processes, one per core by default.

Workers are fresh interpreters started with `-I` from `/` (see `isolation`): nothing of the
folder the command runs in, or of the scanned tree, is ever importable in them. Each file gets a
time budget (a soft alarm in the worker, then a hard kill from here), each worker a memory cap
(RLIMIT_AS), the whole scan an overall budget. A file that raises, hangs or kills its worker
becomes one FileResult with an error; the worker is replaced and the scan goes on. Workers write
nothing to the terminal (a Go or C parser crashing prints pages of stack) and die with us.
"""
from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import wait

from maturity_scan.engine import registry
from maturity_scan.engine.analysis import FileResult, analyze, failed
# the worker's start-up side, importable alone (a command's first worker starts before it loads
# anything else); its names are this module's too
from maturity_scan.engine.spawn import (Limits, Task, _early, _first_worker, _Worker,
                                        default_jobs, prestart)
from maturity_scan.errors import UsageError
from maturity_scan.sdk.document import Document, RepoView

__all__ = ["Limits", "Pool", "Pools", "Task", "default_jobs", "prestart", "run_inline",
           "run_isolated"]

STARTUP_SECONDS = 60.0
# Small files go to a worker several at a time (one message, results streamed back one by one):
# the worker never waits for us between them. Each file keeps its own time budget.
BATCH_FILES = 16
BATCH_BYTES = 256 << 10


class Pool:
    """Parser workers, started ahead of the work (they load while the tree is listed) and
    ended with the `with` block, whatever way it ends."""

    def __init__(self, jobs: int, limits: Limits = Limits(), eager: bool = True) -> None:
        self.limits = limits
        self.jobs = max(1, jobs)
        # The first worker now (unless the work will likely all come from the parse cache);
        # more once the work is known.
        self.workers: list[_Worker] = [_first_worker(limits)] if eager or _early else []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Every result is in (or no longer wanted) and a worker holds nothing to save: killed
        # at once rather than waited for while its interpreter tears down.
        for w in self.workers:
            w.kill()
        self.workers = []

    def _replace(self, i: int) -> None:
        self.workers[i].kill()
        self.workers[i] = _Worker(self.limits)

    def run(self, tasks: Iterable[Task], paths: frozenset[str], count: int,
            seconds_total: float | None = None, most: int | None = None) -> Iterator[FileResult]:
        """Analyze `count` files, yielding results in completion order, within
        `seconds_total` (default: the limits') and with `most` workers at most (default: the
        pool's jobs). A pool can run one scan after another (see `Pools`, `history`): its
        workers are kept, and get each scan's file list."""
        if count <= 0:
            return
        self._keep_sound()
        try:
            yield from self._run(tasks, paths, count, seconds_total, most or self.jobs)
        finally:
            self._keep_sound()

    def _keep_sound(self) -> None:
        """Only idle, living workers stay for the next scan: one with files still in hand (a
        scan given up midway, its budget spent) or dead is ended."""
        keep = []
        for w in self.workers:
            if w.batch or w.proc.poll() is not None:
                w.kill()
            else:
                keep.append(w)
        self.workers[:] = keep

    def _run(self, tasks: Iterable[Task], paths: frozenset[str], count: int,
             seconds_total: float | None, jobs: int) -> Iterator[FileResult]:
        limits, workers = self.limits, self.workers
        most = min(jobs, count)
        queue: deque[Task] = deque()
        source = iter(tasks)
        budget_end = time.monotonic() + (limits.seconds_total if seconds_total is None
                                         else seconds_total)
        hard = limits.seconds_per_file + limits.grace_seconds

        def refill() -> None:
            while True:
                if not workers and not queue:  # a first worker only once there is work for it
                    first = next(source, None)
                    if first is None:
                        return
                    queue.append(first)
                while len(queue) < 2 * BATCH_FILES * len(workers):
                    nxt = next(source, None)
                    if nxt is None:
                        return
                    queue.append(nxt)
                # More work than the workers can take: another one, up to `most`. (Files
                # the parse cache answers never reach the queue: nothing to start for them.)
                if len(workers) >= most:
                    return
                workers.append(_Worker(limits))

        def give(w: _Worker, now: float) -> None:
            """A batch of small files (or one large one) for an idle worker: fewer than
            BATCH_FILES, fewer than BATCH_BYTES, and never more than its share of the queue."""
            share = max(1, min(BATCH_FILES, len(queue) // max(1, len(workers))))
            size = 0
            while queue and len(w.batch) < share:
                task = queue[0]
                if w.batch and size + len(task[1]) > BATCH_BYTES:
                    break
                size += len(task[1])
                w.batch.append(queue.popleft())
            w.started, w.deadline = now, now + hard
            w.conn.send(list(w.batch))

        def requeue(w: _Worker) -> None:
            """The files of a replaced worker's batch it did not start: to the next worker."""
            queue.extendleft(reversed(w.batch))
            w.batch.clear()

        while True:
            refill()
            now = time.monotonic()
            if now >= budget_end:
                yield from self._out_of_budget(queue, source)
                return
            for w in workers:
                if w.loaded and not w.batch and queue:
                    if w.paths is not paths:  # a worker kept from the previous scan
                        w.conn.send(paths)
                        w.paths = paths
                    give(w, now)
            busy = [w for w in workers if w.batch]
            booting = [w for w in workers if not w.loaded]
            if not busy and not queue:
                return
            waits = [w.deadline for w in busy] + [w.booted + STARTUP_SECONDS for w in booting]
            timeout = max(0.0, min([*waits, budget_end]) - now)
            ready = wait([w.conn for w in busy + booting], timeout=timeout)
            for w in booting:
                if w.conn in ready:
                    self._loaded(w, paths)
                elif time.monotonic() >= w.booted + STARTUP_SECONDS:
                    raise RuntimeError("a parser worker did not start within "
                                       f"{STARTUP_SECONDS:g}s")
            now = time.monotonic()
            for i, w in enumerate(workers):
                if not w.batch:
                    continue
                path, _, ids = w.batch[0]
                if w.conn in ready:
                    try:
                        result, recycle = w.conn.recv()
                    except (EOFError, OSError):
                        w.batch.popleft()
                        yield failed(path, ids, self._crash_reason(w, now))
                        requeue(w)
                        self._replace(i)
                        continue
                    w.batch.popleft()
                    w.started, w.deadline = now, now + hard  # the next file's budget
                    if recycle:
                        requeue(w)
                        self._replace(i)
                    yield result
                elif now >= w.deadline:
                    w.batch.popleft()
                    yield failed(path, ids, f"took longer than "
                                 f"{limits.seconds_per_file:g}s (killed)")
                    requeue(w)
                    self._replace(i)

    def _loaded(self, w: _Worker, paths: frozenset[str]) -> None:
        try:
            status, message = w.conn.recv()
        except (EOFError, OSError):
            raise RuntimeError(f"a parser worker could not start ({w.why_not_started()})") \
                from None
        if status != "loaded":
            raise UsageError(f"the detectors could not be loaded: {message}")
        w.conn.send(paths)
        w.paths = paths
        w.loaded = True

    def _crash_reason(self, w: _Worker, now: float) -> str:
        try:
            code = w.proc.wait(1)
        except subprocess.TimeoutExpired:
            code = None
        if now - w.started >= self.limits.seconds_per_file:
            # the alarm landed in native code (Go aborts on it): a timeout
            return f"took longer than {self.limits.seconds_per_file:g}s (killed)"
        if code and code < 0:
            return f"the parser crashed (signal {-code}) (skipped)"
        return "the parser crashed (skipped)"

    def _out_of_budget(self, queue: deque[Task], rest: Iterator[Task]) -> Iterator[FileResult]:
        why = (f"not analysed: the scan used up its {self.limits.seconds_total:g}s budget "
               "(raise it with --scan-timeout)")
        for w in self.workers:
            if w.batch:
                for path, _, ids in w.batch:
                    yield failed(path, ids, why)
                w.kill()
                w.batch.clear()
        for path, _, ids in [*queue, *rest]:
            yield failed(path, ids, why)


class Pools:
    """Pools lent to one scan at a time and kept between scans: an org run's threads each
    borrow one for a repository, so a worker interpreter (and its loaded detectors) serves
    repository after repository instead of starting for each. Every file keeps its own time
    budget, every worker its memory cap, every scan its own overall budget
    (`Pool.run(seconds_total=)`); a worker that fails is replaced as in any scan."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._idle: list[Pool] = []
        self._every: list[Pool] = []
        self._lock = threading.Lock()

    @contextmanager
    def lend(self) -> Iterator[Pool]:
        with self._lock:
            lent = self._idle.pop() if self._idle else None
            if lent is None:
                lent = Pool(1, self.limits, eager=False)
                self._every.append(lent)
        try:
            yield lent
        finally:
            with self._lock:
                self._idle.append(lent)

    def close(self) -> None:
        with self._lock:
            for p in self._every:
                p.close()
            self._every, self._idle = [], []

    def __enter__(self) -> Pools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_inline(tasks: Iterable[Task], paths: frozenset[str]) -> Iterator[FileResult]:
    """The same analysis in this process: no isolation, for debugging and detector tests."""
    view = RepoView(paths)
    for path, data, ids in tasks:
        yield analyze(Document(path, data, view), registry.by_id(ids))


def run_isolated(tasks: Iterable[Task], paths: frozenset[str], jobs: int,
                 limits: Limits = Limits()) -> Iterator[FileResult]:
    """Analyze files in a pool of its own (tests and one-off callers)."""
    todo = list(tasks)
    with Pool(jobs, limits) as pool:
        yield from pool.run(todo, paths, len(todo))
