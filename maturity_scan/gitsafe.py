"""Running git on an untrusted repository: its config, hooks and attributes execute nothing,
nothing outside the repository is read, and every call ends in bounded time and output.

The scanned repository's `.git` is attacker-controlled. Before git or gitpython touches it,
`locate` checks the files git reads first (no FIFO or device to block on, no include or
`gitdir:` that leads outside), asks git where the repository is, and refuses a git directory,
common directory or alternate object store outside the repository's work tree. Every git
process then runs with `HARDENING` + `LOCAL` as command-line config (which beats the
repository's own), no stdin, a timeout and a cap on what it may print.
"""
from __future__ import annotations

import concurrent.futures.thread  # noqa: F401  (its exit hook must be registered before ours)
import os
import re
import selectors
import stat
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from maturity_scan.errors import UsageError

if TYPE_CHECKING:  # gitpython is imported when a repository is opened: parser workers never do
    import git

# `-c` settings that override anything the scanned repository's own config could set to make
# git run a program or reach out. Safe for every git process we start, clones included.
HARDENING: dict[str, str] = {
    "core.fsmonitor": "false",
    "core.hooksPath": "/dev/null",
    "core.untrackedCache": "false",
    "submodule.recurse": "false",
    "protocol.ext.allow": "never",
    "core.symlinks": "false",
    "diff.external": "",
    # A signed commit plus log.showSignature runs gpg.program (or the x509 / ssh one) from
    # `git log` and `git show`; signatures are never checked, and never by their program.
    "log.showSignature": "false",
    "gpg.program": "false",
    "gpg.openpgp.program": "false",
    "gpg.x509.program": "false",
    "gpg.ssh.program": "false",
    "gpg.ssh.defaultKeyCommand": "false",
    # Programs git starts for a person at a terminal: never wanted (and no terminal anyway).
    "core.pager": "cat",
    "core.editor": "false",
    "sequence.editor": "false",
    "core.askPass": "",
    # Run when a fetch or push looks at alternates' refs: a fixed harmless command instead.
    "core.alternateRefsCommand": "true",
    # Output we parse: no colour codes, one encoding.
    "color.ui": "false",
    "i18n.logOutputEncoding": "UTF-8",
}

# Reading a local repository needs no transport at all: every protocol is off, so no remote
# helper, `remote.*.uploadpack`, `core.sshCommand`, `core.gitProxy` or credential helper
# (programs a partial clone's lazy fetch would start) can run. Also: no global excludes or
# attributes files (the listing depends on the repository alone), no background gc, and a
# repository owned by another user is fine to read (nothing of it executes).
# Not set, on purpose: `uploadpack.packObjectsHook` and `safe.directory` are only read from
# protected config, never the repository's. Filter drivers (`filter.*.clean/smudge/process`)
# and textconv run only for checkouts, `--filters` and `--textconv`, which are never used.
LOCAL: dict[str, str] = {
    "protocol.allow": "never",
    **{f"protocol.{name}.allow": "never" for name in ("file", "git", "ssh", "http", "https")},
    "credential.helper": "",
    "core.sshCommand": "false",
    "core.excludesFile": "/dev/null",
    "core.attributesFile": "/dev/null",
    "gc.auto": "0",
    "maintenance.auto": "false",
    "safe.directory": "*",
}

TIMEOUT_ENV = "MATURITY_SCAN_GIT_TIMEOUT"
DEFAULT_TIMEOUT = 60.0  # seconds per git call; a FIFO in the repository blocks git forever
MAX_OUTPUT = 256 << 20  # bytes a git call may print before it is ended
MAX_CONTROL_FILE = 1 << 20  # .git file, config, commondir, alternates: read in this process

# Environment that would point git at another repository than the one located.
_REPO_SELECTING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_NAMESPACE")


class FileTooLarge(ValueError):
    """A file or blob is larger than the limit it is read with (or grew past it while read)."""


