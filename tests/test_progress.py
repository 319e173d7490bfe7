"""Progress shows on stderr when it is a terminal (a real pseudo-terminal here), never in the
report on stdout, never when stderr is piped, never with --quiet."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

from tests import gitrepo

FILES = {
    ".github/workflows/ci.yml": "on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                                "    steps:\n      - run: pytest\n",
    "main.tf": 'resource "aws_s3_bucket" "b" {}\n',
    "Dockerfile": "FROM python:3.12-slim\n",
}


def repo(tmp_path: Path) -> Path:
    root = gitrepo.init(tmp_path / "repo")
    gitrepo.commit(root, "one", FILES)
    gitrepo.git(root, "tag", "v1.0.0")
    gitrepo.commit(root, "two", {"k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\n"
                                                    "metadata: {name: x}\n"})
    gitrepo.git(root, "tag", "v1.1.0")
    return root


def run_on_pty(*args: str) -> tuple[int, str, str]:
    """The command with stderr on a pseudo-terminal and stdout on a pipe: (status, stdout,
    what the terminal showed)."""
    master, slave = pty.openpty()
    env = {**os.environ, "MATURITY_SCAN_PROGRESS_AFTER": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "maturity_scan", *args], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd="/")
    os.close(slave)
    shown = b""
    out = b""
    assert proc.stdout is not None
    streams = [master, proc.stdout.fileno()]
    while streams:
        ready, _, _ = select.select(streams, [], [], 120)
        assert ready, "the command hung"
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                chunk = b""
            if not chunk:
                streams.remove(fd)
            elif fd == master:
                shown += chunk
            else:
                out += chunk
    os.close(master)
    return proc.wait(60), out.decode(), shown.decode("utf-8", "replace")


def test_history_shows_revisions_done_on_a_terminal(tmp_path: Path) -> None:
    root = repo(tmp_path)
    status, out, shown = run_on_pty("history", "--tags", str(root), "--format", "json")
    assert status == 0, shown
    assert "revisions scanned 1/2" in shown and "revisions scanned 2/2" in shown
    assert re.search(r"\r(\x1b\[1A)?\x1b\[2?K$", shown)  # the line is cleared at the end
    assert [r["label"] for r in json.loads(out)["rows"]] == ["v1.0.0", "v1.1.0"]
    assert "\r" not in out and "\x1b" not in out


def test_a_scan_shows_files_parsed_on_a_terminal_and_never_in_the_report(tmp_path: Path) -> None:
    root = repo(tmp_path)
    status, out, shown = run_on_pty("scan", str(root), "--format", "json", "--no-cache")
    assert status == 0, shown
    assert "files parsed" in shown and f"/{len(FILES) + 1} (" in shown
    report = json.loads(out)
    assert report["stats"]["files_read"] == len(FILES) + 1
    assert "files parsed" not in out and "\x1b" not in out


def test_quiet_means_no_progress(tmp_path: Path) -> None:
    root = repo(tmp_path)
    status, out, shown = run_on_pty("scan", str(root), "--format", "json", "--quiet")
    assert status == 0, shown
    assert shown == ""
    json.loads(out)
    status, _, shown = run_on_pty("history", "--tags", "-q", str(root))
    assert status == 0 and shown == ""


def test_no_progress_when_stderr_is_piped(tmp_path: Path) -> None:
    root = repo(tmp_path)
    env = {**os.environ, "MATURITY_SCAN_PROGRESS_AFTER": "0"}
    for args in (["scan", str(root), "--format", "json"], ["history", "--tags", str(root)]):
        done = subprocess.run([sys.executable, "-m", "maturity_scan", *args], env=env,
                              capture_output=True, text=True, timeout=120, cwd="/")
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert "parsed" not in done.stdout and "\r" not in done.stdout
