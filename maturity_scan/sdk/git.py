"""Git history as detectors see it: what a version tag looks like, whether there is history to
read at all (no git, or a shallow clone: no history facts, which is not an error), the scanned
commit, and `run` for the rest: every git call goes through `gitsafe` (hardened: the
repository's config runs nothing; bounded in time and output)."""
from __future__ import annotations

import re

from maturity_scan import gitsafe
from maturity_scan.sdk.detector import RepoContext

# v1.2.3, 1.2, release-1.0, pkg@1.2.3, pkg/v1.2.3 (and pre-release / build suffixes)
VERSION = re.compile(r"^(?:(?:[\w.-]+[/@])?v?|release[-_/]v?)(\d+)\.(\d+)(?:\.(\d+))?"
                     r"(?:[-+.][\w.-]*)?$", re.I)


def run(repo: RepoContext, *args: str, max_bytes: int) -> str:
    """`git ARGS` in the scanned repository (its output capped at `max_bytes`)."""
    assert repo.git is not None
    return gitsafe.run(repo.git, *args, max_bytes=max_bytes)


def history_unavailable(repo: RepoContext) -> bool:
    """No git, or a shallow clone: no history facts (not an error)."""
    if repo.git is None:
        return True
    try:
        out = run(repo, "rev-parse", "--is-shallow-repository", max_bytes=64)
    except Exception:
        return True
    return out.strip() == "true"


def head_commit(repo: RepoContext) -> tuple[str, int]:
    """The scanned commit (HEAD for a working tree) and its commit time."""
    out = run(repo, "log", "--no-show-signature", "-1", "--format=%H %ct", "--end-of-options",
              repo.revision or "HEAD", max_bytes=256)
    sha, when = out.split()
    return sha, int(when)
