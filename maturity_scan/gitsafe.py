"""Running git on an untrusted repository: its config, hooks and attributes execute nothing."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import git

from maturity_scan.errors import UsageError

# `-c` settings that override anything the scanned repository's own config could set to make
# git run a program (fsmonitor, hooks) or reach out (submodules, protocols other than file).
HARDENING = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.untrackedCache=false",
    "submodule.recurse=false",
    "protocol.ext.allow=never",
    "core.symlinks=false",
    "diff.external=",
)


def git_env() -> dict[str, str]:
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "LC_ALL": "C",
    }
    return env


def open_repo(path: Path) -> git.Repo | None:
    """The git repository whose work tree contains `path`, or None when there is none."""
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    # gitpython's own git processes (cat-file for the object store) get the same hardening as
    # run(), as config from the environment, plus a safe.directory for this repository: reading
    # objects of a repository owned by another user is fine, nothing of it executes.
    top = os.fspath(repo.working_tree_dir or repo.git_dir)
    items = [item.split("=", 1) for item in (*HARDENING, f"safe.directory={top}")]
    config = {"GIT_CONFIG_COUNT": str(len(items))}
    for i, (key, value) in enumerate(items):
        config[f"GIT_CONFIG_KEY_{i}"], config[f"GIT_CONFIG_VALUE_{i}"] = key, value
    repo.git.update_environment(**git_env(), **config, **_store(repo))
    return repo


def has_work_tree(repo: git.Repo) -> bool:
    """False for a bare repository, including one without `core.bare` in its config (a
    mirror's object store), which gitpython takes for a work tree in the parent folder."""
    tree = repo.working_tree_dir
    return bool(tree) and not repo.bare and (Path(tree) / ".git").exists()


def _store(repo: git.Repo) -> dict[str, str]:
    """Point git at the object store explicitly when gitpython would guess a work tree."""
    return {} if has_work_tree(repo) or repo.bare else {"GIT_DIR": os.fspath(repo.git_dir)}


def run(repo: git.Repo, *args: str, cwd: Path | None = None, timeout: float = 300) -> str:
    """`git -c … ARGS` with the hardening settings, a safe.directory for this repository
    (scanning a checkout owned by another user is fine: nothing of it executes) and a timeout."""
    top = repo.working_tree_dir or repo.git_dir
    cfg: list[str] = []
    for item in (*HARDENING, f"safe.directory={os.fspath(top)}"):
        cfg += ["-c", item]
    try:
        done = subprocess.run(["git", *cfg, *args], cwd=os.fspath(cwd or top),
                              env={**os.environ, **git_env(), **_store(repo)}, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise UsageError(f"{top}: git {args[0]} took longer than {timeout:g}s") from None
    if done.returncode != 0:
        first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise UsageError(f"{top}: git {args[0]} failed: {first[0] if first else done.returncode}")
    return done.stdout.decode("utf-8", "surrogateescape")