def default_timeout() -> float:
    """The time one git call may take: MATURITY_SCAN_GIT_TIMEOUT seconds, else 60."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        raise UsageError(f"{TIMEOUT_ENV}: not a number of seconds") from None
    return value if value > 0 else DEFAULT_TIMEOUT


def git_env() -> dict[str, str]:
    return {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_ALLOW_PROTOCOL": "",  # beats any protocol.*.allow: no transport at all
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_PAGER": "cat",
        "GIT_EDITOR": "false",
        "LC_ALL": "C",
    }


def _config_items() -> list[tuple[str, str]]:
    return [*HARDENING.items(), *LOCAL.items()]


def _environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_SELECTING}
    return {**env, **git_env(), **(extra or {})}


# --- processes -----------------------------------------------------------------------------

_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()


def _end_all() -> None:
    """At exit, before threads are joined: end every git still running, so a thread waiting
    on one (after ^C or SIGTERM) cannot keep the process alive."""
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for proc in procs:
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f is not None:
            try:
                f.close()
            except OSError:
                pass
    with _LIVE_LOCK:
        _LIVE.discard(proc)


# threading's exit hooks run before non-daemon threads are joined, newest first: registered
# after concurrent.futures' own (imported above), this one runs before that join.
getattr(threading, "_register_atexit", lambda fn: None)(_end_all)


def _spawn(args: list[str], cwd: str, env: dict[str, str],
           stdin: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    cfg: list[str] = []
    for key, value in _config_items():
        cfg += ["-c", f"{key}={value}"]
    proc = subprocess.Popen(["git", "--no-pager", *cfg, *args], cwd=cwd, env=env, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with _LIVE_LOCK:
        _LIVE.add(proc)
    return proc


class _Ended(Exception):
    """A git call ran out of time or printed too much; the message says which."""


def _collect(proc: subprocess.Popen[bytes], seconds: float,
             max_bytes: int) -> tuple[int, bytes, bytes]:
    """Everything the process prints until it exits, ended after `seconds` or `max_bytes`."""
    deadline = time.monotonic() + seconds
    out, err = bytearray(), bytearray()
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ, out)
            sel.register(proc.stderr, selectors.EVENT_READ, err)
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _Ended(f"took longer than {seconds:g}s")
                for key, _ in sel.select(left):
                    chunk = os.read(key.fd, 1 << 16)
                    if not chunk:
                        sel.unregister(key.fileobj)
                    elif key.data is out:
                        out += chunk
                        if len(out) > max_bytes:
                            raise _Ended(f"printed more than {max_bytes} bytes")
                    elif len(err) < 1 << 16:  # stderr: the start is enough
                        err += chunk
        rc = proc.wait(max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        raise _Ended(f"took longer than {seconds:g}s") from None
    finally:
        _kill(proc)
    return rc, bytes(out), bytes(err)


def _git(args: list[str], cwd: str, where: str, *, seconds: float | None = None,
         max_bytes: int = MAX_OUTPUT,
         env: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    seconds = seconds or default_timeout()
    try:
        proc = _spawn(args, cwd, _environ(env))
    except OSError as e:
        raise UsageError(f"{where}: cannot run git ({e.strerror})") from None
    try:
        rc, out, err = _collect(proc, seconds, max_bytes)
    except _Ended as e:
        hint = f" (a FIFO in the repository? raise {TIMEOUT_ENV} for a slow disk)" \
            if "longer" in str(e) else ""
        raise UsageError(f"{where}: git {args[0]} {e}{hint}") from None
    return rc, out, err.decode("utf-8", "replace")


def _first_line(err: str, rc: int) -> str:
    lines = [line for line in err.strip().splitlines() if not line.startswith("hint:")]
    return lines[0][:300] if lines else f"exit status {rc}"


def run(repo: git.Repo, *args: str, cwd: Path | None = None, timeout: float | None = None,
        max_bytes: int = MAX_OUTPUT, warnings: list[str] | None = None) -> str:
    """`git ARGS` in `repo`, hardened, with no stdin, ended after `timeout` seconds (default:
    `default_timeout()`) or `max_bytes` of output. A failure is a UsageError naming the repository.
    `warnings` (if given) receives what git printed on stderr."""
    top = os.fspath(repo.working_tree_dir or repo.git_dir)
    rc, out, err = _git(list(args), os.fspath(cwd or top), top, seconds=timeout,
                        max_bytes=max_bytes, env=_store(repo))
    if rc != 0:
        raise UsageError(f"{top}: git {args[0]} failed: {_first_line(err, rc)}")
    if warnings is not None:
        warnings += err.splitlines()
    return out.decode("utf-8", "surrogateescape")


def try_run(repo: git.Repo, *args: str, timeout: float | None = None,
            max_bytes: int = MAX_OUTPUT) -> str | None:
    """Like `run`, but None when git exits with an error (a missing revision, say). Running
    out of time or output is still a UsageError."""
    top = os.fspath(repo.working_tree_dir or repo.git_dir)
    rc, out, _ = _git(list(args), top, top, seconds=timeout, max_bytes=max_bytes,
                      env=_store(repo))
    return out.decode("utf-8", "surrogateescape") if rc == 0 else None


# --- where the repository is ---------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """Where git found the repository, checked: `git_dir` and `common_dir` lie inside `top`
    (or, for a linked worktree or submodule, name `top` as their own work tree)."""

    top: Path | None  # the work tree's top folder; None for a bare repository
    git_dir: Path
    common_dir: Path

    @property
    def root(self) -> Path:
        return self.top or self.git_dir

    @property
    def allowed(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.top, self.git_dir, self.common_dir) if p is not None)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _blocking(path: Path, mode: int) -> UsageError:
    return UsageError(f"{path}: is {_kind(mode)}, not a regular file: refusing to read this "
                      "repository (git would wait on it forever)")


def check_regular(path: Path, *, max_bytes: int | None = None) -> bool:
    """True for a regular file, False when `path` does not exist or is a folder; a UsageError
    for anything git would block on or read without end (a FIFO, socket or device), or a
    control file larger than `max_bytes`."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as e:
        raise UsageError(f"{path}: cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        return False
    if not stat.S_ISREG(st.st_mode):
        raise _blocking(path, st.st_mode)
    if max_bytes is not None and st.st_size > max_bytes:
        raise UsageError(f"{path}: {st.st_size} bytes, too large for a git control file")
    return True


def _read_control(path: Path) -> str | None:
    """A small file git reads for its layout (.git file, commondir, gitdir), or None."""
    if not check_regular(path, max_bytes=MAX_CONTROL_FILE):
        return None
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_CONTROL_FILE).decode("utf-8", "surrogateescape")


