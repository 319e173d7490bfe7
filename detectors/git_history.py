"""Facts about the history itself (read-only), as of the scanned commit: activity in the last
90 days, how changes land (merge commits / PR merges on the first-parent line) and
conventional-commit usage. No author names or e-mails leave this module, only counts.

Commit data is read through `git log` with fixed-width fields (a subject is cut in the middle
past SUBJECT_WIDTH characters, keeping both its start and its end), a commit count and a byte
cap: a repository's 400 MB commit message never reaches this process."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from maturity_scan.sdk import RepoContext, Signal, git, kind, signal
from maturity_scan.sdk.git import head_commit, history_bound, history_unavailable

WINDOW = 90 * 86400
SAMPLE = 500  # first-parent commits looked at for shares
CONVENTIONAL = re.compile(r"^(feat|fix|docs|style|refactor|perf|test|tests|build|ci|chore|revert)"
                          r"(\([\w./ -]+\))?!?: \S")
PR_MERGE = re.compile(r"^Merge (pull request|branch)|\(#\d+\)$|^Merged in |See merge request")
RECENT_MAX = 20000  # commits counted in the window at most
EMAIL_WIDTH = 100  # characters of an author e-mail kept (they are only told apart)
SUBJECT_WIDTH = 200
PARENTS_WIDTH = 100  # enough to tell one parent from several
LOG = ("log", "--no-show-signature", "--no-ext-diff", "--no-textconv", "--no-mailmap")


def _log(repo: RepoContext, fmt: str, *args: str, count: int, width: int) -> list[str]:
    """One line per commit in `fmt`; fields are fixed-width, so the output is bounded."""
    out = git.run(repo, *LOG, f"--max-count={count}", f"--format={fmt}", *args,
                  max_bytes=count * (width * 4 + 8) + 4096)  # 4: UTF-8 bytes per column
    return out.splitlines()


class GitHistoryDetector:
    id = "git_history"
    description = "Git history: commits and contributors in 90 days, PR merges, conventional commits"
    kinds = {"git_history": kind("How changes land in the repository",
                                 commits_90d="count", contributors_90d="count",
                                 merge_share="number", conventional_commits_share="number",
                                 commits_sampled="count", history_truncated="flag")}
    patterns: tuple[str, ...] = ()

    def analyze(self, doc: object) -> Iterable[Signal]:
        return ()

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        if history_unavailable(repo):
            return
        head, head_time = head_commit(repo)
        since = head_time - WINDOW
        emails = _log(repo, f"%<({EMAIL_WIDTH},trunc)%ae", f"--since={since}",
                      "--end-of-options", head, count=RECENT_MAX, width=EMAIL_WIDTH)
        recent, authors = len(emails), len({e.rstrip() for e in emails})
        sample, last = [], ""
        for line in _log(repo, f"%H%x00%<({PARENTS_WIDTH},trunc)%P%x00"
                         f"%<({SUBJECT_WIDTH},mtrunc)%s", "--first-parent", "--end-of-options",
                         head, count=SAMPLE, width=PARENTS_WIDTH + SUBJECT_WIDTH + 41):
            last, parents, subject = line.split("\0", 2)
            sample.append((len(parents.split()), subject.rstrip(" ")))
        # A bounded clone (org --history-days/--history-commits): counts are exact unless a
        # boundary commit lies inside the 90 days, shares unless the sample stopped at one
        bound = history_bound(repo)
        boundary = bound.boundary if bound is not None else {}
        whole_window = bound is not None and bound.since is not None and bound.since <= since
        truncated = ((not whole_window and any(when >= since for when in boundary.values()))
                     or (len(sample) < SAMPLE and last in boundary))
        merges = sum(1 for parents, subject in sample if parents > 1 or PR_MERGE.search(subject))
        conventional = sum(1 for _, subject in sample if CONVENTIONAL.match(subject))
        n = len(sample)
        yield signal("git_history", ".git", None,
                     f"{recent} commits in 90 days; {merges}/{n} changes merged; "
                     f"{conventional}/{n} conventional"
                     f"{' (history bound reached: counts are a lower bound)' if truncated else ''}",
                     commits_90d=recent,
                     contributors_90d=authors, merge_share=round(merges / n, 2) if n else 0.0,
                     conventional_commits_share=round(conventional / n, 2) if n else 0.0,
                     commits_sampled=n, **({"history_truncated": True} if truncated else {}))


DETECTOR = GitHistoryDetector()
