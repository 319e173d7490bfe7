"""Sources: what a scan lists and reads, in a working tree and at a git revision."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource, open_source
from maturity_scan.errors import UsageError
from tests.gitrepo import commit, init, write

TF = 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'


def listed(source: object) -> list[str]:
    return sorted(e.path for e in source.files())  # type: ignore[attr-defined]


def test_worktree_in_git_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "init", {".gitignore": "secret.tf\nbuild/\n", "main.tf": TF})
    write(repo, {"new.tf": TF, "secret.tf": TF, "build/out.tf": TF})
    assert listed(WorkTreeSource(repo)) == [".gitignore", "main.tf", "new.tf"]


def test_worktree_outside_git_lists_every_file_but_dependency_folders(tmp_path: Path) -> None:
    write(tmp_path, {"a/main.tf": TF, "node_modules/x/main.tf": TF, ".terraform/m/main.tf": TF,
                     "vendor/v.tf": TF, ".venv/lib/x.tf": TF})
    assert listed(WorkTreeSource(tmp_path)) == ["a/main.tf"]


def test_dependency_folders_skipped_even_when_tracked(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "init", {"main.tf": TF, "vendor/mod/main.tf": TF})
    assert listed(WorkTreeSource(repo)) == ["main.tf"]


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"main.tf": TF, "secret.txt": "s3cr3t"})
    root = tmp_path / "root"
    write(root, {"real.tf": TF})
    os.symlink(outside / "main.tf", root / "link.tf")
    os.symlink(outside, root / "linkdir")
    assert listed(WorkTreeSource(root)) == ["real.tf"]
    result = scan_source(WorkTreeSource(root), ScanOptions(jobs=0))
    assert {e.path for s in result.signals for e in s.evidence} == {"real.tf"}


def test_read_refuses_a_symlinked_parent_swapped_in_after_listing(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"main.tf": TF})
    root = tmp_path / "root"
    write(root, {"infra/main.tf": TF})
    src = WorkTreeSource(root)
    assert listed(src) == ["infra/main.tf"]
    (root / "infra" / "main.tf").unlink()
    (root / "infra").rmdir()
    os.symlink(outside, root / "infra")
    with pytest.raises(OSError):
        src.read("infra/main.tf")


def test_oversized_files_are_skipped_counted_and_reported(tmp_path: Path) -> None:
    write(tmp_path, {"big.tf": TF + "#" * 5000 + "\n", "small.tf": TF})
    result = scan_source(WorkTreeSource(tmp_path), ScanOptions(jobs=0, max_file_bytes=1000))
    assert result.stats.files_skipped_oversize == 1
    assert [(e.path, e.message) for e in result.errors] == [
        ("big.tf", "5 KiB exceeds the 1 KiB limit (skipped)")]
    assert result.signal("terraform") is not None


def test_missing_path_and_file_path_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or directory"):
        WorkTreeSource(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        WorkTreeSource(tmp_path / "f")


def test_revision_is_read_from_objects_without_checkout(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    first = commit(repo, "tf", {"infra/main.tf": TF})
    commit(repo, "drop tf", {"README.md": "# x\n"}, remove=("infra",))
    src = open_source(repo, "HEAD~1")
    assert isinstance(src, GitRevisionSource) and src.revision == first
    assert listed(src) == ["infra/main.tf"]
    assert src.read("infra/main.tf").decode() == TF
    assert not (repo / "infra").exists()  # nothing was checked out


def test_revision_skips_symlinks_and_submodule_entries(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    write(repo, {"main.tf": TF})
    os.symlink("/etc/passwd", repo / "passwd.tf")
    commit(repo, "init")
    assert listed(open_source(repo, "HEAD")) == ["main.tf"]


def test_revision_of_a_subfolder(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "init", {"a/main.tf": TF, "b/other.tf": TF})
    assert listed(open_source(repo / "a", "HEAD")) == ["main.tf"]


def test_bad_revision_and_no_git_are_usage_errors(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "init", {"main.tf": TF})
    with pytest.raises(UsageError, match="nope: not a revision"):
        open_source(repo, "nope")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(UsageError, match="not a git repository"):
        open_source(plain, "HEAD")


def test_hostile_git_config_runs_nothing(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "init", {"main.tf": TF})
    marker = tmp_path / "pwned"
    hook = f"#!/bin/sh\ntouch {marker}\n"
    (repo / "hook.sh").write_text(hook)
    (repo / "hook.sh").chmod(0o755)
    with open(repo / ".git" / "config", "a") as f:
        f.write(f"[core]\n\tfsmonitor = {repo / 'hook.sh'}\n\tpager = {repo / 'hook.sh'}\n")
    for name in ("post-checkout", "post-index-change", "reference-transaction"):
        (repo / ".git" / "hooks" / name).write_text(hook)
        (repo / ".git" / "hooks" / name).chmod(0o755)
    write(repo, {"new.tf": TF})
    assert listed(WorkTreeSource(repo)) == ["hook.sh", "main.tf", "new.tf"]
    assert listed(open_source(repo, "HEAD")) == ["main.tf"]
    assert not marker.exists()


def test_object_store_without_config(tmp_path: Path) -> None:
    """A mirror's bare object store with no `config` file: gitpython would guess a work tree in
    the parent folder, and git would refuse it as dubious or not a repository."""
    repo = init(tmp_path / "work")
    sha = commit(repo, "one", {"README.md": "# x\n", "big.bin": b"\0" * 10})
    store = tmp_path / "mirror" / "repo"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(store)], check=True)
    (store / "config").unlink()
    src = GitRevisionSource(store, "HEAD")
    assert src.revision == sha
    assert listed(src) == ["README.md", "big.bin"]
    assert src.read("README.md") == b"# x\n"
