"""Facts about the history itself (gitpython, read-only), as of the scanned commit: activity in
the last 90 days, how changes land (merge commits / PR merges on the first-parent line) and
conventional-commit usage. No author names or e-mails leave this module, only counts."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from maturity_scan.detector import RepoContext, signal
from maturity_scan.detectors.release_tags import history_unavailable
from maturity_scan.model import Signal, kind

WINDOW = 90 * 86400
SAMPLE = 500  # first-parent commits looked at for shares
CONVENTIONAL = re.compile(r"^(feat|fix|docs|style|refactor|perf|test|tests|build|ci|chore|revert)"
                          r"(\([\w./ -]+\))?!?: \S")
PR_MERGE = re.compile(r"^Merge (pull request|branch)|\(#\d+\)$|^Merged in |See merge request")


class GitHistoryDetector:
    id = "git_history"
    description = "Git history: commits and contributors in 90 days, PR merges, conventional commits"
    kinds = {"git_history": kind("How changes land in the repository",
                                 commits_90d="count", contributors_90d="count",
                                 merge_share="number", conventional_commits_share="number",
                                 commits_sampled="count")}
    patterns: tuple[str, ...] = ()

    def analyze(self, doc: object) -> Iterable[Signal]:
        return ()

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        if history_unavailable(repo):
            return
        g = repo.git
        assert g is not None
        head = g.commit(repo.revision or "HEAD")
        since = head.committed_date - WINDOW
        recent = authors = 0
        seen: set[str] = set()
        for c in g.iter_commits(head.hexsha, since=since, max_count=20000):
            recent += 1
            if c.author.email not in seen:
                seen.add(c.author.email)
                authors += 1
        sample = list(g.iter_commits(head.hexsha, first_parent=True, max_count=SAMPLE))
        merges = sum(1 for c in sample if len(c.parents) > 1 or PR_MERGE.search(
            c.summary if isinstance(c.summary, str) else ""))
        conventional = sum(1 for c in sample if CONVENTIONAL.match(
            c.summary if isinstance(c.summary, str) else ""))
        n = len(sample)
        yield signal("git_history", ".git", None,
                     f"{recent} commits in 90 days; {merges}/{n} changes merged; "
                     f"{conventional}/{n} conventional", commits_90d=recent,
                     contributors_90d=authors, merge_share=round(merges / n, 2) if n else 0.0,
                     conventional_commits_share=round(conventional / n, 2) if n else 0.0,
                     commits_sampled=n)


DETECTOR = GitHistoryDetector()
