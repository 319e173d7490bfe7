"""The parse cache: what each detector made of each file, content-addressed, shared by runs.

An entry is keyed by the file's git blob id (sha1 of `blob <size>\\0<bytes>`, so a working tree
and a revision agree), its path (evidence names it, detectors read it), the detector's id and
`version`, and the tool's fingerprint (version and the installed code). It holds the detector's
signals, its error message, and the questions it asked of the rest of the repository with their
answers (`RecordingView`): it is used only where the same questions get the same answers.

Storage is one SQLite database in WAL mode under `$XDG_CACHE_HOME/maturity-scan` (default
`~/.cache/maturity-scan`): safe for concurrent runs, bounded in size (least recently used entries
go first). Values are JSON, never pickle: a tampered cache can at worst give wrong results,
never run code. Whatever goes wrong with it (a corrupt entry, a locked or unreadable database, a
full disk) makes a miss or a skipped write, never an error: the cache only ever saves time.
Results are computed in the parser workers; only the parent reads and writes the cache.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from maturity_scan import __version__
from maturity_scan.engine.analysis import Outcome
from maturity_scan.model import Evidence, Signal
from maturity_scan.sdk.document import RepoView

FORMAT = "2"  # of the values: bump when their encoding changes
DB_NAME = "parse-cache.sqlite3"
PACKS_DIR = "packs"  # validated rule packs, kept by assess.packs.PackStore
DEFAULT_MAX_BYTES = 256 << 20
TOUCH_SECONDS = 3600  # LRU resolution: a hit rewrites its entry's time at most this often
_MAX_PATTERN = 512  # a cached glob longer than this is not ours: a miss
# Rows already decoded in this process, by file key: (the row's text, its object, its outcomes
# decoded so far by "<detector>\0<version>"). `history` and org runs read the same rows scan
# after scan; a row whose text changed is decoded again. Cleared when it grows past MEMO_ROWS.
MEMO_ROWS = 50_000
_MEMO: dict[str, tuple[str, dict[str, Any], dict[str, Outcome]]] = {}
NO_NOTE = object()  # ParseCache.note: the row holds none of that name


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "maturity-scan"


def blob_id(data: bytes) -> str:
    """git's object id of a blob with these bytes."""
    h = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    h.update(data)
    return h.hexdigest()


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The tool's version and, for a development install, the code itself (names, sizes and
    times of its modules): editing a detector or the SDK invalidates what it cached."""
    import importlib.util

    h = hashlib.sha256(f"{__version__}\0{FORMAT}".encode())
    roots = [Path(__file__).resolve().parent.parent]
    spec = importlib.util.find_spec("maturity_scan.detectors")
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p).resolve() for p in spec.submodule_search_locations]
    for root in dict.fromkeys(roots):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if name.endswith(".py"):
                    try:
                        st = os.stat(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    h.update(f"{dirpath}/{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return f"{__version__}+{h.hexdigest()[:16]}"


def detector_version(det: object) -> str:
    return str(getattr(det, "version", "1"))


# --- values ------------------------------------------------------------------------------------
# A file's row holds a JSON object: "<detector id>\0<version>" -> its outcome, an object with
# "s" (signals), "e" (error message) and "d" (questions asked), each left out when empty.

def _outcome_json(o: Outcome) -> dict[str, Any]:
    signals = []
    for s in o.signals:
        evidence = []
        for e in s.evidence:
            ev: dict[str, Any] = {}
            for f in dataclasses.fields(e):
                v = getattr(e, f.name)
                if v != f.default:
                    ev[f.name] = sorted(v) if isinstance(v, frozenset) else v
            evidence.append(ev)
        signals.append({"kind": s.kind, "evidence": evidence, "facts": dict(s.facts)})
    out: dict[str, Any] = {}
    if signals:
        out["s"] = signals
    if o.error is not None:
        out["e"] = o.error
    if o.deps:
        out["d"] = o.deps
    return out


def _decode(det_id: str, value: Any) -> Outcome:
    """The outcome stored in `value`; ValueError/TypeError/KeyError when it is not one of
    ours."""
    if not isinstance(value, dict):
        raise TypeError("not an outcome")
    if not value:  # most detectors find nothing in most files they claim
        return Outcome(det_id, [], None, ())
    signals = []
    for s in value.get("s", ()):
        evidence = tuple(Evidence(**{k: frozenset(v) if k == "supports" else v
                                     for k, v in e.items()}) for e in s["evidence"])
        if not isinstance(s["kind"], str) or not isinstance(s["facts"], dict):
            raise TypeError("not a signal")
        signals.append(Signal(s["kind"], evidence, s["facts"]))
    error = value.get("e")
    if error is not None and not isinstance(error, str):
        raise TypeError("not an error message")
    return Outcome(det_id, signals, error, tuple(tuple(d) for d in value.get("d", ())))


def _holds(deps: Iterable[Sequence[Any]], view: RepoView) -> bool:
    """Whether the repository answers the cached questions as it did."""
    for dep in deps:
        if dep[0] == "e":
            ok = view.exists(dep[1]) is dep[2]
        elif dep[0] == "d":
            ok = view.has_dir(dep[1]) is dep[2]
        elif dep[0] == "g":
            patterns = dep[1]
            if not all(isinstance(p, str) and len(p) <= _MAX_PATTERN for p in patterns):
                return False
            ok = view.glob(*patterns) == dep[2]
        else:
            return False
        if not ok:
            return False
    return True


# --- the store ---------------------------------------------------------------------------------

_SCHEMA = """
DROP TABLE IF EXISTS entries;
CREATE TABLE IF NOT EXISTS files (
    file TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_used ON files (used);
"""


class ParseCache:
    """One connection to the cache database (parent process only)."""

    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory or default_dir()
        self.path = self.directory / DB_NAME
        self.max_bytes = max_bytes
        self.tool = tool_fingerprint()
        self.hits = self.misses = 0
        self._rows: dict[str, dict[str, Any]] = {}  # file key -> its stored object, until stored
        self._pending: dict[str, str | None] = {}  # file key -> new value (None: delete it)
        self._touch: list[tuple[int, str]] = []
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except (sqlite3.Error, OSError):
            self._db = None  # no cache this run; never an error

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        try:
            return self._connect()
        except sqlite3.DatabaseError:
            # not a database (truncated, overwritten): set it aside and start afresh
            os.replace(self.path, self.path.with_suffix(".corrupt"))
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None,
                             check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _file_key(self, blob: str, path: str) -> str:
        return hashlib.sha256(f"{self.tool}\0{blob}\0{path}".encode(
            "utf-8", "surrogateescape")).hexdigest()[:40]

    def lookup(self, blob: str, path: str, detectors: Mapping[str, str],
               view: RepoView) -> dict[str, Outcome]:
        """The cached outcomes of `detectors` (id -> version) on this file that still hold."""
        if self._db is None:
            return {}
        key = self._file_key(blob, path)
        try:
            row = self._db.execute("SELECT value, used FROM files WHERE file = ?",
                                   (key,)).fetchone()
        except sqlite3.Error:
            row = None
        found: dict[str, Outcome] = {}
        if row is not None:
            try:
                memo = _MEMO.get(key)
                if memo is None or memo[0] != row[0]:
                    stored = json.loads(row[0])
                    if not isinstance(stored, dict):
                        raise TypeError("not a row of ours")
                    if len(_MEMO) >= MEMO_ROWS:
                        _MEMO.clear()
                    memo = _MEMO[key] = (row[0], stored, {})
                stored, decoded = memo[1], memo[2]
                for det_id, version in detectors.items():
                    dv = f"{det_id}\0{version}"
                    outcome = decoded.get(dv)
                    if outcome is None:
                        value = stored.get(dv)
                        if value is None:
                            continue
                        outcome = decoded[dv] = _decode(det_id, value)
                    if _holds(outcome.deps or (), view):
                        found[det_id] = outcome
                self._rows[key] = dict(stored)  # `store` adds to it; the memo keeps the row
                if isinstance(row[1], int) and row[1] < int(time.time()) - TOUCH_SECONDS:
                    self._touch.append((int(time.time()), key))
            except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                    RecursionError):
                self._pending[key] = None  # a corrupt entry: dropped, a miss
                _MEMO.pop(key, None)
                found = {}
        self.hits += len(found)
        self.misses += len(detectors) - len(found)
        return found

    def note(self, blob: str, path: str, name: str) -> Any:
        """A note kept with this file's row under `name` (NO_NOTE when none), as the latest
        `lookup` of the file found it; not checked: the caller decodes it, a bad one a miss."""
        return self._rows.get(self._file_key(blob, path), {}).get(name, NO_NOTE)

    def keep_note(self, blob: str, path: str, name: str, value: Any) -> None:
        """Keep a JSON value with this file's row (written with it, or on its own)."""
        if self._db is None:
            return
        key = self._file_key(blob, path)
        row = self._rows.setdefault(key, {})
        if row.get(name, NO_NOTE) == value:
            return
        row[name] = value
        try:
            self._pending[key] = json.dumps(row, separators=(",", ":"))
        except (TypeError, ValueError):
            return

    def store(self, blob: str, path: str, outcomes: Iterable[Outcome],
              versions: Mapping[str, str]) -> None:
        if self._db is None:
            return
        key = self._file_key(blob, path)
        stored = self._rows.pop(key, {})
        for o in outcomes:
            if o.deps is None or o.detector not in versions:
                continue
            stored[f"{o.detector}\0{versions[o.detector]}"] = _outcome_json(o)
        try:
            self._pending[key] = json.dumps(stored, separators=(",", ":"))
        except (TypeError, ValueError):
            return
        if len(self._pending) >= 500:
            self.flush()

    def flush(self) -> None:
        """Write what was stored and touched, in one transaction; then evict if over size."""
        if self._db is None or not (self._pending or self._touch):
            return
        pending, touch = self._pending, self._touch
        self._pending, self._touch = {}, []
        now = int(time.time())
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("DELETE FROM files WHERE file = ?",
                                     [(k,) for k, v in pending.items() if v is None])
                self._db.executemany(
                    "INSERT OR REPLACE INTO files (file, value, used) VALUES (?,?,?)",
                    [(k, v, now) for k, v in pending.items() if v is not None])
                self._db.executemany("UPDATE files SET used = ? WHERE file = ?", touch)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if any(v is not None for v in pending.values()):
                self._evict()
        except sqlite3.Error:
            pass  # locked for too long, disk full, read-only: the entries are not kept

    def size(self) -> int:
        if self._db is None:
            return 0
        page = self._db.execute("PRAGMA page_size").fetchone()[0]
        used = (self._db.execute("PRAGMA page_count").fetchone()[0]
                - self._db.execute("PRAGMA freelist_count").fetchone()[0])
        return int(page * used)

    def _evict(self) -> None:
        """Least recently used entries out until the database is under 80% of its bound."""
        assert self._db is not None
        total = self.size()
        if total <= self.max_bytes:
            return
        rows = int(self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        drop = rows - int(rows * (self.max_bytes * 0.8) / total)
        if drop > 0:
            self._db.execute("DELETE FROM files WHERE file IN (SELECT file FROM files "
                             "ORDER BY used LIMIT ?)", (drop,))
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def entries(self) -> int:
        if self._db is None:
            return 0
        try:
            return int(self._db.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        except sqlite3.Error:
            return 0

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None

    def __enter__(self) -> ParseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clear(directory: Path | None = None) -> int:
    """Remove the cache's files; the number of bytes freed."""
    directory = directory or default_dir()
    freed = 0
    names = (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME.replace(".sqlite3", ".corrupt"))
    # and the validated rule packs (assess.packs.PackStore)
    for p in [*(directory / name for name in names), *(directory / PACKS_DIR).glob("*.json")]:
        try:
            freed += p.lstat().st_size
            p.unlink()
        except OSError:  # gone already, or not ours to remove
            continue
    return freed
