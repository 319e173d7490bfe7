"""Releases as git tags that look like versions (v1.2.3, 1.2, release-1.0, pkg@1.2.3,
pkg/v1.2.3, and a chart's `<chart>-1.2.3` as chart-releaser names them), read through git (hardened, bounded in time and output) from the scanned
commit's point of view: only tags on its history count, and cadence is measured back from its
date, so a report is reproducible."""
from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence

from maturity_scan.sdk import RepoContext, Signal, git, kind, signal
from maturity_scan.sdk.git import VERSION, head_commit, history_unavailable

YEAR = 365 * 86400
MAX_TAG_LISTING = 16 << 20  # bytes of tag listing read at most
# `<name>-1.2.3` (helm/chart-releaser: `mychart-0.4.1`): a full three-part version after a
# name; `nightly-build` or a date (`build-2024.01.05`) is not one
NAMED = re.compile(r"^[a-z][\w.-]*?-v?\d{1,3}\.\d+\.\d+(?:[-+][\w.-]*)?$", re.I)


def release_tags(repo: RepoContext, head: str | None = None) -> list[tuple[str, int]]:
    """(tag, commit time) of the version tags reachable from the scanned commit, newest first."""
    head = head or head_commit(repo)[0]
    out = git.run(repo, "for-each-ref", f"--merged={head}",
                  "--format=%(refname:short)\t%(creatordate:unix)\t"
                  "%(*committerdate:unix)\t%(committerdate:unix)", "refs/tags",
                  max_bytes=MAX_TAG_LISTING)
    tags = []
    for line in out.splitlines():
        name, *dates = line.split("\t")
        when = next((int(d) for d in dates[1:] + dates[:1] if d.strip().isdigit()), 0)
        if VERSION.match(name) or NAMED.match(name):
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
