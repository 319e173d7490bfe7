"""Org scans against a loopback server speaking the GitHub REST API and git's smart HTTP, with
real git repositories and injected faults."""
from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maturity_scan.org import github, run as org
from tests.github_server import Fault, GitHubServer

ROOT = Path(__file__).resolve().parent.parent
CANARY = "ghp_CANARY0123456789abcdefCANARY"
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
WF = ("on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
      "      - run: pytest -q\n")
DOCKERFILE = "FROM python:3.12-slim\nUSER 1000\nCMD [\"python\", \"-m\", \"app\"]\n"


def files_for(i: int) -> dict[str, str]:
    files = {"README.md": f"# service {i}\n\n## Getting started\n\nmake dev\n",
             "src/app.py": "print('hi')\n", "docs/notes.txt": "not claimed\n" * 50}
    if i % 2 == 0:
        files["infra/main.tf"] = TF
    if i % 3 == 0:
        files[".github/workflows/ci.yml"] = WF
        files["tests/test_app.py"] = "def test_ok():\n    assert True\n"
    if i % 5 == 0:
        files["Dockerfile"] = DOCKERFILE
    return files


@pytest.fixture
def server(tmp_path: Path):
    with GitHubServer(tmp_path / "srv") as srv:
        yield srv


def run_cli(server: GitHubServer, out: Path, *extra: str,
            workers: int = 4) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_TOKEN": CANARY}
    env.pop("GH_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "maturity_scan", "org", "acme", "--api-url",
                           f"{server.url}/api", "--out", str(out), "--workers", str(workers),
                           *extra],
                          capture_output=True, text=True, env=env, timeout=600)


def written_text(*folders: Path) -> str:
    chunks = []
    for folder in folders:
        for p in folder.rglob("*"):
            if p.is_file():
                chunks.append(p.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def test_fifty_repositories_end_to_end_with_a_canary_token(server: GitHubServer,
                                                          tmp_path: Path) -> None:
    server.state.per_page = 20
    server.state.root.mkdir(parents=True, exist_ok=True)
    for i in range(50):
        server.add_repo("acme", f"svc-{i:02d}", files_for(i))
    server.add_repo("acme", "old", files_for(0), archived=True)
    server.add_repo("acme", "forked", files_for(0), fork=True)
    server.add_repo("acme", "empty", None)
    server.add_repo("acme", "deleted", files_for(1))
    server.state.gone.add("acme/deleted")
    out = tmp_path / "out"
    done = run_cli(server, out)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "org.json").read_text())
    names = [r["repository"] for r in summary["repositories"]]
    assert len(names) == 52 and "acme/old" not in names and "acme/forked" not in names
    status = {r["repository"]: r for r in summary["repositories"]}
    assert status["acme/empty"]["status"] == "skipped"
    assert status["acme/empty"]["reason"] == "empty repository"
    assert status["acme/deleted"]["status"] == "failed"
    assert summary["counts"] == {"failed": 1, "scanned": 50, "skipped": 1}
    assert status["acme/svc-00"]["levels"]["iac"] == 2
    assert status["acme/svc-01"]["levels"]["iac"] == 1
    assert summary["distribution"]["iac"] == {"1": 25, "2": 25}
    assert summary["weakest"][0]["repository"] == "acme/svc-01"
    assert summary["common_missing"][0]["repositories"] >= 25
    csv_lines = (out / "org.csv").read_text().splitlines()
    assert csv_lines[0].startswith("repository,status,iac,delivery")
    assert "acme/svc-00,scanned,2," in (out / "org.csv").read_text()
    md = (out / "org.md").read_text()
    assert "# acme: DevOps maturity" in md and "Needs attention first" in md
    assert "acme/deleted" in md
    page = (out / "org.html").read_text()
    assert "repos/acme_svc-00.html#iac" in page and "<script>" in page
    assert (out / "repos" / "acme_svc-00.html").read_text().count("id='iac'") == 1
    report = json.loads((out / "repos" / "acme_svc-00.json").read_text())
    assert report["target"]["path"] == "acme/svc-00"
    # the token was used (API bearer, git basic auth) and appears nowhere we wrote or printed
    basic = base64.b64encode(f"x-access-token:{CANARY}".encode()).decode()
    assert f"Bearer {CANARY}" in server.state.seen_auth
    assert f"Basic {basic}" in server.state.seen_auth
    everything = written_text(out) + done.stdout + done.stderr
    assert CANARY not in everything and basic not in everything
    # partial clones: only claimed blobs were fetched; docs/notes.txt never was
    cache = out / ".cache" / "acme_svc-00.git"
    notes = subprocess.run(["git", "--git-dir", str(cache), "rev-parse", "HEAD:docs/notes.txt"],
                           capture_output=True, text=True).stdout.strip()
    listing = subprocess.run(["git", "--git-dir", str(cache), "rev-list", "--objects",
                              "--missing=print", "HEAD"], capture_output=True, text=True).stdout
    assert f"?{notes}" in listing.split()
    readme = subprocess.run(["git", "--git-dir", str(cache), "rev-parse", "HEAD:README.md"],
                            capture_output=True, text=True).stdout.strip()
    assert f"?{readme}" not in listing.split()

    # a re-run with nothing changed clones nothing and scans nothing, and says so
    server.state.git_calls.clear()
    again = run_cli(server, out)
    assert again.returncode == 0, again.stderr
    assert "50 unchanged (no clone, no scan)" in again.stderr
    posts = [c for c in server.state.git_calls if c.startswith("POST") and "svc-" in c]
    assert len(posts) <= 50  # one ls-refs each at most: no fetch of any pack
    summary2 = json.loads((out / "org.json").read_text())
    assert summary2["counts"]["unchanged"] == 50


