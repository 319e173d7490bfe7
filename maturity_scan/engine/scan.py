"""One repository scan: list files once, read each claimed file once, analyze it in the pool,
let detectors conclude, merge signals per kind."""
from __future__ import annotations

import dataclasses
import posixpath
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maturity_scan import config, gitsafe
from maturity_scan.engine import cache, helmscope, pool, progress, registry
from maturity_scan.engine.analysis import (FileResult, Outcome, assemble, checked,
                                           group_by_detector)
from maturity_scan.engine.claims import Claims
from maturity_scan.engine.merge import merge_signals
from maturity_scan.engine.source import FileEntry, FileTooLarge, Source
from maturity_scan.model import SCOPES, FileError, Signal
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
    include_scopes: tuple[str, ...] = ()  # set-aside scopes (model.SCOPES) that count again
    cache: bool = True  # reuse and keep what detectors made of each blob (engine.cache)
    cache_dir: Path | None = None  # default: $XDG_CACHE_HOME/maturity-scan
    progress: bool = False  # files parsed / total on stderr (the CLI: a terminal, no --quiet)
    components: bool = False  # keep the signals before merging, and the folders (ScanResult)
    # A pool kept by the caller (one of `pool.Pools`, lent for this scan), used and left open;
    # None: a pool of the scan's own. Its workers' limits are its own; `limits.seconds_total`
    # still bounds this scan.
    workers: pool.Pool | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ScanStats:
    files_indexed: int
    files_read: int
    files_skipped_oversize: int
    bytes_read: int
    seconds: float
    set_aside: Mapping[str, int] = field(default_factory=dict)  # scope -> files read

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "files_indexed": self.files_indexed, "files_read": self.files_read,
            "files_skipped_oversize": self.files_skipped_oversize,
            "bytes_read": self.bytes_read, "seconds": round(self.seconds, 3)}
        if self.set_aside:
            out["files_set_aside"] = dict(sorted(self.set_aside.items()))
        return out


@dataclass(frozen=True)
class ScanResult:
    target: str
    revision: str | None
    signals: tuple[Signal, ...]
    errors: tuple[FileError, ...]
    stats: ScanStats
    # With ScanOptions.components: every signal as its detector gave it (before one per kind),
    # and every listed folder, so that each component of a monorepo is judged on its own.
    parts: tuple[Signal, ...] = ()
    dirs: frozenset[str] = frozenset()

    def signal(self, kind: str) -> Signal | None:
        return next((s for s in self.signals if s.kind == kind), None)


# What is not the repository's own practice, by path (README, "What counts as evidence").
# Test data: a folder of these names anywhere (a top-level `fixtures/` included), or `data/` or
# `manifests/` (the resources tests apply to their cluster) directly inside a test folder, and
# what a Chainsaw / Kyverno CLI test applies (`.chainsaw-test/`, `.kyverno-test/`). Examples
# of use below the top level (`controllers/agent/example/`, `docs/examples/`) and an operator's
# sample resources (`config/samples/`, kubebuilder / operator-sdk) are set aside with them: they
# show users what to write, they are not what the repository runs (a top-level `examples/`
# keeps counting: it may be what an examples collection is made of).
# Vendored copies: a folder of these names anywhere (`vendor/` and other dependency folders
# are never listed at all, engine.source), and a chart's subchart
# `<chart>/charts/<dep>/` that `<chart>/Chart.yaml` (or `requirements.yaml`) lists as a
# dependency fetched from a repository (not `file://`).
TEST_DATA_DIRS = frozenset({"fixtures", "__fixtures__", "testdata", "test-data", "test_data",
                            "__snapshots__"})
TEST_DIRS = frozenset({"test", "tests", "spec", "__tests__"})
TEST_INPUT_DIRS = frozenset({"data", "manifests"})  # test data when directly in a TEST_DIRS
# Kubernetes test harnesses: the resources beside a Chainsaw / Kyverno CLI test definition are
# test data, the definition itself is a test (unit_tests)
TEST_HARNESS_DIRS = frozenset({".chainsaw-test", ".kyverno-test", ".chainsaw"})
TEST_DEFINITIONS = frozenset({"chainsaw-test.yaml", "chainsaw-test.yml", "kyverno-test.yaml",
                              "kyverno-test.yml"})
VENDORED_DIRS = frozenset({"third_party", "third-party", "thirdparty", "vendored", "_vendor"})
EXAMPLE_DIRS = frozenset({"example", "examples"})  # below the top level only


