"""Where a scan's files come from: a working tree or a git revision, behind one interface.

Detectors never know which. Both list files relative to the scan root with POSIX separators,
never follow symlinks, never list anything outside the root, and skip dependency folders.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from maturity_scan import gitsafe
from maturity_scan.errors import UsageError
from maturity_scan.model import FileError

if TYPE_CHECKING:
    import git

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


# What `read` allows when the caller gives no limit and the file was not listed.
DEFAULT_READ_LIMIT = 2 << 20
# A file (or blob) larger than the limit it is read with: one error entry, never a whole read.
FileTooLarge = gitsafe.FileTooLarge


class Source(Protocol):
    """A set of files to scan."""

    description: str  # for the report's target.path
    revision: str | None  # commit sha when scanning a revision
    # Folders and files that could not be listed, filled while `files()` runs: the scan
    # reports them with its other errors, so nothing is dropped silently.
    errors: list[FileError]

    def files(self) -> Iterator[FileEntry]: ...

    def read(self, path: str, limit: int | None = None) -> bytes:
        """The file's bytes; FileTooLarge above `limit` (default: the size it was listed
        with), never more than `limit` + 1 bytes read."""
        ...

    def repo(self) -> git.Repo | None:
        """The git repository, for history signals (None outside git)."""
        ...


def is_dependency_path(path: str) -> bool:
    return any(part in DEPENDENCY_DIRS for part in path.split("/")[:-1])


LISTING = "listing"  # the `detector` of an error about listing, not about one detector's file
_GIT_DIR_WARNING = re.compile(r"could not open directory '(.+?)/?': (.+)$")


def _blocking_ignore_file(root: Path) -> Path | None:
    """A `.gitignore` below `root` that is not a regular file (a FIFO blocks git forever)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in DEPENDENCY_DIRS]
        if ".gitignore" in filenames:
            full = Path(dirpath) / ".gitignore"
            try:
                if not stat.S_ISREG(os.stat(full).st_mode):
                    return full
            except OSError:
                continue
    return None


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
        self.errors: list[FileError] = []
        self._sizes: dict[str, int] = {}
        self._repo = gitsafe.open_repo(self.root)

    def repo(self) -> git.Repo | None:
        return self._repo

    def _unlisted(self, rel: str, why: str) -> None:
        self.errors.append(FileError(rel or ".", LISTING, why))

    def _git_candidates(self, repo: git.Repo) -> Iterator[str]:
        warnings: list[str] = []
        try:
            out = gitsafe.run(repo, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard", cwd=self.root, warnings=warnings)
        except UsageError as e:
            blocking = _blocking_ignore_file(self.root) if "longer than" in str(e) else None
            if blocking is None:
                raise
            raise UsageError(f"{blocking}: is not a regular file (a FIFO?): git waits on it "
                             "forever, so the files cannot be listed") from None
        top = Path(repo.working_tree_dir or self.root).resolve()
        prefix = self.root.relative_to(top).as_posix() + "/" if self.root != top else ""
        for line in warnings:  # folders git could not list: said, not dropped
            found = _GIT_DIR_WARNING.search(line)
            if found and found[1].startswith(prefix):
                self._unlisted(found[1][len(prefix):], f"folder could not be listed "
                                                       f"({found[2][:100]})")
        seen: set[str] = set()
        for p in out.split("\0"):
            if p and p not in seen:
                seen.add(p)
                yield p

    def _walk_candidates(self) -> Iterator[str]:
        def unreadable(e: OSError) -> None:
            rel = os.path.relpath(e.filename, self.root) if e.filename else "."
            self._unlisted(Path(rel).as_posix(), f"folder could not be listed "
                                                 f"({e.strerror or type(e).__name__})")

        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False,
                                                    onerror=unreadable):
            dirnames[:] = sorted(d for d in dirnames if d not in DEPENDENCY_DIRS)
            rel = os.path.relpath(dirpath, self.root)
            for name in sorted(filenames):
                yield name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")

    def files(self) -> Iterator[FileEntry]:
        self.errors.clear()
        has_tree = self._repo is not None and gitsafe.has_work_tree(self._repo)
        candidates = self._git_candidates(self._repo) if has_tree and self._repo is not None \
            else self._walk_candidates()
        for rel in candidates:
            if is_dependency_path(rel):
                continue
            try:
                st = os.lstat(self.root / rel)
            except (FileNotFoundError, NotADirectoryError):
                continue  # deleted since git listed it
            except OSError as e:
                self._unlisted(rel, f"could not be listed ({e.strerror or type(e).__name__})")
                continue
            if stat.S_ISREG(st.st_mode):  # never a symlink, device or fifo
                self._sizes[rel] = st.st_size
                yield FileEntry(rel, st.st_size)

    def read(self, path: str, limit: int | None = None) -> bytes:
        limit = self._sizes.get(path, DEFAULT_READ_LIMIT) if limit is None else limit
        full = self.root / path
        # O_NOFOLLOW refuses a final symlink; the resolved-parent check refuses a symlinked
        # folder swapped in since listing. Either way nothing outside the root is read.
        if not Path(os.path.realpath(full.parent)).is_relative_to(self.root):
            raise OSError("path leaves the repository")
        # O_NONBLOCK: a FIFO swapped in since listing must not block the open.
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{path}: no longer a regular file")
            data = f.read(limit + 1)  # a file growing while read stops here
        if len(data) > limit:
            raise FileTooLarge(f"{path}: more than {limit} bytes (it grew while read)")
        return data


class GitRevisionSource:
    """Files of one commit, read straight from the object store (no checkout)."""

    def __init__(self, root: Path, rev: str) -> None:
        if not root.exists():
            raise UsageError(f"{root}: no such file or directory")
        repo = gitsafe.open_repo(root.resolve())
        if repo is None:
            raise UsageError(f"{root}: not a git repository (needed for --rev)")
        commit = gitsafe.try_run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                                 f"{rev}^{{commit}}", max_bytes=1024)
        if not commit or not commit.strip():
            raise UsageError(f"{rev}: not a revision of {root}")
        self._repo = repo
        self.description = str(root)
        self.revision: str | None = commit.strip()
        self.errors: list[FileError] = []
        # Scanning a sub-folder of a repository scans that folder of the revision.
        top = Path(repo.working_tree_dir or repo.git_dir).resolve()
        sub = root.resolve().relative_to(top).as_posix() if gitsafe.has_work_tree(repo) else "."
        self._prefix = "" if sub == "." else sub + "/"
        self._blobs: dict[str, tuple[str, int]] = {}
        self._reader = gitsafe.BlobReader(repo)

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
            # A partial clone lists blobs it does not hold with no size: reading one fails
            # with a clear error if a detector claims it.
            known = int(size) if size.isdigit() else 0
            self._blobs[rel] = (sha, known)
            yield FileEntry(rel, known)

    def blob_id(self, path: str) -> str | None:
        """The listed file's git object id (the parse cache's key), without reading it."""
        found = self._blobs.get(path)
        return found[0] if found and len(found[0]) == 40 else None

    def read(self, path: str, limit: int | None = None) -> bytes:
        sha, size = self._blobs[path]
        return self._reader.read(sha, size if limit is None else limit)


def open_source(path: Path, rev: str | None = None) -> Source:
    return GitRevisionSource(path, rev) if rev else WorkTreeSource(path)