def test_rate_limits_retries_and_bounded_wait(server: GitHubServer, tmp_path: Path) -> None:
    server.state.root.mkdir(parents=True, exist_ok=True)
    server.add_repo("acme", "a", files_for(0))
    path = "/api/orgs/acme/repos"
    reset = str(int(time.time()) + 2)
    server.state.faults[path] = [
        Fault(500),
        Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
              {"message": "API rate limit exceeded"}),
        Fault(429, {"retry-after": "3"}, {"message": "secondary rate limit"}),
        Fault(drop=True),
    ]
    slept: list[float] = []
    client = github.Client(f"{server.url}/api", CANARY, backoff=0.01, sleep=slept.append)
    repos = client.repositories("acme")
    assert [r.full_name for r in repos] == ["acme/a"]
    assert len(slept) == 4 and 3.0 in slept and client.waited == pytest.approx(sum(slept))
    assert any(1 <= s <= 4 for s in slept[1:2])  # waited for the primary reset

    # a 403 that is not a rate limit (permissions, SAML) is not retried
    server.state.faults[path] = [Fault(403, {}, {"message": f"SAML enforcement; token {CANARY}"})]
    calls = len(server.state.api_calls)
    with pytest.raises(github.GitHubError) as e:
        github.Client(f"{server.url}/api", CANARY, sleep=slept.append).repositories("acme")
    assert len(server.state.api_calls) == calls + 1
    assert "HTTP 403" in str(e.value) and CANARY not in str(e.value)

    # the total wait is bounded
    server.state.faults[path] = [Fault(429, {"retry-after": "100"}, {})]
    with pytest.raises(github.GitHubError, match="budget"):
        github.Client(f"{server.url}/api", max_wait=10, sleep=slept.append).repositories("acme")


def test_user_fallback_filters_and_pagination(server: GitHubServer) -> None:
    server.state.root.mkdir(parents=True, exist_ok=True)
    server.state.users.add("alice")
    server.state.per_page = 2
    for name, topics, vis in (("api", ("platform",), "public"), ("web", (), "private"),
                              ("infra", ("platform",), "private"), ("tool", ("platform",), "public")):
        server.add_repo("alice", name, {"README.md": "# x\n"}, topics=topics, visibility=vis)
    client = github.Client(f"{server.url}/api", None, sleep=lambda s: None)
    all_repos = client.repositories("alice")
    assert [r.name for r in all_repos] == ["api", "infra", "tool", "web"]
    assert "/api/orgs/alice/repos" in server.state.api_calls
    picked = client.repositories("alice", github.Filters(topics=("platform",),
                                                         visibility="private"))
    assert [r.name for r in picked] == ["infra"]
    assert [r.name for r in client.repositories("alice", github.Filters(match="t*"))] == ["tool"]