def path_scope(path: str, vendored_charts: frozenset[str] = frozenset()) -> str | None:
    """"test", "vendored" or None (the repository's own) for a repository-relative path;
    `vendored_charts` are subchart folders (`deploy/app/charts/redis`)."""
    parts = path.split("/")[:-1]
    name = path.rsplit("/", 1)[-1]
    for i, part in enumerate(parts):
        if (part in TEST_HARNESS_DIRS or part.startswith((".chainsaw-test-", ".kyverno-test-"))) \
                and name not in TEST_DEFINITIONS:  # also a renamed `.chainsaw-test-old/`
            return "test"
        if part in TEST_DATA_DIRS or \
                (part in TEST_INPUT_DIRS and i and parts[i - 1] in TEST_DIRS):
            return "test"
        if i and (part in EXAMPLE_DIRS or part == "samples" and parts[i - 1] == "config"):
            return "test"
        if part in VENDORED_DIRS:
            return "vendored"
        if part == "charts" and i + 1 < len(parts) and \
                "/".join(parts[:i + 2]) in vendored_charts:
            return "vendored"
    return None


_DEP_KEY = re.compile(r"^\s*(?:-\s+)?(name|alias|repository)\s*:\s*[\"']?([^\"'#\s]*)")
_FLOW_ENTRY = re.compile(r"\{([^{}]*)\}")  # `- {name: redis, repository: https://…}`
_FLOW_KEY = re.compile(r"(?:^|,)\s*(name|alias|repository)\s*:\s*[\"']?([^\"',\s]*)")


def chart_dependencies(text: str) -> set[str]:
    """Names (and aliases) of the dependencies a Chart.yaml / requirements.yaml lists with a
    remote `repository:`, read line by line (no YAML is parsed in the main process)."""
    names: set[str] = set()
    entry: dict[str, str] = {}
    inside = False

    def flush() -> None:
        repo = entry.get("repository", "")
        if repo and not repo.startswith("file://"):
            names.update(v for k, v in entry.items() if k in ("name", "alias") and v)
        entry.clear()

    for line in text.splitlines()[:5000]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            flush()
            key, _, rest = line.partition(":")
            inside = key.strip() == "dependencies"
            if not (inside and rest.strip().startswith("[")):
                continue
            line = rest  # flow style: `dependencies: [{name: redis, …}, …]` on this line
        if not inside:
            continue
        flows = _FLOW_ENTRY.findall(line)
        if flows:  # one flow mapping per dependency
            for body in flows:
                flush()
                entry.update(_FLOW_KEY.findall(body))
            continue
        if line.lstrip().startswith("-"):
            flush()
        m = _DEP_KEY.match(line)
        if m:
            entry[m.group(1)] = m.group(2)
    flush()
    return names


def _vendored_charts(source: Source, paths: frozenset[str]) -> frozenset[str]:
    """Subchart folders `<chart>/charts/<dep>` whose parent chart lists `<dep>` as a remote
    dependency."""
    out: set[str] = set()
    for p in paths:
        parts = p.split("/")
        if len(parts) < 3 or parts[-1] != "Chart.yaml" or parts[-3] != "charts":
            continue
        parent = "/".join(parts[:-3])
        deps: set[str] = set()
        for name in ("Chart.yaml", "requirements.yaml"):
            meta = posixpath.join(parent, name)
            if meta in paths:
                try:
                    deps |= chart_dependencies(source.read(meta, limit=1 << 20)
                                               .decode("utf-8", "replace"))
                except (OSError, KeyError, ValueError, FileTooLarge):
                    continue
        if parts[-2] in deps:
            out.add("/".join(parts[:-1]))
    return frozenset(out)


def _scoped(sig: Signal, scope_of: Mapping[str, str | None], default: str | None) -> Signal:
    """The signal with each piece of evidence scoped by its path (`default` for a path of the
    repository's own in a signal concluded from set-aside files)."""
    if not any(scope_of.get(e.path) or default for e in sig.evidence):
        return sig
    return dataclasses.replace(sig, evidence=tuple(
        dataclasses.replace(e, scope=e.scope or scope_of.get(e.path) or default)
        for e in sig.evidence))


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
    # The first worker loads the detectors while the tree is listed; not for a revision with the
    # cache on (history, diff: its unchanged blobs are answered unread, often all of them).
    eager = not (options.cache and hasattr(source, "blob_id"))
    if options.jobs > 0 and options.workers is not None:
        return _scan(source, options, detectors, options.workers)
    with pool.Pool(options.jobs, options.limits, eager) if options.jobs > 0 \
            else nullcontext() as workers:
        return _scan(source, options, detectors, workers)


