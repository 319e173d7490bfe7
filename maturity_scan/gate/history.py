"""Levels per dimension over a repository's history, each revision read from git objects (no
checkout): at version tags, the last N first-parent commits, or since a date. Data only: the
reporter `maturity_scan.reporters.history` renders it."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import git

from maturity_scan import api, gitsafe
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import GitRevisionSource
from maturity_scan.errors import UsageError
from maturity_scan.sdk.git import VERSION


# One line per version tag: name, then the commit it names (directly, or peeled once from an
# annotated tag) and that commit's date, all from one for-each-ref call.
_TAG_FORMAT = "%00".join(("%(refname:short)", "%(objecttype)", "%(objectname)",
                          "%(committerdate:iso-strict)", "%(*objecttype)", "%(*objectname)",
                          "%(*committerdate:iso-strict)"))
_LOG = ("log", "--no-show-signature", "--no-ext-diff", "--no-textconv")
MAX_REVISIONS = 10_000


def _tagged(repo: git.Repo) -> list[tuple[str, str, str]]:
    out = gitsafe.run(repo, "for-each-ref", "--sort=creatordate", f"--format={_TAG_FORMAT}",
                      "refs/tags")
    rows = []
    for line in out.splitlines():
        fields = (line.split("\0") + [""] * 7)[:7]
        name, kind, sha, date, peeled_kind, peeled, peeled_date = fields
        if not VERSION.match(name.strip()):
            continue
        if kind == "commit":
            rows.append((sha, name, date))
        elif peeled_kind == "commit":
            rows.append((peeled, name, peeled_date))
        elif kind == "tag":  # a tag of a tag: let git peel it all the way
            commit = gitsafe.try_run(repo, "rev-parse", "--verify", "--quiet",
                                     "--end-of-options", f"{sha}^{{commit}}", max_bytes=1024)
            if commit and commit.strip():
                when = gitsafe.run(repo, *_LOG, "-1", "--format=%cI", commit.strip())
                rows.append((commit.strip(), name, when.strip()))
    return rows[-MAX_REVISIONS:]


def revisions(path: Path, *, tags: bool = False, last: int | None = None,
              since: str | None = None) -> list[tuple[str, str, str]]:
    """(commit, label, ISO date) oldest first."""
    repo = gitsafe.open_repo(path.resolve())
    if repo is None:
        raise UsageError(f"{path}: not a git repository")
    if tags:
        dated = _tagged(repo)
    else:
        args = [*_LOG, "--first-parent", f"--max-count={min(last or 10, MAX_REVISIONS)}",
                "--format=%H%x00%cI"]
        if since:
            args.append(f"--since={since}")
        out = gitsafe.run(repo, *args, "HEAD", max_bytes=MAX_REVISIONS * 200)
        dated = []
        for line in reversed(out.splitlines()):
            commit, _, date = line.partition("\0")
            dated.append((commit, commit[:12], date))
    if not dated:
        raise UsageError(f"{path}: no revisions to show" + (" (no version tags)" if tags else ""))
    return dated


def levels_over_time(path: Path, revs: Sequence[tuple[str, str, str]], pack: str,
                     options: ScanOptions | None = None,
                     rule_dirs: Sequence[Path] = (),
                     step: Callable[[], None] | None = None) -> dict[str, Any]:
    """One row per revision; `step()` after each (progress)."""
    rows = []
    dims: list[dict[str, Any]] = []
    reports: dict[str, dict[str, Any]] = {}  # several tags on one commit: scanned once
    for commit, label, date in revs:
        if commit not in reports:
            reports[commit] = api.scan_report(GitRevisionSource(path, commit), pack, options,
                                              timings=False, rule_dirs=rule_dirs)
        rep = reports[commit]
        dims = [{"id": d["id"], "title": d["title"], "max_level": d["max_level"]}
                for d in rep["dimensions"]]
        rows.append({"revision": commit, "label": label, "date": date,
                     "levels": {d["id"]: d["level"] for d in rep["dimensions"]
                                if d["level"] is not None}})  # not applicable: no level
        if step is not None:
            step()
    return {"pack": pack, "dimensions": dims, "rows": rows}
