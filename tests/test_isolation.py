"""No code from the scanned repository runs, and no process outlives the command.

A repository plants modules named like everything the scanner imports (and a package named like
the scanner itself, and a detector plugin's dist-info); every command run from inside it must
succeed without importing any of them. Then the parser workers must be gone after the command
ends, however it ends (done, ^C, SIGTERM, the parent killed outright)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gitrepo import ENV, commit, init

SCANNER = str(Path(sys.executable).with_name("maturity-scan"))
PLANTED = ("yaml", "click", "networkx", "git", "json", "multiprocessing", "hcl2", "pygohcl",
           "maturity_scan", "evil_plugin", "site", "sitecustomize", "usercustomize", "re",
           "signal", "socket", "subprocess", "resource", "ctypes")
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
WORKFLOW = ("on: [pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: pytest\n")


def plant(repo: Path, canaries: Path) -> dict[str, str]:
    """Modules that leave a canary file behind when imported."""
    files: dict[str, str] = {}
    for name in PLANTED:
        body = f"open({str(canaries / name)!r}, 'w').write('imported')\n"
        files[f"{name}.py"] = body
        files[f"src/{name}.py"] = body
    files["maturity_scan/__init__.py"] = files["maturity_scan.py"]
    files["maturity_scan/worker.py"] = files["maturity_scan.py"]
    files["maturity_scan/engine/__init__.py"] = files["maturity_scan.py"]
    files["maturity_scan/engine/worker.py"] = files["maturity_scan.py"]
    files["evil-1.0.dist-info/METADATA"] = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
    files["evil-1.0.dist-info/entry_points.txt"] = (
        "[maturity_scan.detectors]\nevil = evil_plugin:DETECTOR\n")
    return files


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, Path]:
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    repo = init(tmp_path / "repo")
    commit(repo, "base", {"infra/main.tf": TF, "README.md": "# r\n", **plant(repo, canaries)})
    commit(repo, "ci", {".github/workflows/ci.yml": WORKFLOW})
    return repo, canaries


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV}
    env.pop("PYTHONPATH", None)
    return subprocess.run([SCANNER, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args", [
    ["scan", "."],
    ["scan", ".", "--format", "json"],
    ["scan", ".", "--rev", "HEAD"],
    ["scan", ".", "--pack", "all"],
    ["diff", ".", "--base", "HEAD~1"],
    ["explain", ".", "iac"],
    ["history", ".", "--last", "2"],
], ids=lambda a: " ".join(a))
def test_nothing_planted_in_the_repository_is_imported(planted: tuple[Path, Path],
                                                       args: list[str]) -> None:
    repo, canaries = planted
    done = run(args, repo)
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert sorted(p.name for p in canaries.iterdir()) == []


def test_plugins_come_from_the_installed_environment_only(planted: tuple[Path, Path]) -> None:
    repo, canaries = planted
    done = run(["scan", ".", "--format", "json"], repo)
    assert done.returncode == 0, done.stderr
    assert '"evil' not in done.stdout
    assert list(canaries.iterdir()) == []


# -- no process outlives the command -------------------------------------------------------

def big_hcl(n: int) -> str:
    return "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b{i}"\n}}\n'
                   for i in range(n))


def workers_of(parent: int) -> list[int]:
    """Parser workers started by `parent` (their argv carries the parent's pid)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"maturity_scan.engine.worker" in a for a in argv) and str(parent).encode() in argv:
            found.append(int(entry.name))
    return found


def wait_for(predicate, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def slow_repo(tmp_path: Path) -> Path:
    # pygohcl needs seconds for these: long enough to interrupt the scan mid-parse
    repo = tmp_path / "slow"
    repo.mkdir()
    for i in range(3):
        (repo / f"big{i}.tf").write_text(big_hcl(60_000))
    return repo


def test_workers_end_with_a_finished_scan(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF)
    proc = subprocess.Popen([SCANNER, "scan", str(tmp_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert wait_for(lambda: workers_of(proc.pid) or proc.poll() is not None)
    assert proc.wait(120) == 0
    assert wait_for(lambda: not workers_of(proc.pid), 5)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 128 + 15),
                                       (signal.SIGKILL, -9)])
def test_workers_end_when_the_command_is_stopped(slow_repo: Path, sig: int, code: int) -> None:
    proc = subprocess.Popen([SCANNER, "scan", str(slow_repo), "--max-file-size", "100000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: bool(workers_of(proc.pid)))
        time.sleep(0.5)  # mid-parse
        workers = workers_of(proc.pid)
        proc.send_signal(sig)
        assert proc.wait(30) == code
        assert wait_for(lambda: not any(Path(f"/proc/{w}").exists() and
                                        Path(f"/proc/{w}/status").read_text().find("zombie") < 0
                                        for w in workers), 10), workers_of(proc.pid)
        assert b"Traceback" not in proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_no_multiprocessing_listener_files_are_left(slow_repo: Path, tmp_path: Path) -> None:
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    proc = subprocess.Popen([SCANNER, "scan", str(slow_repo), "--max-file-size", "100000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TMPDIR": str(tmp)})
    assert wait_for(lambda: bool(workers_of(proc.pid)))
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    assert list(tmp.iterdir()) == []
