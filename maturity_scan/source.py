"""Where a scan's files come from: a working tree or a git revision, behind one interface.

Detectors never know which. Both list files relative to the scan root with POSIX separators,
never follow symlinks, never list anything outside the root, and skip dependency folders.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import git

from maturity_scan import gitsafe
from maturity_scan.errors import UsageError

# Folders that hold other people's code: their files are never evidence for this repository.
DEPENDENCY_DIRS = frozenset({
    "node_modules", "vendor", ".terraform", ".terragrunt-cache", ".venv", "venv",
    "site-packages", "bower_components", ".tox", ".nox", "__pycache__", ".git",
    ".mypy_cache", ".pytest_cache", ".gradle", "Pods", "third_party_deps",
})


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the scan root, POSIX
    size: int


class Source(Protocol):
    """A set of files to scan."""

    description: str  # for the report's target.path
    revision: str | None  # commit sha when scanning a revision

    def files(self) -> Iterator[FileEntry]: ...

    def read(self, path: str) -> bytes: ...

    def repo(self) -> git.Repo | None:
        """The git repository, for history signals (None outside git)."""
        ...


def is_dependency_path(path: str) -> bool:
    return any(part in DEPENDENCY_DIRS for part in path.split("/")[:-1])


class WorkTreeSource:
    """Files on disk under `root`: in git, what git tracks plus untracked files it does not
    ignore; elsewhere, every regular file."""

    def __init__(self, root: Path) -> None:
        if not root.exists():
            raise UsageError(f"{root}: no such file or directory")
        if not root.is_dir():
            raise UsageError(f"{root}: not a directory")
        self.root = root.resolve()
        self.description = str(root)
        self.revision: str | None = None
        self._repo = gitsafe.open_repo(self.root)

    def repo(self) -> git.Repo | None:
        return self._repo

    def _candidates(self) -> Iterator[str]:
        if self._repo is not None and not self._repo.bare:
            out = gitsafe.run(self._repo, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard", cwd=self.root)
            seen: set[str] = set()
            for p in out.split("\0"):
                if p and p not in seen:
                    seen.add(p)
                    yield p
            return
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in DEPENDENCY_DIRS)
            rel = os.path.relpath(dirpath, self.root)
            for name in sorted(filenames):
                yield name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")

    def files(self) -> Iterator[FileEntry]:
        for rel in self._candidates():
            if is_dependency_path(rel):
                continue
            try:
                st = os.lstat(self.root / rel)
            except OSError:
                continue  # deleted since git listed it
            if stat.S_ISREG(st.st_mode):  # never a symlink, device or fifo
                yield FileEntry(rel, st.st_size)

    def read(self, path: str) -> bytes:
        full = self.root / path
        # O_NOFOLLOW refuses a final symlink; the resolved-parent check refuses a symlinked
        # folder swapped in since listing. Either way nothing outside the root is read.
        if not Path(os.path.realpath(full.parent)).is_relative_to(self.root):
            raise OSError("path leaves the repository")
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            return f.read()


class GitRevisionSource:
    """Files of one commit, read straight from the object store (no checkout)."""

    def __init__(self, root: Path, rev: str) -> None:
        if not root.exists():
            raise UsageError(f"{root}: no such file or directory")
        repo = gitsafe.open_repo(root.resolve())
        if repo is None:
            raise UsageError(f"{root}: not a git repository (needed for --rev)")
        try:
            commit = repo.commit(rev)
        except (git.BadName, ValueError, git.GitCommandError) as e:
            raise UsageError(f"{rev}: not a revision of {root} ({type(e).__name__})") from None
        self._repo = repo
        self.description = str(root)
        self.revision = commit.hexsha
        # Scanning a sub-folder of a repository scans that folder of the revision.
        top = Path(repo.working_tree_dir or repo.git_dir).resolve()
        sub = root.resolve().relative_to(top).as_posix() if gitsafe.has_work_tree(repo) else "."
        self._prefix = "" if sub == "." else sub + "/"
        self._blobs: dict[str, str] = {}

    def repo(self) -> git.Repo | None:
        return self._repo

    def files(self) -> Iterator[FileEntry]:
        out = gitsafe.run(self._repo, "ls-tree", "-r", "-l", "-z", "--full-tree",
                          self.revision or "HEAD")
        for record in out.split("\0"):
            if not record:
                continue
            meta, path = record.split("\t", 1)
            mode, otype, sha, size = meta.split()
            if otype != "blob" or mode == "120000" or not path.startswith(self._prefix):
                continue  # trees, submodules (commit) and symlinks are never read
            rel = path[len(self._prefix):]
            if is_dependency_path(rel):
                continue
            self._blobs[rel] = sha
            # A partial clone lists blobs it does not hold with no size: reading one fails
            # with a clear error if a detector claims it.
            yield FileEntry(rel, int(size) if size.isdigit() else 0)

    def read(self, path: str) -> bytes:
        sha = self._blobs[path]
        return self._repo.odb.stream(bytes.fromhex(sha)).read()  # type: ignore[no-any-return]


def open_source(path: Path, rev: str | None = None) -> Source:
    return GitRevisionSource(path, rev) if rev else WorkTreeSource(path)