def test_stalled_clone_fails_that_repository_only_and_resume(server: GitHubServer,
                                                             tmp_path: Path) -> None:
    server.state.root.mkdir(parents=True, exist_ok=True)
    for i in range(4):
        server.add_repo("acme", f"r{i}", files_for(i))
    server.state.stall.add("acme/r2")
    out = tmp_path / "out"
    settings = org.OrgSettings("acme", out, tmp_path / "cache", workers=2, timeout=3)
    client = github.Client(f"{server.url}/api", None, sleep=lambda s: None)
    lines: list[str] = []
    summary = org.run(settings, client, github.Filters(), log=lines.append)
    status = {r["repository"]: r for r in summary["repositories"]}
    assert status["acme/r2"]["status"] == "failed" and "timed out" in status["acme/r2"]["reason"]
    assert sum(r["status"] == "scanned" for r in summary["repositories"]) == 3
    assert any(line.startswith("[") and "acme/r2: failed" in line for line in lines)

    # resume: the listing is reused and finished repositories are not redone
    server.state.stall.clear()
    def listings() -> int:  # (tree listings, for blob sizes, come with each scan)
        return sum(c.endswith("/repos") for c in server.state.api_calls)

    calls = listings()
    resumed = org.run(org.OrgSettings("acme", out, tmp_path / "cache", workers=2, timeout=30,
                                      resume=True), client, github.Filters(), log=lines.append)
    assert listings() == calls
    status = {r["repository"]: r["status"] for r in resumed["repositories"]}
    assert status == {"acme/r0": "unchanged", "acme/r1": "unchanged", "acme/r2": "scanned",
                      "acme/r3": "unchanged"}