def _scan(source: Source, options: ScanOptions, detectors: Sequence[Detector] | None,
          workers: pool.Pool | None) -> ScanResult:
    dets = list(detectors if detectors is not None else registry.all_detectors())
    groups = registry.partition(dets)
    start = time.monotonic()
    excluded = compile_globs(options.exclude)
    entries: list[FileEntry] = [e for e in source.files() if not excluded.match(e.path)]
    paths = frozenset(e.path for e in entries)
    claims = Claims.shared(dets)  # which detectors claim a path (answers kept)

    errors: list[FileError] = list(source.errors)
    claimed: list[tuple[FileEntry, tuple[str, ...]]] = []
    oversize = 0
    counted = set(options.include_scopes)
    vendored = _vendored_charts(source, paths) if "vendored" not in counted else frozenset()
    scope_of: dict[str, str | None] = {}
    for p in paths:
        sc = path_scope(p, vendored)
        if sc and sc not in counted:
            scope_of[p] = sc
    # Chart templates off by default (engine.helmscope): decided in tasks() as each claimed
    # template is read or its guard found in the cache, before its file is counted set aside.
    helm = None if "disabled" in counted else helmscope.DefaultsOff(
        frozenset(p for p in paths if p not in scope_of),
        lambda p, n: source.read(p, limit=n), errors)
    for entry in entries:
        ids = claims(entry.path)
        if not ids:
            continue
        if entry.size > options.max_file_bytes:
            oversize += 1
            errors.append(_oversize(entry.path, ids, entry.size, options.max_file_bytes))
            continue
        claimed.append((entry, ids))

    read = {"files": 0, "bytes": 0}
    set_aside: Counter[str] = Counter()
    view = RepoView(paths)
    store = cache.ParseCache(options.cache_dir) if options.cache and claimed else None
    versions = {d.id: cache.detector_version(d) for d in dets}
    known_blob = getattr(source, "blob_id", lambda path: None)
    blobs: dict[str, str] = {}  # path -> blob id, of the files sent to be parsed
    cached: dict[str, dict[str, Outcome]] = {}  # path -> outcomes found in the cache
    claim_ids: dict[str, tuple[str, ...]] = {}

    shown = progress.Progress("files parsed", len(claimed), enabled=options.progress,
                              after=progress.scan_delay())

    def lookup(blob: str, path: str, ids: tuple[str, ...]) -> dict[str, Outcome]:
        assert store is not None
        hits = store.lookup(blob, path, {i: versions[i] for i in ids}, view)
        return {i: hits[i] for i in ids if i in hits}  # in claim order

    def cached_guard(blob: str, path: str) -> Any:
        assert store is not None
        try:
            return helmscope.guard_from_note(store.note(blob, path, helmscope.GUARD_NOTE))
        except ValueError:  # none kept, or not ours: the file is read
            return cache.NO_NOTE

    def tasks() -> Iterator[pool.Task]:
        for entry, ids in claimed:
            hits: dict[str, Outcome] = {}
            chart = helm.chart(entry.path) if helm is not None and entry.path not in scope_of \
                else None
            blob = known_blob(entry.path) if store is not None else None
            if blob is not None:  # a git object: not even read when it is cached
                hits = lookup(blob, entry.path, ids)
                guard = None if chart is None else cached_guard(blob, entry.path)
                if len(hits) == len(ids) and guard is not cache.NO_NOTE:
                    if chart is not None and helm is not None and helm.off(chart, guard):
                        scope_of[entry.path] = "disabled"
                    cached[entry.path] = hits
                    shown.advance()
                    read["files"] += 1  # the same stats as a scan that read it
                    read["bytes"] += entry.size
                    if entry.path in scope_of:
                        set_aside[scope_of[entry.path]] += 1
                    continue
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
            if store is not None and blob is None:
                blob = cache.blob_id(data)
                hits = lookup(blob, entry.path, ids)
            if chart is not None:
                guard = helmscope.template_guard(data.decode("utf-8", "replace"))
                if store is not None and blob is not None:
                    store.keep_note(blob, entry.path, helmscope.GUARD_NOTE,
                                    helmscope.guard_note(guard))
                if helm is not None and helm.off(chart, guard):
                    scope_of[entry.path] = "disabled"
            if entry.path in scope_of:
                set_aside[scope_of[entry.path]] += 1
            if hits:
                cached[entry.path] = hits
            missing = tuple(i for i in ids if i not in hits)
            if not missing:
                shown.advance()
                continue
            if blob is not None:
                blobs[entry.path] = blob
            claim_ids[entry.path] = ids
            yield entry.path, data, missing

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
        fresh = pool.run_inline(tasks(), paths)
    else:
        fresh = workers.run(tasks(), paths, len(claimed), options.limits.seconds_total,
                            most=1 if len(claimed) < SMALL_SCAN else None)
    try:
        results = []
        for r in fresh:
            results.append(_with_cache(r, store, blobs, cached, claim_ids, versions))
            shown.advance()
    finally:
        shown.close()
        if store is not None:
            store.close()
    for path, hits in cached.items():  # answered by the cache alone
        whole = assemble(path, list(hits.values()))
        whole.outcomes = []
        results.append(whole)
    results.sort(key=lambda r: r.path)  # the same order, parsed or cached
    for r in results:
        errors.extend(r.errors)
    found = group_by_detector(results)
    concluded = [s for det in groups.file for s in found.get(det.id, [])]  # they stand as found
    # Concluding detectors judge the repository's own files by themselves (with a view that
    # lists only those), and the set-aside files apart, each scope on its own.
    own_found: dict[str, list[Signal]] = {}
    aside: dict[str, dict[str, list[Signal]]] = {sc: {} for sc in SCOPES}
    for det_id, sigs in found.items():
        for sig in sigs:
            scopes = {scope_of.get(e.path) for e in sig.evidence}
            sc = scopes.pop() if len(scopes) == 1 else None
            (aside[sc] if sc else own_found).setdefault(det_id, []).append(sig)
    own_ctx = ctx if not scope_of else dataclasses.replace(
        ctx, view=RepoView(frozenset(p for p in paths if p not in scope_of)))
    more, failures = _conclude_all(
        groups.concluding + (groups.history if thread is None else ()), own_found, own_ctx)
    concluded += more
    for sc, sc_found in aside.items():
        dets_aside = [d for d in groups.concluding if d.id in sc_found]
        if dets_aside:
            more, _ = _conclude_all(dets_aside, sc_found, ctx)
            concluded += [_scoped(s, scope_of, sc) for s in more]
    if scope_of:
        concluded = [_scoped(s, scope_of, None) for s in concluded]
    if thread is not None:
        thread.join()
        more, more_failures = background.get("done", ([], [FileError(
            ".", "git_history", "history could not be read (skipped)")]))
        concluded += more
        failures += more_failures
    errors += failures
    signals = merge_signals(concluded, registry.kind_specs(dets))
    stats = ScanStats(len(entries), read["files"], oversize, read["bytes"],
                      time.monotonic() - start, dict(set_aside))
    return ScanResult(source.description, source.revision, tuple(signals),
                      tuple(sorted(set(errors))), stats,
                      tuple(concluded) if options.components else (),
                      (view.dirs | {"."}) if options.components else frozenset())


def _with_cache(r: FileResult, store: cache.ParseCache | None, blobs: Mapping[str, str],
                cached: dict[str, dict[str, Outcome]], claim_ids: Mapping[str, tuple[str, ...]],
                versions: Mapping[str, str]) -> FileResult:
    """A parsed file's result: kept in the cache, and joined with what the cache held of it."""
    blob = blobs.get(r.path)
    if store is not None and blob is not None and r.outcomes:
        store.store(blob, r.path, r.outcomes, versions)
    hits = cached.pop(r.path, None)
    if not hits:
        joined = r
    elif r.outcomes:  # every claiming detector, in claim order
        by_id = {**hits, **{o.detector: o for o in r.outcomes}}
        joined = assemble(r.path, [by_id[i] for i in claim_ids[r.path] if i in by_id])
    else:
        joined = assemble(r.path, list(hits.values()))  # the rest failed (time, memory, crash)
        joined.errors += r.errors
    joined.outcomes = []  # cached already; `found` and `errors` are what the scan keeps
    return joined


def _oversize(path: str, ids: tuple[str, ...], size: int, limit: int) -> FileError:
    return FileError(path, ", ".join(ids),
                     f"{_size_text(size)} exceeds the {_size_text(limit)} limit (skipped)")
