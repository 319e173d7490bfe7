"""Org speed: parser workers kept for a whole run (engine.pool.Pools) without losing per-file
isolation or per-scan budgets; clones that give the parse cache their blob ids, so a re-run
after a push parses only the blobs that changed; parsing on a Dask worker in child processes
with the time and memory caps. Real repositories behind the loopback GitHub server."""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maturity_scan.engine import pool
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.org import github
from maturity_scan.org import run as org
from tests.github_server import GitHubServer
from tests.test_org import files_for
from tests.test_pool import DEEP_HCL, TF, big_hcl

BASE = "resources: [deployment.yaml]\n"
OVERLAY = "resources: [../../base]\n"


@pytest.fixture(name="server")
def loopback(tmp_path: Path) -> Iterator[GitHubServer]:
    """The loopback GitHub server (tests/github_server.py), its repositories' folder made."""
    with GitHubServer(tmp_path / "srv") as srv:
        srv.state.root.mkdir(parents=True, exist_ok=True)
        yield srv


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Every worker interpreter started and every file sent to a worker, in this process."""
    seen: dict[str, list[Any]] = {"workers": [], "parsed": []}
    start, run = pool._Worker.__init__, pool.Pool.run

    def started(self: pool._Worker, limits: pool.Limits) -> None:
        seen["workers"].append(limits)
        start(self, limits)

    def running(self: pool.Pool, tasks: Any, *args: Any, **kwargs: Any) -> Any:
        def sent() -> Any:
            for task in tasks:
                seen["parsed"].append(task[0])
                yield task
        return run(self, sent(), *args, **kwargs)

    monkeypatch.setattr(pool._Worker, "__init__", started)
    monkeypatch.setattr(pool.Pool, "run", running)
    return seen


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_lent_pool_keeps_its_worker_from_scan_to_scan(tmp_path: Path,
                                                       counted: dict[str, list[Any]]) -> None:
    a = write(tmp_path / "a", {"base/kustomization.yaml": BASE,
                               "overlays/prod/kustomization.yaml": OVERLAY, "ok.tf": TF})
    b = write(tmp_path / "b", {"overlays/prod/kustomization.yaml": OVERLAY, "ok.tf": TF})
    with pool.Pools() as pools:
        with pools.lend() as lent:
            first = scan_source(WorkTreeSource(a), ScanOptions(jobs=1, cache=False,
                                                               workers=lent))
        with pools.lend() as again:
            assert again is lent  # the same pool, its worker still up
            second = scan_source(WorkTreeSource(b), ScanOptions(jobs=1, cache=False,
                                                                workers=again))
        assert len(counted["workers"]) == 1  # one interpreter for both scans
    # each scan's own file list: b's overlay has no base in b
    assert first.signal("kustomize").facts["overlays"] == 1  # type: ignore[union-attr]
    assert second.signal("kustomize").facts["overlays"] == 0  # type: ignore[union-attr]
    assert not first.errors and not second.errors


def test_a_lent_pool_keeps_per_file_isolation_and_each_scans_budget(
        tmp_path: Path, counted: dict[str, list[Any]]) -> None:
    crash = write(tmp_path / "crash", {"deep.tf": DEEP_HCL, "ok.tf": TF})
    slow = write(tmp_path / "slow", {f"big{i}.tf": big_hcl(60_000) for i in range(3)})
    fine = write(tmp_path / "fine", {"ok.tf": TF, "two.tf": TF})
    with pool.Pools() as pools, pools.lend() as lent:
        crashed = scan_source(WorkTreeSource(crash), ScanOptions(jobs=1, cache=False,
                                                                 workers=lent))
        assert [(e.path, e.message) for e in crashed.errors] == [
            ("deep.tf", "the parser crashed (signal 6) (skipped)")]
        assert crashed.signal("terraform").facts["resources"] == 1  # type: ignore[union-attr]
        budget = pool.Limits(seconds_total=1.0)
        ran_out = scan_source(WorkTreeSource(slow), ScanOptions(
            jobs=1, cache=False, workers=lent, limits=budget, max_file_bytes=100 << 20))
        assert ran_out.errors and all("budget" in e.message or "longer" in e.message
                                      for e in ran_out.errors)
        after = scan_source(WorkTreeSource(fine), ScanOptions(jobs=1, cache=False,
                                                              workers=lent))
        assert not after.errors
        assert after.signal("terraform").facts["resources"] == 2  # type: ignore[union-attr]
        assert all(w.proc.poll() is None for w in lent.workers)
    assert all(w.proc.poll() is not None for w in lent.workers) or not lent.workers


def run_org(server: GitHubServer, tmp_path: Path, **settings: Any) -> dict[str, Any]:
    return org.run(org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache", workers=2,
                                   **settings),
                   github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                   github.Filters(), log=lambda s: None)


def test_an_org_run_keeps_one_worker_per_thread(server: GitHubServer, tmp_path: Path,
                                               counted: dict[str, list[Any]]) -> None:
    for i in range(6):
        server.add_repo("acme", f"svc-{i}", files_for(i))
    summary = run_org(server, tmp_path)
    assert [r["status"] for r in summary["repositories"]] == ["scanned"] * 6
    assert 1 <= len(counted["workers"]) <= 2  # not one per repository


def test_an_org_rerun_parses_only_the_blobs_that_changed(server: GitHubServer, tmp_path: Path,
                                                        counted: dict[str, list[Any]]) -> None:
    # (not svc-5: its Dockerfile is svc-0's blob at the same path in a repository without a
    # workflow, and the cache keeps one answer per blob and path, so the two would take turns)
    for i in (0, 3, 4):
        server.add_repo("acme", f"svc-{i}", files_for(i))
    first = run_org(server, tmp_path)
    assert {r["status"] for r in first["repositories"]} == {"scanned"}
    assert "README.md" in counted["parsed"] and "infra/main.tf" in counted["parsed"]
    levels = {r["repository"]: r["levels"] for r in first["repositories"]}

    # svc-0: its README changes; svc-3: only a file no detector claims (the head still moves)
    server.push("acme", "svc-0", {"README.md": files_for(0)["README.md"] + "\nMore.\n"})
    server.push("acme", "svc-3", {"docs/notes.txt": "changed, not claimed\n"})
    counted["parsed"].clear()
    counted["workers"].clear()
    second = run_org(server, tmp_path)
    status = {r["repository"]: r["status"] for r in second["repositories"]}
    assert status == {"acme/svc-0": "scanned", "acme/svc-3": "scanned",
                      "acme/svc-4": "unchanged"}
    assert counted["parsed"] == ["README.md"]  # the one changed claimed blob, nothing else
    assert len(counted["workers"]) == 1  # svc-3 started no parser at all
    assert {r["repository"]: r["levels"] for r in second["repositories"]} == levels


def test_parsing_on_a_dask_worker_is_in_capped_child_processes(server: GitHubServer,
                                                               tmp_path: Path) -> None:
    """The Dask worker process survives a parser crash (the crash is one file's error), and
    the run's memory cap and per-file time budget hold there as in a local scan."""
    distributed = pytest.importorskip("distributed")
    huge = ('{"resource": {"x": {' + ",".join(f'"b{i}": [{i}, {i + 1}, "{i}"]'
                                               for i in range(1_000_000)) + "}}}")
    slow = ('{"resource": {"x": {' + ",".join(f'"b{i}": {{"bucket": "{"x" * 50}"}}'
                                              for i in range(200_000)) + "}}}")
    ok = '{"resource": {"aws_s3_bucket": {"b": {"bucket": "b"}}}}'
    server.add_repo("acme", "crash", {"deep.tf": DEEP_HCL, "ok.tf": TF})
    server.add_repo("acme", "mem", {"huge.tf.json": huge, "ok.tf.json": ok})
    server.add_repo("acme", "time", {"slow.tf.json": slow, "ok.tf.json": ok})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        before = set(client.run(os.getpid).values())

        def errors(name: str, limits: pool.Limits) -> dict[str, str]:
            summary = org.run(
                org.OrgSettings("acme", tmp_path / name, tmp_path / "cache", limits=limits,
                                max_file_bytes=100 << 20),
                github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                github.Filters(match=name), executor=client.get_executor(),
                log=lambda s: None)
            (row,) = summary["repositories"]
            assert row["status"] == "scanned", row
            rep = json.loads((tmp_path / name / "repos" / f"acme_{name}.json").read_text())
            assert any(s["kind"] == "terraform" for s in rep["signals"])  # ok.tf* parsed
            return {e["path"]: e["message"] for e in rep["errors"]}

        crashed = errors("crash", pool.Limits())
        capped = errors("mem", pool.Limits(memory_bytes=300 << 20))
        timed = errors("time", pool.Limits(seconds_per_file=0.05))
        after = set(client.run(os.getpid).values())
    assert crashed == {"deep.tf": "the parser crashed (signal 6) (skipped)"}
    assert capped == {"huge.tf.json": "exceeded the parser memory cap (skipped)"}
    assert timed == {"slow.tf.json": "took longer than 0.05s (skipped)"}
    assert before == after and os.getpid() not in after  # the Dask worker never went down


def test_org_progress_on_a_terminal_with_the_rate(server: GitHubServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_progress import run_on_pty

    monkeypatch.delenv("CI", raising=False)
    for i in range(3):
        server.add_repo("acme", f"svc-{i}", files_for(i))
    args = ("org", "acme", "--api-url", f"{server.url}/api", "--workers", "2")
    status, out, shown = run_on_pty(*args, "--out", str(tmp_path / "one"))
    assert status == 0, shown
    assert re.search(r"\r\x1b\[K\[3/3, \d+/min\] acme/svc-\d: scanned", shown), shown
    assert "/min]" not in out  # stderr only
    status, out, shown = run_on_pty(*args, "--out", str(tmp_path / "two"), "--quiet")
    assert status == 0, shown
    assert "/min]" not in shown and "done: 3 scanned" in shown


def test_history_keeps_its_parser_workers_across_revisions(tmp_path: Path,
                                                           counted: dict[str, list[Any]]) -> None:
    from maturity_scan.cli import main
    from tests import gitrepo

    root = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(root, "one", {"main.tf": TF, "Dockerfile": "FROM python:3.12-slim\n",
                                 "README.md": "# x\n"})
    gitrepo.git(root, "tag", "v1.0.0")
    gitrepo.commit(root, "two", {"main.tf": TF + 'resource "aws_s3_bucket" "c" {}\n'})
    gitrepo.git(root, "tag", "v1.1.0")
    gitrepo.commit(root, "three", {"Dockerfile": "FROM python:3.13-slim\nUSER app\n"})
    gitrepo.git(root, "tag", "v1.2.0")
    assert main(["history", "--tags", str(root), "--format", "json", "-o",
                 str(tmp_path / "h.json")]) == 0
    rows = json.loads((tmp_path / "h.json").read_text())["rows"]
    assert [r["label"] for r in rows] == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert sorted(counted["parsed"]) == ["Dockerfile", "Dockerfile", "README.md", "main.tf",
                                         "main.tf"]  # each blob once, over three revisions
    assert len(counted["workers"]) == 1  # one interpreter for the three revisions


def test_org_takes_the_parser_limits_of_a_local_scan(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from maturity_scan.cli import main

    seen: list[org.OrgSettings] = []

    def stop(settings: org.OrgSettings, *args: Any, **kwargs: Any) -> None:
        seen.append(settings)
        raise github.GitHubError("stopped here")

    monkeypatch.setattr(org, "run", stop)
    base = ["org", "acme", "--api-url", "http://127.0.0.1:9/api", "--out", str(tmp_path / "o")]
    assert main([*base, "--file-timeout", "2.5", "--worker-memory", "1024"]) == 2
    assert main(base) == 2
    assert [s.limits for s in seen] == [pool.Limits(seconds_per_file=2.5, memory_bytes=1 << 30),
                                        pool.Limits()]
