"""The GitHub client's HTTP is httpx, imported at the first request only, with the bounds of
the hand-written client it replaced: a body past MAX_BODY_BYTES is refused, an error body is
read to a bound, nothing is decompressed, a connection dropped mid-answer is retried within the
wait budget. (Rate limits, redirects, Link headers and the token's hosts: tests/test_org.py and
tests/test_security_org.py, against the same loopback server.)"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maturity_scan.org import github
from tests.github_server import Fault, GitHubServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(tmp_path: Path):
    with GitHubServer(tmp_path / "srv") as srv:
        srv.state.root.mkdir(parents=True)
        srv.add_repo("acme", "a", None)
        yield srv


def test_httpx_is_imported_at_the_first_request_only(server: GitHubServer) -> None:
    code = ("import sys\n"
            "from maturity_scan.cli import main\n"
            "from maturity_scan.org import github\n"
            f"c = github.Client({server.url + '/api'!r}, None)\n"
            "assert 'httpx' not in sys.modules, 'imported before any request'\n"
            "with c:\n"
            "    assert [r.full_name for r in c.repositories('acme')] == ['acme/a']\n"
            "assert 'httpx' in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr


def test_bodies_are_bounded_and_never_decompressed(server: GitHubServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client = github.Client(f"{server.url}/api", None, sleep=lambda s: None)
    monkeypatch.setattr(github, "MAX_BODY_BYTES", 64)
    with pytest.raises(github.GitHubError, match="larger than"):
        client.repositories("acme")
    monkeypatch.undo()
    # a gzip answer is not inflated: it is not JSON (the client asks for identity)
    import gzip
    server.state.faults["/api/orgs/acme/repos"] = [
        Fault(200, {"Content-Encoding": "gzip"}, raw=gzip.compress(b"[]" + b" " * 100_000))]
    with pytest.raises(github.GitHubError, match="not JSON"):
        github.Client(f"{server.url}/api", None, sleep=lambda s: None).repositories("acme")
    assert server.state.seen_auth  # (requests were made)
    # an error's body is read to a bound: GitHub's message, one line
    server.state.faults["/api/orgs/acme/repos"] = [
        Fault(422, {}, {"message": "Validation\nFailed " + "x" * 3_000_000})]
    with pytest.raises(github.GitHubError) as e:
        github.Client(f"{server.url}/api", None, sleep=lambda s: None).repositories("acme")
    assert "HTTP 422" in str(e.value) and "\n" not in str(e.value) and len(str(e.value)) < 400


def test_a_dropped_connection_is_retried_then_reported(server: GitHubServer) -> None:
    slept: list[float] = []
    server.state.faults["/api/orgs/acme/repos"] = [Fault(drop=True), Fault(drop=True)]
    client = github.Client(f"{server.url}/api", None, backoff=0.01, sleep=slept.append)
    assert [r.full_name for r in client.repositories("acme")] == ["acme/a"]
    assert slept == [0.01, 0.02] and client.waited == pytest.approx(0.03)
    server.state.faults["/api/orgs/acme/repos"] = [Fault(drop=True)] * 3
    with pytest.raises(github.GitHubError, match="after 2 attempts"):
        github.Client(f"{server.url}/api", None, retries=1, sleep=slept.append
                      ).repositories("acme")
