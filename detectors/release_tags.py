"""Releases as git tags that look like versions (v1.2.3, 1.2, release-1.0, pkg@1.2.3,
pkg/v1.2.3, and a chart's `<chart>-1.2.3` as chart-releaser names them), read through git (hardened, bounded in time and output) from the scanned
commit's point of view: only tags on its history count, and cadence is measured back from its
date, so a report is reproducible."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from maturity_scan.sdk import RepoContext, Signal, git, kind, signal
from maturity_scan.sdk.git import VERSION, head_commit, history_bound, history_unavailable

YEAR = 365 * 86400
MAX_TAG_LISTING = 16 << 20  # bytes of tag listing read at most
# `<name>-1.2.3` (helm/chart-releaser: `mychart-0.4.1`): a full three-part version after a
# name; `nightly-build` or a date (`build-2024.01.05`) is not one
NAMED = re.compile(r"^[a-z][\w.-]*?-v?\d{1,3}\.\d+\.\d+(?:[-+][\w.-]*)?$", re.I)


def release_tags(repo: RepoContext, head: str | None = None,
                 merged: bool = True) -> list[tuple[str, int]]:
    """(tag, commit time) of the version tags reachable from the scanned commit, newest first
    (`merged=False`: of every version tag)."""
    head = head or head_commit(repo)[0]
    out = git.run(repo, "for-each-ref", *([f"--merged={head}"] if merged else []),
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
                                  latest="text", median_days_between="number",
                                  history_truncated="flag")}
    patterns: tuple[str, ...] = ()

    def analyze(self, doc: object) -> Iterable[Signal]:
        return ()

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        if history_unavailable(repo):
            return
        head, head_time = head_commit(repo)
        tags = release_tags(repo, head)
        # A bounded clone (org --history-days/--history-commits) holds every tag and its commit
        # but not the history below its boundary: a tag older than the boundary is taken as
        # reachable (exact when tags are cut from the scanned line), said by history_truncated
        bound = history_bound(repo)
        limit = bound.limit() if bound is not None else None
        every = [] if limit is None else release_tags(repo, head, merged=False)
        merged = set(tags)
        assumed = {t for t in every if t not in merged and limit is not None and t[1] < limit}
        if assumed:
            tags = [t for t in every if t in assumed or t in merged]  # the order of a whole one
        if not tags:
            return
        recent = [t for _, t in tags if head_time - t <= YEAR]
        gaps = [(a - b) / 86400 for a, b in zip(recent, recent[1:])]
        facts: dict[str, object] = {"count": len(tags), "latest": tags[0][0]}
        if gaps:
            import statistics  # here: its import (fractions, decimal) is most of this module's

            facts["median_days_between"] = round(statistics.median(gaps), 1)
        if assumed:
            facts["history_truncated"] = True
        bounded = (f" ({len(assumed)} below the history bound taken as reachable)"
                   if assumed else "")
        yield signal("release_tags", ".git", None, f"{len(tags)} version tags, latest "
                     f"{tags[0][0]}{bounded}", **facts)


DETECTOR = ReleaseTagsDetector()