def _inside(path: Path, dirs: tuple[Path, ...]) -> bool:
    return any(path == d or path.is_relative_to(d) for d in dirs)


def _nearest_git_dir(path: Path) -> Path | None:
    """The git directory git's own discovery would find first from `path` (a `.git` folder,
    a `.git` file's `gitdir:`, or a bare repository), or None. git has the last word; this
    only lets the files it reads on the way be checked before it runs."""
    for folder in (path, *path.parents):
        dotgit = folder / ".git"
        try:
            st = os.stat(dotgit)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        except OSError as e:
            raise UsageError(f"{dotgit}: cannot be read ({e.strerror})") from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            return dotgit
        if st is not None:
            text = _read_control(dotgit) or ""
            if not text.startswith("gitdir:"):
                raise UsageError(f"{dotgit}: not a git directory or `gitdir:` file")
            return Path(os.path.normpath(folder / text[len("gitdir:"):].strip()))
        if (folder / "objects").is_dir() and (folder / "refs").is_dir() and \
                os.path.lexists(folder / "HEAD"):
            return folder
    return None


# Files in a git directory that git reads while finding, listing or reading a repository.
_GIT_DIR_FILES = ("HEAD", "config", "config.worktree", "commondir", "gitdir", "index",
                  "packed-refs", "shallow", "ORIG_HEAD", "FETCH_HEAD", "MERGE_HEAD",
                  "CHERRY_PICK_HEAD", "REVERT_HEAD", "BISECT_HEAD", "AUTO_MERGE",
                  "info/exclude", "info/attributes", "info/grafts", "info/sparse-checkout",
                  "objects/info/alternates", "objects/info/packs", "objects/info/commit-graph",
                  "objects/info/commit-graphs/commit-graph-chain",
                  "objects/pack/multi-pack-index")
_CONTROL = ("config", "config.worktree", "commondir", "gitdir", "objects/info/alternates")
# Folders of a git directory whose contents git reads: a symbolic link may not lead out.
_GIT_DIR_FOLDERS = ("objects", "refs", "info", "objects/info", "objects/pack", "worktrees")
_INCLUDE_KEY = re.compile(r"^include(if\..*)?\.path$", re.I)


