"""Fast, frugal clones for org scans: a blobless, depth-1 bare clone of the default branch,
the paths the detectors claim selected from its tree, and their blobs fetched in one batch.

Git runs hardened (gitsafe.HARDENING plus the network settings below: https only, no redirects,
no credential helpers, no prompts, no stdin, low-speed limits), in its own process group that a
timeout ends whole. A local command cannot reach the network at all (a partial clone would fetch
a missing object lazily). A clone URL must be http(s) on the host the API names. A token reaches
git only through the environment, as an HTTP header: never in argv, a clone URL or a file.

Blob sizes are known before anything is fetched (from the API's tree listing, when it answers):
a claimed blob over the size limit is never downloaded, and none is ever read whole into memory
when it is over the limit."""
from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from git import Repo

from maturity_scan import gitsafe
from maturity_scan.engine import registry
from maturity_scan.engine.source import FileEntry, FileTooLarge, is_dependency_path
from maturity_scan.model import FileError
from maturity_scan.org.github import TOKEN_VARIABLES, Origin, printable
from maturity_scan.sdk.git import BOUNDED_REFS
from maturity_scan.sdk.globs import compile_globs

# Commands that talk to the server: https only (plain http is added for a loopback API), git's
# own redirect following off (a redirect would carry the Authorization header to the new host),
# no credential helpers or prompts, packs kept as sent (never inflated whole by unpack-objects).
NETWORK: dict[str, str] = {
    "protocol.allow": "never", "protocol.https.allow": "always",
    "http.followRedirects": "false", "http.lowSpeedLimit": "1000", "http.lowSpeedTime": "30",
    "credential.helper": "", "core.askPass": "", "transfer.unpackLimit": "1",
    "http.sslVerify": "true", "fetch.recurseSubmodules": "false",
}
# The user's own trust store for a server with a private CA; every other GIT_* is dropped.
KEPT_ENV = ("GIT_SSL_CAINFO", "GIT_SSL_CAPATH")
# Commands on our own clone: no transport at all, so a missing object is an error, not a fetch.
LOCAL: dict[str, str] = {"protocol.allow": "never"}
STDERR_TAIL = 4096  # what we keep of git's stderr (a server can send endless "remote:" lines)
_BAD_URL = re.compile(r"[\x00-\x20\x7f?#\\]")


class CloneError(Exception):
    pass


class OutOfTime(CloneError):
    """The repository's time budget ran out."""


@dataclass
class Budget:
    """The time one repository may take, end to end (`--repo-timeout`)."""
    seconds: float
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def expired(self) -> bool:
        return self.remaining() <= 0

    def message(self, during: str) -> str:
        return (f"incomplete: the repository's {self.seconds:g}s budget ran out during {during} "
                "(raise it with --repo-timeout)")

    def cap(self, timeout: float, during: str) -> float:
        left = self.remaining()
        if left <= 0:
            raise OutOfTime(self.message(during))
        return min(timeout, left)


def check_clone_url(url: str, expected: str, allow_http: bool) -> None:
    """A clone URL from the API is used only when it is http(s) on the clone host derived from
    the API URL: never a local path, file://, ssh or a transport helper (`fd::0`, `ext::`)."""
    origin, want = Origin.of(url), Origin.of(expected)
    if origin is None or want is None or _BAD_URL.search(url) or not urlsplit(url).path.strip("/"):
        raise CloneError(f"clone URL {printable(url[:80])!r} is not an http(s) URL of "
                         f"{want}; not cloned")
    if origin != want:
        raise CloneError(f"clone URL is on {origin}, not on {want}; not cloned")
    if origin.scheme != "https" and not allow_http:
        raise CloneError("clone URL is plain http; not cloned")


def git_env(token: str | None = None, *, network: bool = False,
            allow_http: bool = False, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git: hardening as command-line-scope config, no prompts, and the
    token (if any) as an Authorization header that lives only in this process's environment."""
    items = {**gitsafe.HARDENING, **(NETWORK if network else LOCAL)}
    if network and allow_http:
        items["protocol.http.allow"] = "always"
    if token and network:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        items["http.extraHeader"] = f"Authorization: Basic {basic}"
    env = {k: v for k, v in os.environ.items()
           if (k in KEPT_ENV or not k.startswith("GIT_")) and k not in TOKEN_VARIABLES}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_ASKPASS="/bin/false", SSH_ASKPASS="/bin/false", LC_ALL="C",
               GIT_CONFIG_COUNT=str(len(items)))
    for i, (key, value) in enumerate(items.items()):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    env.update(extra or {})
    return env


