"""Releases as git tags that look like versions (v1.2.3, 1.2, release-1.0, pkg@1.2.3,
pkg/v1.2.3), read through git (hardened, bounded in time and output) from the scanned
commit's point of view: only tags on its history count, and cadence is measured back from its
date, so a report is reproducible."""
from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence

from maturity_scan import gitsafe
from maturity_scan.sdk import RepoContext, Signal, kind, signal

VERSION = re.compile(r"^(?:(?:[\w.-]+[/@])?v?|release[-_/]v?)(\d+)\.(\d+)(?:\.(\d+))?"
                     r"(?:[-+.][\w.-]*)?$", re.I)
YEAR = 365 * 86400
MAX_TAG_LISTING = 16 << 20  # bytes of tag listing read at most


def history_unavailable(repo: RepoContext) -> bool:
    """No git, or a shallow clone: no history facts (not an error)."""
    if repo.git is None:
        return True
    try:
        out = gitsafe.run(repo.git, "rev-parse", "--is-shallow-repository", max_bytes=64)
    except Exception:
        return True
    return out.strip() == "true"


def head_commit(repo: RepoContext) -> tuple[str, int]:
    """The scanned commit (HEAD for a working tree) and its commit time."""
    assert repo.git is not None
    out = gitsafe.run(repo.git, "log", "--no-show-signature", "-1", "--format=%H %ct",
                      "--end-of-options", repo.revision or "HEAD", max_bytes=256)
    sha, when = out.split()
    return sha, int(when)


def release_tags(repo: RepoContext, head: str | None = None) -> list[tuple[str, int]]:
    """(tag, commit time) of the version tags reachable from the scanned commit, newest first."""
    assert repo.git is not None
    head = head or head_commit(repo)[0]
    out = gitsafe.run(repo.git, "for-each-ref", f"--merged={head}",
                      "--format=%(refname:short)\t%(creatordate:unix)\t"
                      "%(*committerdate:unix)\t%(committerdate:unix)", "refs/tags",
                      max_bytes=MAX_TAG_LISTING)
    tags = []
    for line in out.splitlines():
        name, *dates = line.split("\t")
        when = next((int(d) for d in dates[1:] + dates[:1] if d.strip().isdigit()), 0)
        if VERSION.match(name):
            tags.append((name, when))
    return sorted(tags, key=lambda t: t[1], reverse=True)


class ReleaseTagsDetector:
    id = "release_tags"
    description = "Version tags in git history: count, latest, release cadence"
    kinds = {"release_tags": kind("Releases are tagged with versions", count="count",
                                  latest="text", median_days_between="number")}
    patterns: tuple[str, ...] = ()

    def analyze(self, doc: object) -> Iterable[Signal]:
        return ()

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        if history_unavailable(repo):
            return
        head, head_time = head_commit(repo)
        tags = release_tags(repo, head)
        if not tags:
            return
        recent = [t for _, t in tags if head_time - t <= YEAR]
        gaps = [(a - b) / 86400 for a, b in zip(recent, recent[1:])]
        facts: dict[str, object] = {"count": len(tags), "latest": tags[0][0]}
        if gaps:
            facts["median_days_between"] = round(statistics.median(gaps), 1)
        yield signal("release_tags", ".git", None, f"{len(tags)} version tags, latest "
                     f"{tags[0][0]}", **facts)


DETECTOR = ReleaseTagsDetector()