def _config_get(config: Path, *args: str) -> tuple[int, str, str]:
    """`git config --file CONFIG ARGS`, run from `/`: never inside the repository, whose own
    config (and its includes) git would otherwise read first."""
    rc, out, err = _git(["config", "--file", os.fspath(config), "--no-includes", *args], "/",
                        os.fspath(config))
    return rc, out.decode("utf-8", "surrogateescape"), err


def _check_config_includes(config: Path, depth: int = 0) -> None:
    """Every file a config includes (include.path, includeIf.*.path) must be a regular file:
    git reads them before anything else, and a FIFO would block it."""
    if depth > 10 or not check_regular(config, max_bytes=MAX_CONTROL_FILE):
        return
    rc, out, err = _config_get(config, "-z", "--get-regexp", "^include")
    if rc not in (0, 1):  # 1: no include at all
        raise UsageError(f"{config}: not a valid git config ({_first_line(err, rc)})")
    for record in out.split("\0"):
        key, _, value = record.partition("\n")
        if _INCLUDE_KEY.match(key) and value:
            target = Path(os.path.expanduser(value))
            _check_config_includes(config.parent / target, depth + 1)


def _check_git_dir(git_dir: Path, allowed: tuple[Path, ...], checked: set[Path]) -> None:
    """The files git reads in a git directory are regular (or absent), and none is a symbolic
    link out of the repository (git's error messages quote lines of what they read)."""
    if git_dir in checked:
        return
    checked.add(git_dir)
    for name in (*_GIT_DIR_FOLDERS, *_GIT_DIR_FILES):
        full = git_dir / name
        if os.path.islink(full) and not _inside(Path(os.path.realpath(full)), allowed):
            raise UsageError(f"{full}: a symbolic link to {os.path.realpath(full)}, outside "
                             "the repository: refusing to read it")
        if name in _GIT_DIR_FILES:
            check_regular(full, max_bytes=MAX_CONTROL_FILE if name in _CONTROL else None)
    _check_config_includes(git_dir / "config")
    _check_config_includes(git_dir / "config.worktree")


def _common_dir_of(git_dir: Path) -> Path:
    text = _read_control(git_dir / "commondir")
    return Path(os.path.normpath(git_dir / text.strip())) if text and text.strip() else git_dir


def _precheck(path: Path, checked: set[Path]) -> None:
    """Before git runs: the files its discovery reads are regular files."""
    git_dir = _nearest_git_dir(path)
    if git_dir is None or not git_dir.is_dir():
        return
    common = _common_dir_of(git_dir)
    allowed = (Path(os.path.realpath(git_dir)), Path(os.path.realpath(common)))
    _check_git_dir(git_dir, allowed, checked)
    if common != git_dir and common.is_dir():
        _check_git_dir(common, allowed, checked)


def _check_tree(folder: Path, limit: int = 100_000) -> None:
    """Loose refs and pack files: git opens them; none may be a FIFO or device."""
    seen = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            seen += 1
            if seen > limit:
                return
            full = Path(dirpath) / name
            try:
                mode = os.stat(full).st_mode
            except OSError:
                continue  # a dangling symbolic ref: git reports it itself
            if not stat.S_ISREG(mode):
                raise _blocking(full, mode)


def _claimed_top(git_dir: Path) -> Path | None:
    """The work tree a git directory names as its own: a linked worktree's admin folder
    (its `gitdir` file), a submodule's (its `core.worktree`), or a `.git` folder's parent."""
    admin = _read_control(git_dir / "gitdir")
    if admin and admin.strip():
        return Path(os.path.realpath(Path(git_dir, admin.strip()).parent))
    if check_regular(git_dir / "config", max_bytes=MAX_CONTROL_FILE):
        rc, value, _ = _config_get(git_dir / "config", "--get", "core.worktree")
        if rc == 0 and value.strip():
            return Path(os.path.realpath(git_dir / value.strip()))
    if git_dir.name == ".git":
        return git_dir.parent
    return None


