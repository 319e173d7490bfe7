"""`scan URL` with a token in the environment: it goes to the clone host of the GitHub API
(`GITHUB_API_URL`, else github.com) only, as an HTTP header in git's environment, never to
another host, never into the report, the output or a file."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from maturity_scan.cli import main, remote
from tests.github_server import GitHubServer

CANARY = "ghp_CANARY0123456789abcdefCANARY"
BASIC = "Basic " + base64.b64encode(f"x-access-token:{CANARY}".encode()).decode()
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'


@pytest.fixture
def servers(tmp_path: Path):
    with GitHubServer(tmp_path / "srv") as srv, GitHubServer(tmp_path / "other") as other:
        for s, owner in ((srv, "acme"), (other, "evil")):
            s.state.root.mkdir(parents=True)
            s.add_repo(owner, "infra", {"infra/main.tf": TF, "README.md": "# r\n"})
        yield srv, other


def scan(capsys: pytest.CaptureFixture[str], url: str, out: Path) -> str:
    code = main(["scan", url, "--format", "json", "-o", str(out), "-j", "0"])
    shown = capsys.readouterr()
    assert code == 0, shown.err
    return shown.out + shown.err + out.read_text()


def test_the_token_goes_to_the_apis_clone_host_only(servers: tuple[GitHubServer, GitHubServer],
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    srv, other = servers
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    monkeypatch.setenv("GITHUB_API_URL", f"{srv.url}/api")
    shown = scan(capsys, f"{srv.url}/git/acme/infra.git", tmp_path / "a.json")
    assert srv.state.git_calls and set(srv.state.seen_auth) == {BASIC}
    assert CANARY not in shown
    # another host (same address, another port): nothing
    shown = scan(capsys, f"{other.url}/git/evil/infra.git", tmp_path / "b.json")
    assert other.state.git_calls and set(other.state.seen_auth) == {""}
    assert CANARY not in shown and BASIC.split()[1] not in shown
    # without GITHUB_API_URL the API is api.github.com: a loopback server gets nothing
    monkeypatch.delenv("GITHUB_API_URL")
    calls = len(srv.state.seen_auth)
    scan(capsys, f"{srv.url}/git/acme/infra.git", tmp_path / "c.json")
    assert set(srv.state.seen_auth[calls:]) == {""}
    rep = json.loads((tmp_path / "c.json").read_text())
    assert rep["target"]["path"] == f"{srv.url}/git/acme/infra.git"


def test_token_rules() -> None:
    env = {"GITHUB_TOKEN": CANARY}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("GITHUB_API_URL", raising=False)
        assert remote.token_for("https://github.com/acme/infra.git") == CANARY
        for url in ("https://github.com.evil.example/acme/infra.git",
                    "https://gitlab.com/acme/infra.git", "http://github.com/acme/infra.git",
                    "https://github.com:8443/acme/infra.git",
                    "https://user@github.com/acme/infra.git"):
            assert remote.token_for(url) is None, url
        mp.setenv("GITHUB_API_URL", "https://ghes.example.com/api/v3")
        assert remote.token_for("https://ghes.example.com/acme/infra.git") == CANARY
        assert remote.token_for("https://github.com/acme/infra.git") is None
        mp.setenv("GITHUB_API_URL", "http://ghes.example.com/api/v3")  # plain http: never
        assert remote.token_for("http://ghes.example.com/acme/infra.git") is None
        mp.setenv("GITHUB_API_URL", "not a url")
        assert remote.token_for("https://github.com/acme/infra.git") is None