def test_org_scan_on_a_dask_local_cluster(server: GitHubServer, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    server.state.root.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        server.add_repo("acme", f"d{i}", files_for(i))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        summary = org.run(org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache"),
                          github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                          github.Filters(), executor=client.get_executor(), log=lambda s: None)
        workers = set(client.run(os.getpid).values())
    assert [r["status"] for r in summary["repositories"]] == ["scanned"] * 3, summary["repositories"]
    assert len(workers) == 2 and os.getpid() not in workers


def test_the_authenticated_users_own_private_repositories(server: GitHubServer) -> None:
    server.state.root.mkdir(parents=True, exist_ok=True)
    server.state.users.add("alice")
    server.state.login = "alice"
    server.state.user_listing_public_only = True  # as GitHub's /users/{u}/repos
    for name, vis, extra in (("api", "public", {}), ("secret", "private", {}),
                             ("old", "private", {"archived": True}),
                             ("copy", "private", {"fork": True}),
                             ("plat", "private", {"topics": ("platform",)})):
        server.add_repo("alice", name, {"README.md": "# x\n"}, visibility=vis, **extra)
    mine = github.Client(f"{server.url}/api", CANARY, sleep=lambda s: None)
    private = mine.repositories("alice", github.Filters(visibility="private"))
    assert [r.name for r in private] == ["plat", "secret"]
    assert "/api/user" in server.state.api_calls and "/api/user/repos" in server.state.api_calls
    assert [r.name for r in mine.repositories("alice", github.Filters(
        visibility="private", include_archived=True, include_forks=True,
        topics=("platform",)))] == ["plat"]
    assert [r.name for r in mine.repositories("alice", github.Filters(
        include_archived=True, include_forks=True))] == ["api", "copy", "old", "plat", "secret"]
    # someone else's token, or none: the public listing
    server.state.login = "bob"
    assert [r.name for r in mine.repositories("alice")] == ["api"]
    anonymous = github.Client(f"{server.url}/api", None, sleep=lambda s: None)
    assert [r.name for r in anonymous.repositories("alice")] == ["api"]


def test_a_missing_default_branch_is_said_and_not_an_empty_repository(
        server: GitHubServer, tmp_path: Path) -> None:
    server.state.root.mkdir(parents=True, exist_ok=True)
    server.add_repo("acme", "moved", files_for(0))
    server.state.repos["acme"][-1]["default_branch"] = "trunk"
    server.add_repo("acme", "empty", None)
    summary = org.run(org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache"),
                      github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                      github.Filters(), log=lambda s: None)
    status = {r["repository"]: r for r in summary["repositories"]}
    assert status["acme/moved"]["status"] == "skipped"
    assert "default branch 'trunk' not found" in status["acme/moved"]["reason"]
    assert status["acme/empty"] == {"repository": "acme/empty", "status": "skipped",
                                    "reason": "empty repository"}


def test_a_rerun_with_another_pack_gives_that_packs_levels(server: GitHubServer,
                                                          tmp_path: Path) -> None:
    server.state.root.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        server.add_repo("acme", f"p{i}", files_for(i * 3))
    client = github.Client(f"{server.url}/api", None, sleep=lambda s: None)
    out = tmp_path / "out"

    def run_with(pack: str | None) -> dict:
        return org.run(org.OrgSettings("acme", out, tmp_path / "cache", pack=pack), client,
                       github.Filters(), log=lambda s: None)

    for pack in ("kmm", "devex", None, "devex", "devex"):
        summary = run_with(pack)
        want = org.api.get_pack(pack or "devops")
        assert summary["pack"] == want.id
        ids = {d.id for d in want.dimensions}
        for r in summary["repositories"]:
            assert r["pack"] == want.id and set(r["levels"]) <= ids and r["levels"], r
            report = json.loads((out / "repos" / f"{r['repository'].replace('/', '_')}.json")
                                .read_text())
            assert report["pack"] == want.id
            assert r["levels"] == {d["id"]: d["level"] for d in report["dimensions"]
                                   if d["level"] is not None}
    # the same pack twice: the stored reports stand
    assert summary["counts"] == {"unchanged": 2}
    # another tool version: scanned again
    for key in (out / "repos").glob("*.key.json"):
        key.write_text(key.read_text().replace(org.__version__, "0.0.0-old"))
    assert run_with("devex")["counts"] == {"scanned": 2}


class RecordingExecutor(concurrent.futures.Executor):
    """Another executor (as a Dask cluster is): every task is pickled as it would travel."""

    def __init__(self, inner: concurrent.futures.Executor) -> None:
        self.inner, self.sent = inner, []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(pickle.dumps((fn, args, kwargs)))
        return self.inner.submit(fn, *args, **kwargs)


def test_dask_tasks_carry_no_secret_workers_read_their_own(server: GitHubServer,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    server.state.root.mkdir(parents=True, exist_ok=True)
    for i in range(2):
        server.add_repo("acme", f"d{i}", files_for(0))
    # the workers' own environment holds the token (as set where they are started)
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        monkeypatch.delenv("GITHUB_TOKEN")  # the parent holds it only as a value
        recording = RecordingExecutor(client.get_executor())
        summary = org.run(org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache"),
                          github.Client(f"{server.url}/api", CANARY, sleep=lambda s: None),
                          github.Filters(), executor=recording, token=CANARY,
                          log=lambda s: None)
    assert [r["status"] for r in summary["repositories"]] == ["scanned"] * 2
    assert all(r["levels"]["iac"] >= 2 for r in summary["repositories"])  # parsed on the worker
    assert len(recording.sent) == 2
    basic = base64.b64encode(f"x-access-token:{CANARY}".encode()).decode()
    for task in recording.sent:
        assert CANARY.encode() not in task and basic.encode() not in task
    assert f"Basic {basic}" in server.state.seen_auth  # the workers used their own token
    assert CANARY not in written_text(tmp_path / "out")