def _check_alternates(objects: Path, allowed: tuple[Path, ...], depth: int = 0) -> None:
    """Object stores borrowed through objects/info/alternates must lie inside the repository:
    else `--rev` could read another repository's objects by id."""
    text = _read_control(objects / "info" / "alternates")
    if not text or depth > 5:
        return
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        store = Path(os.path.realpath(objects / line.strip('"')))
        if not _inside(store, allowed):
            raise UsageError(f"{objects / 'info' / 'alternates'}: borrows objects from "
                             f"{store}, outside the repository: refusing to read it")
        _check_alternates(store, allowed, depth + 1)


def _rev_parse(path: Path, *args: str) -> tuple[int, list[str], str]:
    rc, out, err = _git(["rev-parse", *args], os.fspath(path), os.fspath(path))
    return rc, out.decode("utf-8", "surrogateescape").splitlines(), err


def locate(path: Path, _again: bool = True) -> Layout | None:
    """The checked layout of the repository `path` is in, or None outside git. A UsageError
    when reading it would block, or read files of another repository."""
    path = Path(os.path.realpath(path))
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    if _nearest_git_dir(path) is None:
        return None  # git would find nothing either (and need not be installed)
    checked: set[Path] = set()
    _precheck(path, checked)
    rc, lines, err = _rev_parse(path, "--path-format=absolute", "--git-dir", "--git-common-dir",
                                "--is-bare-repository", "--is-inside-git-dir")
    if rc != 0:
        if "not a git repository" in err:
            return None
        raise UsageError(f"{path}: git cannot read this repository: {_first_line(err, rc)}")
    git_dir, common = (Path(os.path.realpath(p)) for p in lines[:2])
    bare, in_git_dir = lines[2] == "true", lines[3] == "true"
    if in_git_dir and not bare:
        # A work tree's git directory itself (gitpython's git_dir): the work tree it names.
        claimed = _claimed_top(git_dir) if path == git_dir else None
        if claimed is None or not _again:
            raise UsageError(f"{path}: inside a git directory; scan its work tree instead")
        return locate(claimed, _again=False)
    top = None
    if not bare:
        rc, lines, err = _rev_parse(path, "--show-toplevel")
        if rc != 0 or not lines:
            raise UsageError(f"{path}: git finds no work tree for {git_dir} "
                             f"({_first_line(err, rc)})")
        top = Path(os.path.realpath(lines[0]))
    layout = Layout(top, git_dir, common)
    _check_layout(path, layout, checked)
    return layout


def _check_layout(path: Path, layout: Layout, checked: set[Path]) -> None:
    top, git_dir, common = layout.top, layout.git_dir, layout.common_dir
    if top is None:
        if not _inside(path, (git_dir,)) or not _inside(common, (git_dir,)):
            raise UsageError(f"{path}: its git directory {git_dir} (objects in {common}) is "
                             "outside it: refusing to read another repository")
    elif not _inside(path, (top,)):
        raise UsageError(f"{path}: git's work tree for {git_dir} is {top} (core.worktree?), "
                         "which does not contain it: refusing to read another folder")
    elif _inside(git_dir, (top,)) and not _inside(common, (top,)):
        raise UsageError(f"{git_dir}: its commondir leads to {common}, outside the repository: "
                         "refusing to read another repository")
    elif not _inside(git_dir, (top,)) and _claimed_top(git_dir) != top:
        # A linked worktree's or submodule's git directory lies elsewhere, and names this
        # work tree as its own; a `.git` file's `gitdir:` to any other repository does not.
        raise UsageError(f"{top}: its .git leads to {git_dir}, outside the repository, which "
                         "does not name it as its work tree: refusing to read another "
                         "repository")
    for folder in (git_dir, common):
        _check_git_dir(folder, layout.allowed, checked)
        _check_tree(folder / "refs")
        _check_tree(folder / "objects" / "pack")
    _check_alternates(common / "objects", layout.allowed)
    if top is not None:
        for folder in (path, *path.parents):
            check_regular(folder / ".gitignore")
            if folder == top:
                break


# --- gitpython ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _safe_repo() -> type[git.Repo]:
    import git

    class _SafeRepo(git.Repo):
        """gitpython's Repo, reading the repository's config without following its includes:
        an include is a file outside the repository (or a FIFO) read in this process, and an
        `includeIf` breaks gitpython outright. Only `core.bare`/`core.worktree` are read, and
        the layout comes from git (`locate`) anyway."""

        layout: Layout

        def _config_reader(self, config_level: Any = None,
                           git_dir: Any = None) -> git.GitConfigParser:
            levels = [config_level] if config_level else [f for f in self.config_level if f]
            files = [self._get_config_path(level, git_dir) for level in levels]
            return git.GitConfigParser(files, read_only=True, repo=self, merge_includes=False)

    return _SafeRepo


