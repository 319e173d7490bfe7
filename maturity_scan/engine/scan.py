"""One repository scan: list files once, read each claimed file once, analyze it in the pool,
let detectors conclude, merge signals per kind."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from maturity_scan import config, gitsafe
from maturity_scan.engine import pool, registry
from maturity_scan.engine.analysis import FileResult, checked, group_by_detector
from maturity_scan.engine.merge import merge_signals
from maturity_scan.engine.source import FileEntry, FileTooLarge, Source
from maturity_scan.model import FileError, Signal
from maturity_scan.sdk.detector import Detector, RepoContext, conclude
from maturity_scan.sdk.document import RepoView
from maturity_scan.sdk.globs import compile_globs

DEFAULT_MAX_FILE_BYTES = config.MAX_FILE_BYTES


@dataclass(frozen=True)
class ScanOptions:
    jobs: int = field(default_factory=pool.default_jobs)  # 0: in this process, no isolation
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    limits: pool.Limits = pool.Limits()
    exclude: tuple[str, ...] = ()  # path patterns never indexed


@dataclass(frozen=True)
class ScanStats:
    files_indexed: int
    files_read: int
    files_skipped_oversize: int
    bytes_read: int
    seconds: float

    def to_json(self) -> dict[str, float]:
        return {"files_indexed": self.files_indexed, "files_read": self.files_read,
                "files_skipped_oversize": self.files_skipped_oversize,
                "bytes_read": self.bytes_read, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class ScanResult:
    target: str
    revision: str | None
    signals: tuple[Signal, ...]
    errors: tuple[FileError, ...]
    stats: ScanStats

    def signal(self, kind: str) -> Signal | None:
        return next((s for s in self.signals if s.kind == kind), None)


def _size_text(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB"


def _conclude_all(dets: Sequence[Detector], found: Mapping[str, list[Signal]],
                  ctx: RepoContext) -> tuple[list[Signal], list[FileError]]:
    """`conclude` of each concluding detector, with what its `analyze` found."""
    concluded: list[Signal] = []
    errors: list[FileError] = []
    for det in dets:
        try:
            concluded += [checked(det, s) for s in conclude(det, found.get(det.id, []), ctx)]
        except Exception as e:  # a detector bug must not end the scan
            errors.append(FileError(".", det.id, f"detector failed ({type(e).__name__})"))
    return concluded, errors


SMALL_SCAN = 200  # claimed files below which one worker beats starting a pool


def scan_source(source: Source, options: ScanOptions | None = None,
                detectors: Sequence[Detector] | None = None) -> ScanResult:
    options = options or ScanOptions()
    # The first worker loads the detectors while the tree is listed.
    with pool.Pool(options.jobs, options.limits) if options.jobs > 0 else nullcontext() as workers:
        return _scan(source, options, detectors, workers)


def _scan(source: Source, options: ScanOptions, detectors: Sequence[Detector] | None,
          workers: pool.Pool | None) -> ScanResult:
    dets = list(detectors if detectors is not None else registry.all_detectors())
    groups = registry.partition(dets)
    start = time.monotonic()
    excluded = compile_globs(options.exclude)
    entries: list[FileEntry] = [e for e in source.files() if not excluded.match(e.path)]
    paths = frozenset(e.path for e in entries)
    matchers = [(d.id, compile_globs(tuple(d.patterns))) for d in dets]

    errors: list[FileError] = list(getattr(source, "errors", ()))
    claimed: list[tuple[FileEntry, tuple[str, ...]]] = []
    oversize = 0
    for entry in entries:
        ids = tuple(det_id for det_id, rx in matchers if rx.match(entry.path))
        if not ids:
            continue
        if entry.size > options.max_file_bytes:
            oversize += 1
            errors.append(_oversize(entry.path, ids, entry.size, options.max_file_bytes))
            continue
        claimed.append((entry, ids))

    read = {"files": 0, "bytes": 0}

    def tasks() -> Iterator[pool.Task]:
        for entry, ids in claimed:
            try:
                data = source.read(entry.path, limit=options.max_file_bytes)
            except FileTooLarge:  # it grew since it was listed
                errors.append(FileError(entry.path, ", ".join(ids), "grew past the "
                                        f"{_size_text(options.max_file_bytes)} limit while "
                                        "read (skipped)"))
                continue
            except (OSError, KeyError, ValueError) as e:
                errors.append(FileError(entry.path, ", ".join(ids),
                                        f"could not be read ({type(e).__name__})"))
                continue
            read["files"] += 1
            read["bytes"] += len(data)
            yield entry.path, data, ids

    view = RepoView(paths)
    ctx = RepoContext(view, source.repo(), source.revision)
    # Detectors that read only git history (no file patterns) run while the files are parsed,
    # on their own Repo object: gitpython's object readers are not shared between threads. A
    # daemon thread: ^C ends the command even while git is stuck.
    background: dict[str, tuple[list[Signal], list[FileError]]] = {}
    thread = None
    if groups.history and ctx.git is not None:
        own = RepoContext(view, gitsafe.open_repo(Path(ctx.git.git_dir)), source.revision)
        thread = threading.Thread(
            target=lambda: background.setdefault("done", _conclude_all(groups.history, {}, own)),
            name="history", daemon=True)
        thread.start()

    if workers is None:
        results = list(pool.run_inline(tasks(), paths))
    else:
        if len(claimed) < SMALL_SCAN:
            workers.jobs = 1
        results = list(workers.run(tasks(), paths, len(claimed)))
    for r in results:
        errors.extend(r.errors)
    found = group_by_detector(results)
    concluded = [s for det in groups.file for s in found.get(det.id, [])]  # they stand as found
    more, failures = _conclude_all(
        groups.concluding + (groups.history if thread is None else ()), found, ctx)
    concluded += more
    if thread is not None:
        thread.join()
        more, more_failures = background.get("done", ([], [FileError(
            ".", "git_history", "history could not be read (skipped)")]))
        concluded += more
        failures += more_failures
    errors += failures
    signals = merge_signals(concluded, registry.kind_specs(dets))
    stats = ScanStats(len(entries), read["files"], oversize, read["bytes"],
                      time.monotonic() - start)
    return ScanResult(source.description, source.revision, tuple(signals),
                      tuple(sorted(set(errors))), stats)


def _oversize(path: str, ids: tuple[str, ...], size: int, limit: int) -> FileError:
    return FileError(path, ", ".join(ids),
                     f"{_size_text(size)} exceeds the {_size_text(limit)} limit (skipped)")
