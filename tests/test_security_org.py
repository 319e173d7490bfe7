"""The org scan under attack from its inputs (the GitHub API's answers and the repositories it
names), against loopback servers: where the token may go, bounded listings, clone URLs, one run
per output folder, oversize blobs, a per-repository time budget, malformed JSON, `--resume`
after torn writes. Each test reproduces a finding of the security review."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from maturity_scan.org import clone, github, run as org
from maturity_scan.reporters import html as html_report, org as org_report
from tests.github_server import Fault, GitHubServer

CANARY = "ghp_CANARY0123456789abcdefCANARY"
BASIC = base64.b64encode(f"x-access-token:{CANARY}".encode()).decode()
TF = 'terraform {\n  backend "s3" {}\n}\n'


@pytest.fixture
def server(tmp_path: Path):
    with GitHubServer(tmp_path / "srv") as srv:
        srv.state.root.mkdir(parents=True)
        yield srv


@pytest.fixture
def other(tmp_path: Path):
    """Another host (same address, another port): it must never see the token."""
    with GitHubServer(tmp_path / "other") as srv:
        srv.state.root.mkdir(parents=True)
        yield srv


def client(server: GitHubServer, token: str | None = CANARY, **kw: object) -> github.Client:
    return github.Client(f"{server.url}/api", token, sleep=lambda s: None, **kw)  # type: ignore


def run_org(server: GitHubServer, tmp_path: Path, token: str | None = CANARY,
            **kw: object) -> dict:
    kw = {"workers": 2, "timeout": 30, **kw}
    settings = org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache",
                               **kw)  # type: ignore[arg-type]
    return org.run(settings, client(server, token), github.Filters(), token=token,
                   log=lambda line: None,
                   outputs=org.Outputs(page=html_report.render, files=org_report.FILES))


def run_cli(server: GitHubServer, out: Path, *extra: str, env: dict[str, str] | None = None,
            api: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_TOKEN": CANARY, **(env or {})}
    env.pop("GH_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "maturity_scan", "org", "acme", "--api-url",
                           api or f"{server.url}/api", "--out", str(out), "--workers", "2",
                           *extra], capture_output=True, text=True, env=env, timeout=120)


def by_name(summary: dict) -> dict[str, dict]:
    return {r["repository"]: r for r in summary["repositories"]}


def assert_never_saw_token(srv: GitHubServer) -> None:
    assert not any(CANARY in a or BASIC in a for a in srv.state.seen_auth), srv.state.seen_auth


# 1. the token goes to the API host and its clone host only --------------------------------

def test_clone_urls_on_other_hosts_get_no_token(server: GitHubServer, other: GitHubServer,
                                                tmp_path: Path) -> None:
    server.add_repo("acme", "ok", {"infra/main.tf": TF})
    for name in ("elsewhere", "alias", "moved"):
        server.add_repo("acme", name, {"infra/main.tf": TF})
        other.add_repo("acme", name, {"infra/main.tf": TF})
    items = {i["name"]: i for i in server.state.repos["acme"]}
    items["elsewhere"]["clone_url"] = f"{other.url}/git/acme/elsewhere.git"
    port = server.url.rsplit(":", 1)[1]
    items["alias"]["clone_url"] = f"http://localhost:{port}/git/acme/alias.git"
    # git follows a redirect of its first request and would send the header to the new host
    server.state.redirects["/git/acme/moved.git/info/refs"] = \
        f"{other.url}/git/acme/moved.git/info/refs?service=git-upload-pack"
    status = by_name(run_org(server, tmp_path))
    assert status["acme/ok"]["status"] == "scanned"
    assert f"Basic {BASIC}" in server.state.seen_auth  # the clone host does get it
    assert status["acme/elsewhere"]["status"] == "failed"
    assert f"is on {other.url}, not on {server.url}" in status["acme/elsewhere"]["reason"]
    assert "is on http://localhost:" in status["acme/alias"]["reason"]
    assert status["acme/moved"]["status"] == "failed"
    assert not any(h.startswith("localhost") for h in server.state.hosts)
    assert other.state.git_calls == []  # the redirect was not followed
    assert_never_saw_token(other)


def test_api_redirects_and_next_links_to_other_hosts_get_no_token(
        server: GitHubServer, other: GitHubServer) -> None:
    other.add_repo("beta", "b", None)
    server.add_repo("acme", "a", None)
    # a redirect to another host is followed without the token ...
    server.state.redirects["/api/orgs/beta/repos"] = f"{other.url}/api/orgs/beta/repos"
    assert [r.full_name for r in client(server).repositories("beta")] == ["beta/b"]
    assert other.state.api_calls == ["/api/orgs/beta/repos"]
    # ... one on the API's own host keeps it
    server.state.redirects["/api/orgs/gamma/repos"] = f"{server.url}/api/orgs/acme/repos"
    assert [r.full_name for r in client(server).repositories("gamma")] == ["acme/a"]
    assert server.state.seen_auth[-1] == f"Bearer {CANARY}"
    # a next-page link to another host is not followed at all
    server.state.links["/api/orgs/acme/repos"] = f'<{other.url}/api/orgs/beta/repos>; rel="next"'
    with pytest.raises(github.GitHubError, match="points away from the API"):
        client(server).repositories("acme")
    assert len(other.state.api_calls) == 1
    assert_never_saw_token(other)


def test_token_only_over_https_or_loopback_and_clone_host_mapping(tmp_path: Path) -> None:
    with pytest.raises(github.GitHubError, match="refusing to send the token over plain http"):
        github.Client("http://ghes.example.com/api/v3", CANARY)
    github.Client("http://ghes.example.com/api/v3", None)  # nothing secret to protect
    done = subprocess.run([sys.executable, "-m", "maturity_scan", "org", "acme", "--api-url",
                           "http://ghes.example.com/api/v3", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GITHUB_TOKEN": CANARY})
    assert done.returncode == 2 and "refusing to send the token" in done.stderr
    assert CANARY not in done.stderr + done.stdout
    assert str(github.clone_origin("https://api.github.com")) == "https://github.com"
    assert str(github.clone_origin("https://ghes.example.com/api/v3")) == \
        "https://ghes.example.com"
    clone.check_clone_url("https://github.com/acme/a.git", "https://github.com", False)
    for bad in ("http://github.com/acme/a.git", "https://github.com.evil.example/a.git",
                "https://user:pw@github.com/acme/a.git", "https://github.com:8443/acme/a.git"):
        with pytest.raises(clone.CloneError, match="not cloned"):
            clone.check_clone_url(bad, "https://github.com", False)


# 2. bounded, de-duplicated listings; only http(s) clone URLs; no stdin ---------------------

def test_pagination_loops_and_endless_listings_are_bounded(server: GitHubServer) -> None:
    server.add_repo("acme", "a", None)
    server.state.links["/api/orgs/acme/repos"] = \
        f'<{server.url}/api/orgs/acme/repos?per_page=100&type=all>; rel="next"'
    with pytest.raises(github.GitHubError, match="pagination loop"):
        client(server).repositories("acme")
    assert len(server.state.api_calls) == 1
    server.state.links.clear()
    server.state.per_page = 1
    for i in range(9):
        server.add_repo("acme", f"r{i}", None)
    calls = len(server.state.api_calls)
    with pytest.raises(github.GitHubError, match="more than 4 pages"):
        client(server, max_pages=4).repositories("acme")
    assert len(server.state.api_calls) - calls == 4


def test_duplicates_and_local_clone_urls(server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "dup", {"infra/main.tf": TF})
    items = server.state.repos["acme"]
    items += [dict(items[0]), {**items[0], "full_name": "ACME/Dup"}]
    # a private repository on this machine, named by local clone URLs
    private = server.add_repo("acme", "private", {"infra/main.tf": TF})
    server.state.repos["acme"].pop()
    canary = tmp_path / "ext-ran"
    for i, url in enumerate((f"file://{private}", str(private), "fd::0",
                             f"ext::sh -c touch% {canary}", f"{server.url[:4]}s{server.url[4:]}"
                             "/git/acme/dup.git")):
        server.state.repos["acme"].append({"name": f"l{i}", "full_name": f"acme/l{i}",
                                           "clone_url": url, "default_branch": "main"})
    c = client(server)
    repos = c.repositories("acme")
    assert [r.full_name for r in repos] == ["acme/dup", "acme/l0", "acme/l1", "acme/l2",
                                            "acme/l3", "acme/l4"]
    assert sum("listed twice" in w for w in c.warnings) == 2
    started = time.monotonic()
    status = by_name(run_org(server, tmp_path))
    assert time.monotonic() - started < 20  # fd::0 would wait for stdin forever
    assert status["acme/dup"]["status"] == "scanned"
    # one repository's worth of git: ls-remote, clone, history (commits and tags), fetch of the
    # claimed blobs
    assert sum(c.startswith("GET /acme/dup.git/info/refs") for c in server.state.git_calls) == 4
    for i in range(4):
        assert status[f"acme/l{i}"]["status"] == "failed"
        assert "is not an http(s) URL" in status[f"acme/l{i}"]["reason"]
    assert "plain http; not cloned" not in status["acme/l4"]["reason"]
    assert "is on https://" in status["acme/l4"]["reason"]  # scheme differs from the API's
    assert not canary.exists()
    assert not list((tmp_path / "cache").glob("acme_l*"))
    # git never inherits our stdin, and local commands cannot reach any transport
    git = clone.Git(clone.Budget(30))
    assert git.run(["hash-object", "--stdin"]).strip() == \
        b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    with pytest.raises(clone.CloneError, match="not allowed"):
        git.run(["ls-remote", f"file://{private}"])


# 3. one run per --out ---------------------------------------------------------------------

def test_a_second_run_into_the_same_out_is_refused(server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "slow", {"infra/main.tf": TF})
    server.state.stall.add("acme/slow")
    server.state.stall_seconds = 4
    out = tmp_path / "out"
    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(run_org(server, tmp_path,
                                                                  timeout=2)))
    thread.start()
    deadline = time.monotonic() + 10
    while not any("slow" in c for c in server.state.git_calls):
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    second = run_cli(server, out)
    thread.join()
    assert second.returncode == 2, second.stderr
    assert "another org scan is using this --out folder" in second.stderr
    assert "Traceback" not in second.stderr
    assert by_name(first)["acme/slow"]["status"] == "failed"
    assert json.loads((out / "org.json").read_text())["org"] == "acme"  # the first one's


# 4. oversize blobs: not fetched, never held -------------------------------------------------

def test_oversize_blobs_are_not_fetched(server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "big", {"infra/main.tf": TF, "infra/huge.tf": "#" * 300_000})
    server.add_repo("acme", "big2", {"infra/main.tf": TF, "infra/huge.tf": "# " * 150_000})
    # for big2 the API's tree listing fails: sizes are measured after the fetch instead
    server.state.no_trees.add("acme/big2")
    summary = run_org(server, tmp_path, max_file_bytes=100_000, full_clone=False)
    assert {r["status"] for r in summary["repositories"]} == {"scanned"}
    for name in ("big", "big2"):
        report = json.loads((tmp_path / "out" / "repos" / f"acme_{name}.json").read_text())
        errors = {e["path"]: e["message"] for e in report["errors"]}
        assert "exceeds the 98 KiB limit (skipped)" in errors["infra/huge.tf"]
    big = tmp_path / "cache" / "acme_big.git"
    huge = subprocess.run(["git", "--git-dir", str(big), "rev-parse", "HEAD:infra/huge.tf"],
                          capture_output=True, text=True, check=True).stdout.strip()
    present = subprocess.run(["git", "--git-dir", str(big), "rev-list", "--objects",
                              "--missing=print", "HEAD"], capture_output=True, text=True).stdout
    assert f"?{huge}" in present.split()  # never downloaded
    assert any(c.startswith("/api/repos/acme/big/git/trees/") for c in server.state.api_calls)
    assert any(c.startswith("/api/repos/acme/big2/git/trees/") for c in server.state.api_calls)


def test_oversize_blob_measured_after_fetch_when_the_api_has_no_sizes(
        server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "big", {"infra/main.tf": TF, "infra/huge.tf": "#" * 300_000})
    git = clone.Git(clone.Budget(60), allow_http=True)
    checkout = clone.fetch(f"{server.url}/git/acme/big.git", "main", tmp_path / "c.git", git,
                           max_file_bytes=100_000, sizes=lambda revision: None)
    assert checkout.sizes["infra/huge.tf"] == 300_000
    assert "infra/huge.tf" not in checkout.blobs and checkout.blobs["infra/main.tf"] == TF.encode()
    entries = {e.path: e.size for e in clone.CheckoutSource(checkout, "acme/big").files()}
    assert entries["infra/huge.tf"] == 300_000


# 5. a per-repository time budget -----------------------------------------------------------

def test_repository_time_budget(server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "stuck", {"infra/main.tf": TF})
    server.add_repo("acme", "fine", {"infra/main.tf": TF})
    server.state.stall.add("acme/stuck")
    server.state.stall_seconds = 5
    started = time.monotonic()
    status = by_name(run_org(server, tmp_path, repo_timeout=2))
    assert time.monotonic() - started < 15
    assert status["acme/stuck"]["status"] == "failed"
    assert status["acme/stuck"]["reason"] == (
        "incomplete: the repository's 2s budget ran out during git ls-remote "
        "(raise it with --repo-timeout)")
    assert status["acme/fine"]["status"] == "scanned"
    assert not (tmp_path / "out" / "repos" / "acme_stuck.json").exists()


# 6. malformed API JSON ---------------------------------------------------------------------

def test_malformed_listing_entries_are_skipped_and_a_non_json_page_is_exit_2(
        server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "good", None)
    server.state.repos["acme"] += [
        {"name": "nofull", "clone_url": "x"},
        {"name": "t", "full_name": "acme/t", "topics": 5},
        {"name": "p", "full_name": "../../etc"},
        {"name": "b", "full_name": "acme/b", "default_branch": "--upload-pack=touch x"},
        "not an object",
    ]
    done = run_cli(server, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "warning: listing entry 2 skipped: full_name None is not OWNER/NAME" in done.stderr
    assert "acme/t: topics 5 is not a list of strings" in done.stderr
    assert "full_name '../../etc' is not OWNER/NAME" in done.stderr
    assert "acme/b: default_branch '--upload-pack=touch x' is not a branch name" in done.stderr
    assert "listing entry 6 skipped: not an object (str)" in done.stderr
    summary = json.loads((tmp_path / "out" / "org.json").read_text())
    assert [r["repository"] for r in summary["repositories"]] == ["acme/good"]
    assert len(summary["listing_warnings"]) == 5
    assert "## Listing entries skipped" in (tmp_path / "out" / "org.md").read_text()

    server.state.faults["/api/orgs/acme/repos"] = [Fault(200, raw=b"<html>oops</html>")]
    done = run_cli(server, tmp_path / "out2")
    assert done.returncode == 2, done.stderr
    assert "/api/orgs/acme/repos: the response is not JSON" in done.stderr
    assert "Traceback" not in done.stderr


# 7. --resume and torn or unwritable reports ------------------------------------------------

def test_resume_rewrites_missing_or_torn_reports(server: GitHubServer, tmp_path: Path) -> None:
    for name in "abc":
        server.add_repo("acme", name, {"infra/main.tf": TF})
    first = by_name(run_org(server, tmp_path))
    assert {r["status"] for r in first.values()} == {"scanned"}, first
    repos = tmp_path / "out" / "repos"
    assert not list(repos.glob(".*tmp"))
    (repos / "acme_a.html").unlink()
    (repos / "acme_b.html").write_text("")
    torn = (repos / "acme_c.json").read_bytes()
    (repos / "acme_c.json").write_bytes(torn[: len(torn) // 2])
    resumed = by_name(run_org(server, tmp_path, resume=True))
    assert resumed["acme/a"]["status"] == resumed["acme/b"]["status"] == "unchanged"
    assert resumed["acme/c"]["status"] == "scanned"  # its JSON was torn: scanned again
    for name in "abc":
        report = json.loads((repos / f"acme_{name}.json").read_text())
        assert (repos / f"acme_{name}.html").read_text() == html_report.render(report)
    # a re-run (no --resume) repairs the page of an unchanged repository too
    (repos / "acme_a.html").write_text("<!doctype html><html")
    again = by_name(run_org(server, tmp_path))
    assert again["acme/a"]["status"] == "unchanged"
    assert (repos / "acme_a.html").read_text().count("id='iac'") == 1
    # a repos.json that is not ours is exit 2 material, not a crash
    (tmp_path / "out" / "repos.json").write_text('[{"full_name": 5}]')
    with pytest.raises(org.UsageError, match="not a listing this tool wrote"):
        run_org(server, tmp_path, resume=True)


def test_a_path_that_is_not_utf8_still_gets_its_page(server: GitHubServer,
                                                     tmp_path: Path) -> None:
    # it once made the HTML write fail half-way: "failed", and a 0-byte page --resume trusted
    server.add_repo("acme", "c", {"infra/main.tf": TF, "infra/\udcff.tf": TF})
    status = by_name(run_org(server, tmp_path))
    assert status["acme/c"]["status"] == "scanned", status
    page = (tmp_path / "out" / "repos" / "acme_c.html").read_text(encoding="utf-8")
    assert "\ufffd.tf" in page and page.count("id='iac'") == 1


# 8. the token in no file, no output, no argv -----------------------------------------------

def test_canary_token_in_no_file_output_or_argv(server: GitHubServer, other: GitHubServer,
                                                tmp_path: Path) -> None:
    server.add_repo("acme", "a", {"infra/main.tf": TF})
    server.add_repo("acme", "gone", {"infra/main.tf": TF})
    server.state.gone.add("acme/gone")
    server.add_repo("acme", "away", {"infra/main.tf": TF})
    server.state.repos["acme"][-1]["clone_url"] = f"{other.url}/git/acme/away.git"
    log = tmp_path / "git-argv.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True,
                              text=True).stdout.strip()
    # One line per call, written at once: git runs from parallel threads, and two writes
    # per call could interleave with another call's.
    (bin_dir / "git").write_text(f'#!/bin/sh\nprintf "%s\\tenv:%s%s\\n" "$*" '
                                 f'"${{GITHUB_TOKEN-}}" "${{GH_TOKEN-}}" >> {log}\n'
                                 f'exec {real_git} "$@"\n')
    (bin_dir / "git").chmod(0o755)
    out = tmp_path / "out"
    done = run_cli(server, out, "--max-wait", "5",
                   env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr
    status = by_name(json.loads((out / "org.json").read_text()))
    assert status["acme/a"]["status"] == "scanned"
    assert status["acme/gone"]["status"] == "failed"
    calls = log.read_text()
    assert "clone --bare" in calls and "ls-remote" in calls
    # each line: argv, a tab, then the token variables git was given
    pairs = [line.rpartition("\t")[::2] for line in calls.splitlines()]
    argv = "\n".join(args for args, _ in pairs)
    assert CANARY not in argv and BASIC not in argv and "x-access-token" not in argv
    # (`git version` is GitPython's, run when it is imported, before the command starts)
    ours = [env for args, env in pairs if args != "version"]
    assert ours and set(ours) == {"env:"}
    written = "".join(p.read_bytes().decode("latin-1") for p in out.rglob("*") if p.is_file()
                      and ".cache" not in p.parts)
    cache = "".join(p.read_bytes().decode("latin-1") for p in (out / ".cache").rglob("*")
                    if p.is_file() and p.stat().st_size < 1 << 20)
    for text in (written, cache, done.stdout, done.stderr):
        assert CANARY not in text and BASIC not in text
    assert_never_saw_token(other)


def test_a_repositorys_config_is_untrusted_input(server: GitHubServer, tmp_path: Path) -> None:
    # rule folders outside the repository, an alias bomb, a config that is not UTF-8, a rule
    # folder that is a file: each fails that repository with a reason, never the run
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    configs = {"up": "rules: [../../etc]\n", "abs": "rules: [/etc]\n", "bomb": bomb,
               "file": "rules: [README.md]\n", "fine": "exclude: ['infra/**']\n"}
    for name, text in configs.items():
        server.add_repo("acme", name, {"infra/main.tf": TF, "README.md": "# x\n",
                                       ".maturity-scan.yaml": text})
    status = by_name(run_org(server, tmp_path))
    assert status["acme/fine"]["status"] == "scanned"
    assert status["acme/fine"]["levels"]["iac"] == 1  # excluded, as a local scan does
    for name in ("up", "abs"):
        assert status[f"acme/{name}"]["status"] == "failed"
        assert "must be a folder inside the repository" in status[f"acme/{name}"]["reason"]
    assert status["acme/bomb"]["status"] == "failed"
    assert status["acme/bomb"]["reason"].startswith("config: ")
    assert status["acme/file"]["status"] == "failed"
    assert "not a folder of the repository" in status["acme/file"]["reason"]
