"""Git history as detectors see it: what a version tag looks like, whether there is history to
read at all (no git, or a shallow clone: no history facts, which is not an error), the scanned
commit, and `run` for the rest: every git call goes through `gitsafe` (hardened: the
repository's config runs nothing; bounded in time and output)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from maturity_scan import gitsafe
from maturity_scan.sdk.detector import RepoContext

# v1.2.3, 1.2, release-1.0, pkg@1.2.3, pkg/v1.2.3 (and pre-release / build suffixes)
VERSION = re.compile(r"^(?:(?:[\w.-]+[/@])?v?|release[-_/]v?)(\d+)\.(\d+)(?:\.(\d+))?"
                     r"(?:[-+.][\w.-]*)?$", re.I)


def run(repo: RepoContext, *args: str, max_bytes: int) -> str:
    """`git ARGS` in the scanned repository (its output capped at `max_bytes`)."""
    assert repo.git is not None
    return gitsafe.run(repo.git, *args, max_bytes=max_bytes)


# An org scan's clone with a history bound (`org --history-days/--history-commits`) carries a
# ref under this prefix: a shallow clone that has one is read up to its boundary, not skipped.
# `<prefix>/since/<unix time>`: every ancestor of the scanned commit from that time on is in
# the clone (`--shallow-since`); `<prefix>/commits`: a commit-count bound (`--depth`).
BOUNDED_REFS = "refs/maturity-scan/bounded"
MAX_BOUNDARY_LISTING = 4 << 20  # bytes of boundary listing read at most


@dataclass(frozen=True)
class Bound:
    """A bounded clone's shallow boundary as seen from the scanned commit."""
    boundary: dict[str, int]  # commit id -> commit time: commits whose parents are not here
    since: int | None = None  # ancestors from this commit time on are all in the clone

    def limit(self) -> int | None:
        """Commits older than this may be ancestors the clone does not hold (None: the
        history reached from the scanned commit is whole)."""
        if not self.boundary:
            return None
        return self.since if self.since is not None else max(self.boundary.values())


def history_unavailable(repo: RepoContext) -> bool:
    """No git, or a shallow clone that is not a marked bounded one: no history facts (not an
    error)."""
    if repo.git is None:
        return True
    try:
        out = run(repo, "rev-parse", "--is-shallow-repository", max_bytes=64)
    except Exception:
        return True
    return out.strip() == "true" and history_bound(repo) is None


def history_bound(repo: RepoContext) -> Bound | None:
    """A marked bounded clone's boundary; None when the clone is not marked."""
    if repo.git is None:
        return None
    try:
        marks = run(repo, "for-each-ref", "--count=4", "--format=%(refname)", BOUNDED_REFS,
                    max_bytes=1024).split()
        if not marks:
            return None
        out = run(repo, "log", "--no-show-signature", "--max-parents=0", "--format=%H %ct%d",
                  "--decorate-refs=refs/maturity-scan/none", "--end-of-options",
                  repo.revision or "HEAD", max_bytes=MAX_BOUNDARY_LISTING)
    except Exception:
        return None
    since = next((int(m.rsplit("/", 1)[1]) for m in marks
                  if re.fullmatch(re.escape(BOUNDED_REFS) + r"/since/\d{1,12}", m)), None)
    boundary = {}
    for line in out.splitlines():
        sha, when, *rest = line.split(" ", 2)
        # "(grafted)": a shallow commit; a real root commit has no such mark
        if rest and "grafted" in rest[0].strip("()").split(", "):
            boundary[sha] = int(when)
    return Bound(boundary, since)
def head_commit(repo: RepoContext) -> tuple[str, int]:
    """The scanned commit (HEAD for a working tree) and its commit time."""
    out = run(repo, "log", "--no-show-signature", "-1", "--format=%H %ct", "--end-of-options",
              repo.revision or "HEAD", max_bytes=256)
    sha, when = out.split()
    return sha, int(when)