@dataclass
class Git:
    """How git runs for one repository: its clone, its token, its time."""
    budget: Budget
    timeout: float = 300.0  # any one call
    token: str | None = field(default=None, repr=False)
    allow_http: bool = False

    def run(self, args: Sequence[str], *, cwd: Path | None = None, network: bool = False,
            stdin: bytes | None = None, timeout: float | None = None) -> bytes:
        """git ARGS; its stdout. Never stdin unless given; the whole process group is ended
        when the call's timeout or the repository's budget runs out."""
        during = f"git {_command(args)}"
        limit = self.budget.cap(timeout or self.timeout, during)
        env = git_env(self.token if network else None, network=network,
                      allow_http=self.allow_http,
                      extra={"GIT_DIR": os.fspath(cwd)} if cwd is not None else None)
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(["git", *args], cwd=os.fspath(cwd or "/"), env=env,
                                    stdin=subprocess.PIPE if stdin is not None
                                    else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err, start_new_session=True)
            try:
                out, _ = proc.communicate(stdin, timeout=limit)
            except subprocess.TimeoutExpired:
                _end(proc)
                proc.communicate()
                raise self._timed_out(during, limit) from None
            if proc.returncode != 0:
                raise CloneError(f"{during} failed: {self._last_line(err)}")
        return out

    def _timed_out(self, during: str, limit: float) -> CloneError:
        if self.budget.expired():
            return OutOfTime(self.budget.message(during))
        return CloneError(f"{during} timed out after {limit:g}s")

    def _last_line(self, err: IO[bytes]) -> str:
        err.seek(max(0, err.seek(0, os.SEEK_END) - STDERR_TAIL))
        lines = err.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        line = lines[0].replace(self.token, "***") if self.token else lines[0]
        return printable(line[:200])


def _command(args: Sequence[str]) -> str:
    """The git command of ARGS (after any `-c key=value`)."""
    rest = list(args)
    while rest[:1] == ["-c"]:
        rest = rest[2:]
    return rest[0] if rest else "?"


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and everything it started (remote helpers, index-pack)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class MissingBranch(CloneError):
    """The repository has branches, but not the default branch the API names."""


def remote_head(url: str, branch: str, git: Git) -> str | None:
    """The commit at the tip of `branch`; None for an empty repository (no branch at all);
    MissingBranch when there are branches but not this one."""
    out = git.run(["ls-remote", "--", url, f"refs/heads/{branch}"], network=True).decode()
    line = out.split("\n", 1)[0]
    if line:
        return line.split("\t", 1)[0]
    heads = git.run(["ls-remote", "--heads", "--", url], network=True)
    if heads.strip():
        raise MissingBranch(f"default branch {printable(branch)!r} not found (the repository "
                            "has other branches)")
    return None


@dataclass
class Checkout:
    """A blobless clone with the claimed blobs present, read without lazy fetches."""
    git_dir: Path
    revision: str
    blobs: dict[str, bytes]  # path -> contents of the claimed files within the size limit
    listed: list[str]  # every path of the tree (for the index and RepoView)
    sizes: dict[str, int] = field(default_factory=dict)  # path -> size, claimed files
    history: bool = False  # the commit graph and tags are present (history facts can be read)
    oids: dict[str, str] = field(default_factory=dict)  # path -> blob id, claimed files


# The repository's own configuration (read and applied like a local scan's `config.discover`)
CONFIG_NAMES = (".maturity-scan.yaml", "pyproject.toml")
# The commit graph without trees or blobs, and the tags: what release_tags and git_history read
# (`for-each-ref --merged`, `log --format`), so they are computed exactly as on a local clone.
# A few hundred bytes a commit; no file contents of any past commit are fetched.
HISTORY_REF = "refs/maturity-scan/head"
# ("days", N) or ("commits", N): `org --history-days/--history-commits`, for giant repositories
HistoryBound = tuple[str, int]


def claimed_patterns() -> tuple[str, ...]:
    return tuple(p for d in registry.all_detectors() for p in d.patterns)


# revision -> (sizes by path, truncated), or None when they could not be had
SizeLookup = Callable[[str], "tuple[dict[str, int], bool] | None"]


