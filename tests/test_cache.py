"""The parse cache (engine.cache): what a detector made of a blob is reused while the blob, the
detector's version, the tool and the repository's answers to the detector's questions stay the
same; anything wrong with the cache is a miss, never an error."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maturity_scan.engine import cache, registry
from maturity_scan.engine.scan import ScanOptions, ScanResult, scan_source
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource
from maturity_scan.model import Evidence, Signal, kind
from maturity_scan.sdk.document import Document
from tests import gitrepo


class Counting:
    """A detector that notes every file it analyses (in this process: scans run with -j 0)."""

    id = "counting"
    description = "counts its calls"
    kinds = {"yaml_file": kind("a YAML file", names="set", has_sibling="flag")}
    patterns = ("*.yaml",)

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.seen: list[str] = []

    def analyze(self, doc: Document) -> Iterator[Signal]:
        self.seen.append(doc.path)
        data = doc.yaml
        if not data:
            return
        sibling = doc.repo.exists(doc.path + ".lock")
        yield Signal("yaml_file", (Evidence(doc.path, 1, f"name {data.get('name')}",
                                            frozenset({"names"})),),
                     {"names": [str(data.get("name"))], "has_sibling": sibling})


@pytest.fixture
def det(monkeypatch: pytest.MonkeyPatch) -> Counting:
    d = Counting()
    monkeypatch.setattr(registry, "all_detectors", lambda: (d,))
    return d


def scan(root: Path, **opts: Any) -> ScanResult:
    return scan_source(WorkTreeSource(root), ScanOptions(jobs=0, **opts))


def tree(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in ("a", "b", "c"):
        (root / f"{name}.yaml").write_text(f"name: {name}\n")
    return root


def entries(cache_home: Path) -> int:
    with cache.ParseCache(cache_home / "maturity-scan") as store:
        return store.entries()


def test_a_rescan_of_an_unchanged_tree_parses_nothing(tmp_path: Path, det: Counting) -> None:
    root = tree(tmp_path)
    first = scan(root)
    assert sorted(det.seen) == ["a.yaml", "b.yaml", "c.yaml"]
    det.seen.clear()
    second = scan(root)
    assert det.seen == []
    assert second.signals == first.signals and second.errors == first.errors
    assert second.stats.files_read == first.stats.files_read == 3
    assert second.signal("yaml_file").facts["names"] == ["a", "b", "c"]  # type: ignore[union-attr]


def test_a_changed_blob_is_parsed_again_and_only_it(tmp_path: Path, det: Counting) -> None:
    root = tree(tmp_path)
    scan(root)
    det.seen.clear()
    (root / "b.yaml").write_text("name: bee\n")
    result = scan(root)
    assert det.seen == ["b.yaml"]
    assert result.signal("yaml_file").facts["names"] == ["a", "bee", "c"]  # type: ignore[union-attr]


def test_a_new_detector_version_or_tool_version_parses_again(
        tmp_path: Path, det: Counting, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path)
    scan(root)
    det.seen.clear()
    det.version = "2"
    scan(root)
    assert len(det.seen) == 3
    det.seen.clear()
    scan(root)
    assert det.seen == []  # version 2 is cached now
    monkeypatch.setattr(cache, "tool_fingerprint", lambda: "9.9.9+other")
    scan(root)
    assert len(det.seen) == 3


def test_the_repository_answers_what_the_detector_asked(tmp_path: Path, det: Counting) -> None:
    """A detector that asked whether a sibling exists gets parsed again when the answer
    changes, although its own bytes did not."""
    root = tree(tmp_path)
    assert scan(root).signal("yaml_file").facts["has_sibling"] is False  # type: ignore[union-attr]
    det.seen.clear()
    (root / "a.yaml.lock").write_text("x")
    result = scan(root)
    assert det.seen == ["a.yaml"]
    assert result.signal("yaml_file").facts["has_sibling"] is True  # type: ignore[union-attr]


def test_parse_errors_are_cached_too(tmp_path: Path, det: Counting) -> None:
    (tmp_path / "bad.yaml").write_text("a: [\n")
    first = scan(tmp_path)
    assert [e.path for e in first.errors] == ["bad.yaml"]
    det.seen.clear()
    assert scan(tmp_path).errors == first.errors and det.seen == []


def test_a_corrupt_entry_is_a_miss_never_an_error(tmp_path: Path, det: Counting,
                                                  private_cache_dir: Path) -> None:
    root = tree(tmp_path / "repo")
    first = scan(root)
    for broken in ('{"x', '{"counting\\u00001": {"s": [{"kind": 3}]}}', '[1]'):
        db = sqlite3.connect(private_cache_dir / "maturity-scan" / cache.DB_NAME)
        with db:
            db.execute("UPDATE files SET value = ?", (broken,))
        db.close()
        det.seen.clear()
        assert scan(root).signals == first.signals
        assert len(det.seen) == 3
    det.seen.clear()
    assert scan(root).signals == first.signals and det.seen == []  # rewritten


def test_a_corrupt_database_is_set_aside(tmp_path: Path, det: Counting,
                                         private_cache_dir: Path) -> None:
    root = tree(tmp_path / "repo")
    first = scan(root)
    db = private_cache_dir / "maturity-scan" / cache.DB_NAME
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(b"not a database at all" * 100)
    assert scan(root).signals == first.signals
    det.seen.clear()
    assert scan(root).signals == first.signals and det.seen == []


def test_an_unusable_cache_folder_only_costs_time(tmp_path: Path, det: Counting,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    root = tree(tmp_path / "repo")
    assert scan(root).signal("yaml_file") is not None
    assert len(det.seen) == 3


def test_no_cache_neither_reads_nor_writes(tmp_path: Path, det: Counting,
                                           private_cache_dir: Path) -> None:
    root = tree(tmp_path)
    scan(root, cache=False)
    assert not (private_cache_dir / "maturity-scan").exists()
    scan(root)
    det.seen.clear()
    scan(root, cache=False)
    assert len(det.seen) == 3


def test_a_revision_reuses_the_working_tree_entries_unread(tmp_path: Path, det: Counting) -> None:
    """git's blob id and ours agree: a revision's unchanged files are not even read."""
    root = gitrepo.init(tmp_path / "repo")
    tree(root)
    rev = gitrepo.commit(root, "files", {"d.yaml": "name: d\n"})
    first = scan(root)
    det.seen.clear()
    result = scan_source(GitRevisionSource(root, rev), ScanOptions(jobs=0))
    assert det.seen == []
    assert result.signals == first.signals


def test_history_reuses_blobs_across_revisions(tmp_path: Path, det: Counting) -> None:
    root = gitrepo.init(tmp_path / "repo")
    tree(root)
    old = gitrepo.commit(root, "one", {})
    new = gitrepo.commit(root, "two", {"c.yaml": "name: sea\n"})
    scan_source(GitRevisionSource(root, old), ScanOptions(jobs=0))
    det.seen.clear()
    scan_source(GitRevisionSource(root, new), ScanOptions(jobs=0))
    assert det.seen == ["c.yaml"]


def test_the_cache_is_bounded(tmp_path: Path, det: Counting, private_cache_dir: Path) -> None:
    for i in range(300):
        (tmp_path / f"f{i}.yaml").write_text(f"name: {'x' * 2000}{i}\n")
    store = cache.ParseCache(private_cache_dir / "maturity-scan", max_bytes=200_000)
    with store:
        from maturity_scan.engine.analysis import Outcome

        for i in range(300):
            sig = Signal("yaml_file", (Evidence(f"f{i}.yaml", 1, "x" * 2000),), {})
            store.store(cache.blob_id(b"%d" % i), f"f{i}.yaml",
                        [Outcome("counting", [sig], None, ())], {"counting": "1"})
        store.flush()
        assert store.size() <= 200_000
        assert 0 < store.entries() < 300


def test_blob_ids_are_gits(tmp_path: Path) -> None:
    root = gitrepo.init(tmp_path)
    (root / "x").write_bytes(b"hello\n\0bytes")
    out = gitrepo.git(root, "hash-object", "x").strip()
    assert cache.blob_id(b"hello\n\0bytes") == out


# --- with real parser workers and the command line ---------------------------------------------

REPO = {
    ".github/workflows/ci.yml": "on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                                "    steps:\n      - run: pytest\n",
    "Dockerfile": "FROM python:3.12-slim\nUSER app\n",
    "main.tf": 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n',
    "README.md": "# x\n\n## Getting started\n\nrun it\n",
}


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_scan", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd="/")


def without_timings(out: str) -> dict[str, Any]:
    rep: dict[str, Any] = json.loads(out)
    rep["stats"].pop("seconds", None)
    rep.pop("scanned_at", None)  # when it ran
    return rep


def test_concurrent_scans_share_one_cache(tmp_path: Path, private_cache_dir: Path) -> None:
    root = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(root, "files", REPO)
    env = {**os.environ, "XDG_CACHE_HOME": str(private_cache_dir)}
    uncached = cli("scan", str(root), "--format", "json", "--no-cache", env=env)
    assert uncached.returncode == 0, uncached.stderr
    assert not (private_cache_dir / "maturity-scan").exists()  # --no-cache wrote nothing
    args = [sys.executable, "-m", "maturity_scan", "scan", str(root), "--format", "json"]
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd="/") for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert all(e == "" for _, e in outs)
    for out, _ in outs:
        assert without_timings(out) == without_timings(uncached.stdout)
    stored = entries(private_cache_dir)
    assert stored >= len(REPO)
    again = cli("scan", str(root), "--format", "json", env=env)
    assert without_timings(again.stdout) == without_timings(uncached.stdout)
    info = cli("cache", "info", env=env)
    assert f"entries: {stored}" in info.stdout
    cleared = cli("cache", "clear", env=env)
    assert cleared.returncode == 0 and "cleared" in cleared.stdout
    assert "entries: 0" in cli("cache", "info", env=env).stdout