def open_repo(path: Path) -> git.Repo | None:
    """The git repository whose work tree contains `path` (or the bare repository `path`),
    or None when there is none. A UsageError when it cannot be read safely (see `locate`)."""
    layout = locate(path)
    if layout is None:
        return None
    import git

    try:
        repo = _safe_repo()(layout.root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{layout.root}: git found a repository here that gitpython cannot "
                         "open") from None
    if Path(os.path.realpath(repo.git_dir)) != layout.git_dir:
        raise UsageError(f"{layout.root}: git and gitpython disagree on the git directory "
                         f"({layout.git_dir} vs {repo.git_dir})")
    repo.layout = layout
    # gitpython's own git processes get the same hardening as run(), as config from the
    # environment.
    items = _config_items()
    config = {"GIT_CONFIG_COUNT": str(len(items))}
    for i, (key, value) in enumerate(items):
        config[f"GIT_CONFIG_KEY_{i}"], config[f"GIT_CONFIG_VALUE_{i}"] = key, value
    repo.git.update_environment(**git_env(), **config, **_store(repo))
    return repo


def has_work_tree(repo: git.Repo) -> bool:
    """False for a bare repository, including one without `core.bare` in its config (a
    mirror's object store), which gitpython takes for a work tree in the parent folder."""
    layout = getattr(repo, "layout", None)
    if layout is not None:
        return layout.top is not None
    tree = repo.working_tree_dir
    return bool(tree) and not repo.bare and (Path(tree) / ".git").exists()


def _store(repo: git.Repo) -> dict[str, str]:
    """Point git at the object store explicitly when gitpython would guess a work tree."""
    return {} if has_work_tree(repo) or repo.bare else {"GIT_DIR": os.fspath(repo.git_dir)}


# --- blobs --------------------------------------------------------------------------------

class BlobReader:
    """One `git cat-file --batch` process serving blobs by id, each read bounded in size (the
    header gives it before any content is read) and in time. Its stdin is our pipe."""

    def __init__(self, repo: git.Repo) -> None:
        self._repo = repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = bytearray()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            top = os.fspath(self._repo.working_tree_dir or self._repo.git_dir)
            self._proc = _spawn(["cat-file", "--batch"], top, _environ(_store(self._repo)),
                                stdin=subprocess.PIPE)
            self._buf.clear()
            weakref.finalize(self, _kill, self._proc)
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            _kill(self._proc)
            self._proc = None

    def _fill(self, deadline: float) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise TimeoutError("git cat-file took too long (a FIFO in the repository?)")
        chunk = os.read(proc.stdout.fileno(), 1 << 16)
        if not chunk:
            raise OSError("git cat-file ended unexpectedly")
        self._buf += chunk

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            self._fill(deadline)
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _line(self, deadline: float) -> bytes:
        while b"\n" not in self._buf:
            if len(self._buf) > 4096:
                raise OSError("git cat-file: malformed reply")
            self._fill(deadline)
        return self._take(self._buf.index(b"\n") + 1, deadline)[:-1]

    def read(self, sha: str, limit: int, seconds: float | None = None) -> bytes:
        """The blob `sha`; FileTooLarge above `limit` bytes, KeyError when absent,
        TimeoutError (an OSError) when git takes longer than `seconds`."""
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            raise KeyError(sha)
        proc = self._start()
        assert proc.stdin is not None
        deadline = time.monotonic() + (seconds or default_timeout())
        try:
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            header = self._line(deadline).split()
            if len(header) != 3 or header[1] != b"blob" or not header[2].isdigit():
                self.close()
                raise KeyError(f"{sha}: not a blob in the repository")
            size = int(header[2])
            if size > limit:
                self.close()  # its content is never read: the process goes instead
                raise FileTooLarge(f"{size} bytes exceeds the {limit}-byte limit")
            return self._take(size + 1, deadline)[:-1]
        except (OSError, KeyboardInterrupt):
            self.close()
            raise