def fetch(url: str, branch: str, dest: Path, git: Git, *, full: bool = False,
          max_file_bytes: int, sizes: SizeLookup | None = None, history: bool = True,
          bound: HistoryBound | None = None) -> Checkout:
    """Clone (or refresh) `dest` and fetch the claimed blobs within the size limit, in one
    batch; a blob the API says is bigger is never fetched. `history`: also the commit graph
    (commits only, `--filter=tree:0`) and the tags, for history facts; `bound`: only the
    commits of that bound (see `_bounded_history`)."""
    dest = Path(os.path.abspath(dest))  # git runs in "/" or in the clone, never in our cwd
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    args = ["clone", "--bare", "--quiet", "--depth", "1", "--single-branch", "--no-tags",
            "--branch", branch]
    if not full:
        args.append("--filter=blob:none")
    git.run([*args, "--", url, str(dest)], network=True)
    revision = git.run(["rev-parse", "--verify", "HEAD^{commit}"], cwd=dest).decode().strip()
    if history and bound is not None:
        _bounded_history(dest, branch, git, bound)
    elif history:
        # The branch goes to a ref of our own (a push since the clone must not move HEAD to a
        # commit whose tree we do not hold); tags come whole (tag objects, their commits).
        git.run(["fetch", "--quiet", "--unshallow", "--filter=tree:0", "--no-write-fetch-head",
                 "--recurse-submodules=no", "origin", f"+refs/heads/{branch}:{HISTORY_REF}",
                 "+refs/tags/*:refs/tags/*"], cwd=dest, network=True)
    listed, wanted = _claimed(git.run(["ls-tree", "-r", "-z", "--full-tree", "HEAD"], cwd=dest))
    known: dict[str, int] = {}
    if not full and wanted and sizes is not None:
        answer = sizes(revision)
        if answer is not None:
            known = {p: answer[0][p] for p in wanted if p in answer[0]}
    fetchable = {oid for p, oid in wanted.items() if known.get(p, 0) <= max_file_bytes}
    if fetchable and not full:
        # One batch, as git's own promisor fetch does it (a lazy fetch per file is 50-100x slower)
        git.run(["-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet", "--no-tags",
                 "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none",
                 "--stdin", "origin"], cwd=dest, network=True,
                stdin="\n".join(sorted(fetchable)).encode() + b"\n")
    present = _present_sizes(dest, git, set(wanted.values()))
    for path, oid in wanted.items():  # what is here is measured; the API's word for the rest
        if oid in present:
            known[path] = present[oid]
    readable = {oid for p, oid in wanted.items() if oid in present and
                present[oid] <= max_file_bytes}
    data = _contents(dest, git, readable, max_file_bytes)
    blobs = {p: data[oid] for p, oid in wanted.items() if oid in data}
    return Checkout(dest, revision, blobs, listed, known, history, dict(wanted))


def _bounded_history(dest: Path, branch: str, git: Git, bound: HistoryBound) -> None:
    """The history within `bound` (commits only): ("days", N) every commit of the N days
    before the scanned commit (`--shallow-since`), ("commits", N) the N commits nearest it
    (`--depth`); and every tag with its own commit alone (`--depth=1`, no trees), so
    release_tags sees every tag's name and date without the history below it. Tags come
    first: the deeper branch fetch then unshallows the tagged commits inside the bound. A
    ref under sdk.git.BOUNDED_REFS marks the clone (shallow, read to its boundary)."""
    kind, n = bound
    common = ["fetch", "--quiet", "--filter=tree:0", "--no-write-fetch-head",
              "--recurse-submodules=no", "origin"]
    # (the branch too: a repository without tags must not make the refspecs match nothing)
    git.run([*common[:-1], "--depth=1", "origin", "+refs/tags/*:refs/tags/*",
             f"+refs/heads/{branch}:{HISTORY_REF}"], cwd=dest, network=True)
    if kind == "days":
        head_time = int(git.run(["log", "-1", "--format=%ct", "HEAD"], cwd=dest).decode())
        since = head_time - int(n) * 86400
        limit, mark = f"--shallow-since={since}", f"{BOUNDED_REFS}/since/{since}"
    else:
        limit, mark = f"--depth={int(n)}", f"{BOUNDED_REFS}/commits"
    git.run([*common[:-1], limit, "origin", f"+refs/heads/{branch}:{HISTORY_REF}"], cwd=dest,
            network=True)
    git.run(["update-ref", mark, "HEAD"], cwd=dest)


RULE_SUFFIXES = (".yaml", ".yml")


def folder_files(checkout: Checkout, rel: str, git: Git, *,
                 max_bytes: int) -> dict[str, bytes]:
    """The rule files (*.yaml, *.yml) of folder `rel` of the scanned commit, by name, fetched
    in one batch: what a local scan reads for a `rules:` folder of the repository's config. A
    missing folder, a symbolic link or an oversize file is a CloneError saying so."""
    spec = "HEAD:" if rel == "." else f"HEAD:{rel}"
    try:
        listing = git.run(["ls-tree", "-z", "--end-of-options", spec], cwd=checkout.git_dir)
    except CloneError:
        raise CloneError(f"rules: {printable(rel)}: not a folder of the repository") from None
    wanted: dict[str, str] = {}
    for record in listing.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, name = record.partition("\t")
        if not name.endswith(RULE_SUFFIXES):
            continue
        mode, kind, oid = meta.split()
        if kind != "blob":
            continue
        if mode not in ("100644", "100755"):
            raise CloneError(f"rules: {printable(rel)}/{printable(name)}: a symbolic link "
                             "(commit the rule file itself)")
        wanted[name] = oid
    if not wanted:
        raise CloneError(f"rules: {printable(rel)}: no rule files (*.yaml, *.yml) in this folder")
    present = _present_sizes(checkout.git_dir, git, set(wanted.values()))
    missing = sorted(set(wanted.values()) - set(present))
    if missing:
        git.run(["-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet", "--no-tags",
                 "--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none",
                 "--stdin", "origin"], cwd=checkout.git_dir, network=True,
                stdin="\n".join(missing).encode() + b"\n")
        present = _present_sizes(checkout.git_dir, git, set(wanted.values()))
    for name, oid in wanted.items():
        if present.get(oid, 0) > max_bytes:
            raise CloneError(f"rules: {printable(rel)}/{printable(name)}: larger than "
                             f"{max_bytes:,} bytes (refused)")
    data = _contents(checkout.git_dir, git, {o for o in wanted.values() if o in present},
                     max_bytes)
    return {name: data[oid] for name, oid in wanted.items() if oid in data}


