"""Levels per dimension over a repository's history, each revision read from git objects (no
checkout): at version tags, the last N first-parent commits, or since a date."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import git

from maturity_scan import api, gitsafe
from maturity_scan.detectors.release_tags import VERSION
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import GitRevisionSource
from maturity_scan.errors import UsageError


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
                     rule_dirs: Sequence[Path] = ()) -> dict[str, Any]:
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
                     "levels": {d["id"]: d["level"] for d in rep["dimensions"]}})
    return {"pack": pack, "dimensions": dims, "rows": rows}


def as_text(hist: dict[str, Any]) -> str:
    ids = [d["id"] for d in hist["dimensions"]]
    width = max([len(r["label"]) for r in hist["rows"]] + [8])
    out = [f"{'revision':<{width}}  {'date':<10}  " + "  ".join(f"{i:>{max(len(i), 3)}}" for i in ids)]
    for r in hist["rows"]:
        out.append(f"{r['label']:<{width}}  {r['date'][:10]:<10}  " +
                   "  ".join(f"{r['levels'].get(i, ''):>{max(len(i), 3)}g}" for i in ids))
    return "\n".join(out) + "\n"


def as_csv(hist: dict[str, Any]) -> str:
    ids = [d["id"] for d in hist["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["revision", "label", "date", *ids])
    for r in hist["rows"]:
        w.writerow([r["revision"], r["label"], r["date"], *(f"{r['levels'][i]:g}" for i in ids)])
    return buf.getvalue()


def as_json(hist: dict[str, Any]) -> str:
    return json.dumps(hist, indent=2, sort_keys=True) + "\n"


def chart(hist: dict[str, Any], out: Path) -> None:
    """An SVG line chart: one series per dimension, levels over the revisions."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError("--chart needs matplotlib: pip install 'maturity-scan[chart]'") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    labels = [r["label"] for r in hist["rows"]]
    top = max((d["max_level"] for d in hist["dimensions"]), default=5)
    fig, ax = plt.subplots(figsize=(max(6, len(labels) * 0.8), 4.5))
    for n, d in enumerate(hist["dimensions"]):
        offset = (n - len(hist["dimensions"]) / 2) * 0.03  # keep equal lines apart
        ax.plot(range(len(labels)), [r["levels"][d["id"]] + offset for r in hist["rows"]],
                marker="o", label=d["title"], gid=f"series-{d['id']}")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylim(0.5, top + 0.5)
    ax.set_xlabel("revision")
    ax.set_ylabel("level")
    ax.set_title(f"maturity over time ({hist['pack']})")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, format="svg")
    plt.close(fig)
