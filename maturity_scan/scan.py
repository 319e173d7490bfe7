"""One repository scan: list files once, read each claimed file once, analyze it in the pool,
let detectors conclude, merge signals per kind."""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from maturity_scan import gitsafe, pool, registry
from maturity_scan.analysis import FileResult, checked, group_by_detector
from maturity_scan.detector import Detector, RepoContext, conclude
from maturity_scan.document import RepoView
from maturity_scan.globs import compile_globs
from maturity_scan.merge import merge_signals
from maturity_scan.model import FileError, Signal
from maturity_scan.source import FileEntry, Source

DEFAULT_MAX_FILE_BYTES = 2 << 20


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
    concluded: list[Signal] = []
    errors: list[FileError] = []
    for det in dets:
        if not getattr(det, "conclude", None) and det.id not in found:
            continue
        try:
            concluded += [checked(det, s) for s in conclude(det, found.get(det.id, []), ctx)]
        except Exception as e:  # a detector bug must not end the scan
            errors.append(FileError(".", det.id, f"detector failed ({type(e).__name__})"))
    return concluded, errors


def scan_source(source: Source, options: ScanOptions | None = None,
                detectors: Sequence[Detector] | None = None) -> ScanResult:
    options = options or ScanOptions()
    dets = list(detectors if detectors is not None else registry.all_detectors())
    start = time.monotonic()
    excluded = compile_globs(options.exclude)
    entries: list[FileEntry] = [e for e in source.files() if not excluded.match(e.path)]
    paths = frozenset(e.path for e in entries)
    matchers = [(d.id, compile_globs(tuple(d.patterns))) for d in dets]

    errors: list[FileError] = []
    claimed: list[tuple[FileEntry, tuple[str, ...]]] = []
    oversize = 0
    for entry in entries:
        ids = tuple(det_id for det_id, rx in matchers if rx.match(entry.path))
        if not ids:
            continue
        if entry.size > options.max_file_bytes:
            oversize += 1
            errors.append(FileError(entry.path, ", ".join(ids),
                                    f"{_size_text(entry.size)} exceeds the "
                                    f"{_size_text(options.max_file_bytes)} limit (skipped)"))
            continue
        claimed.append((entry, ids))

    read = {"files": 0, "bytes": 0}

    def tasks() -> Iterator[pool.Task]:
        for entry, ids in claimed:
            try:
                data = source.read(entry.path)
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
    # on their own Repo object: gitpython's object readers are not shared between threads.
    history = [d for d in dets if not d.patterns and getattr(d, "conclude", None)]
    background, thread = None, ThreadPoolExecutor(max_workers=1)
    if history and ctx.git is not None:
        own = RepoContext(view, gitsafe.open_repo(Path(ctx.git.git_dir)), source.revision)
        background = thread.submit(_conclude_all, history, {}, own)

    jobs = min(options.jobs, len(claimed)) if options.jobs > 0 else 0
    results: list[FileResult] = list(pool.run(tasks(), paths, jobs, options.limits))
    for r in results:
        errors.extend(r.errors)
    found = group_by_detector(results)
    rest = [d for d in dets if background is None or d not in history]
    concluded, failures = _conclude_all(rest, found, ctx)
    if background is not None:
        more, more_failures = background.result()
        concluded += more
        failures += more_failures
    thread.shutdown()
    errors += failures
    signals = merge_signals(concluded, registry.kind_specs(dets))
    stats = ScanStats(len(entries), read["files"], oversize, read["bytes"],
                      time.monotonic() - start)
    return ScanResult(source.description, source.revision, tuple(signals),
                      tuple(sorted(set(errors))), stats)