def _claimed(tree: bytes) -> tuple[list[str], dict[str, str]]:
    """Every listed path, and the claimed ones' blob ids."""
    claim = compile_globs(claimed_patterns())
    listed, wanted = [], {}
    for record in tree.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, oid = meta.split()
        if kind != "blob" or mode == "120000" or is_dependency_path(path):
            continue
        listed.append(path)
        if claim.match(path) or path in CONFIG_NAMES:
            wanted[path] = oid
    return listed, wanted


def _present_sizes(git_dir: Path, git: Git, oids: set[str]) -> dict[str, int]:
    """Sizes of those of `oids` that are in the clone (asking for an absent one in a partial
    clone would fetch it, or fail: only objects present are listed)."""
    if not oids:
        return {}
    out = git.run(["cat-file", "--batch-all-objects", "--unordered",
                   "--batch-check=%(objectname) %(objecttype) %(objectsize)"], cwd=git_dir)
    sizes = {}
    for line in out.decode("ascii", "replace").splitlines():
        oid, kind, size = line.split(" ")
        if kind == "blob" and oid in oids:
            sizes[oid] = int(size)
    return sizes


def _contents(git_dir: Path, git: Git, oids: set[str], max_bytes: int) -> dict[str, bytes]:
    """The blobs (all present, each within the limit), read one at a time from one
    `cat-file --batch`: never more than one blob of `max_bytes` in flight."""
    if not oids:
        return {}
    limit = git.budget.cap(git.timeout, "git cat-file")
    proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=os.fspath(git_dir),
                            env=git_env(extra={"GIT_DIR": os.fspath(git_dir)}),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    fired = threading.Event()
    timer = threading.Timer(limit, lambda: (fired.set(), _end(proc)))
    timer.start()
    data: dict[str, bytes] = {}
    try:
        for oid in sorted(oids):
            proc.stdin.write(oid.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":  # "<oid> missing", or git ended
                continue
            size = int(header[2])
            if size > max_bytes:  # measured before; never read a bigger one whole
                raise CloneError(f"git cat-file: {oid} is larger than measured")
            data[oid] = proc.stdout.read(size)
            proc.stdout.read(1)
        proc.stdin.close()
        proc.wait(timeout=max(1.0, limit))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        if not fired.is_set():
            raise CloneError("git cat-file failed") from None
    finally:
        timer.cancel()
        if proc.poll() is None:
            _end(proc)
            proc.wait()
        proc.stdout.close()
    if fired.is_set():
        raise git._timed_out("git cat-file", limit)
    return data


class CheckoutSource:
    """The scanner's Source over a Checkout: claimed files are read from the local object
    store (never a lazy fetch); the rest are listed only."""

    def __init__(self, checkout: Checkout, description: str) -> None:
        self.checkout = checkout
        self.description = description
        self.revision = checkout.revision
        self.errors: list[FileError] = []  # the tree is listed whole: nothing unlistable

    def blob_id(self, path: str) -> str | None:
        """The claimed file's git object id (the parse cache's key): a repository scanned
        again (an org re-run after a push) parses only the blobs that changed, and starts no
        parser at all when none did."""
        oid = self.checkout.oids.get(path)
        return oid if oid is not None and len(oid) == 40 else None

    def repo(self) -> Repo | None:
        """The clone, when it holds the history (read through gitsafe: hardened, no transport,
        so a missing object is an error, never a fetch)."""
        return gitsafe.open_repo(self.checkout.git_dir) if self.checkout.history else None

    def files(self) -> Iterator[FileEntry]:
        sizes = self.checkout.sizes
        for path in self.checkout.listed:
            yield FileEntry(path, sizes.get(path, len(self.checkout.blobs.get(path, b""))))

    def read(self, path: str, limit: int | None = None) -> bytes:
        data = self.checkout.blobs[path]
        if limit is not None and len(data) > limit:
            raise FileTooLarge(f"{path}: more than {limit} bytes")
        return data
