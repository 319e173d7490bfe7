"""The hook definition runs for real through `pre-commit try-repo` on a repository whose
working tree loses evidence: the hook fails and says what was lost."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import ENV, commit, init
from tests.test_isolation import plant

ROOT = Path(__file__).resolve().parent.parent
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'


def hook_repo(tmp_path: Path) -> Path:
    """This project's committed files as a git repository (try-repo installs from it)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    dest = tmp_path / "hook"
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file() and not rel.startswith(("fixtures/", "tests/", "benchmarks/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    init(dest)
    commit(dest, "hook")
    return dest


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_precommit_try_repo_runs_the_gate(tmp_path: Path) -> None:
    target = init(tmp_path / "target")
    canaries = tmp_path / "canaries"
    canaries.mkdir()
    # the hook runs inside the checkout: nothing planted there may be imported
    commit(target, "infra", {"infra/main.tf": TF, "README.md": "# target\n",
                             **plant(target, canaries)})
    (target / "infra" / "main.tf").unlink()  # the change being committed drops the IaC
    env = {**os.environ, **ENV, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    env["HOME"] = str(tmp_path)
    # -I: `python -m` would otherwise import the checkout's planted yaml.py into pre-commit
    done = subprocess.run([sys.executable, "-I", "-m", "pre_commit", "try-repo",
                           str(hook_repo(tmp_path)),
                           "maturity-scan-gate", "--all-files", "--verbose"], cwd=target,
                          capture_output=True, text=True, env=env, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "maturity-scan gate" in out and "Failed" in out
    assert "iac: level dropped from 2 to 1" in out
    assert list(canaries.iterdir()) == []
