"""The organization's picture: a CSV of repository x dimension levels, a Markdown summary and
a self-contained HTML page with a sortable heatmap whose cells link to each repository's
evidence (repos/<name>.html#<dimension>), from a template (templates/org.html.j2)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from maturity_scan.report import for_display, printable, safe_name
from maturity_scan.reporters.html import page


def _cells(levels: dict[str, Any], ids: list[str]) -> list[str]:
    return [f"{levels[i]:g}" if levels.get(i) is not None else "" for i in ids]


def _text(value: Any) -> str:
    """A name from a scanned repository (a catalog's component name or owner, a CODEOWNERS
    owner) as a CSV cell a spreadsheet shows as text, never runs as a formula: one that starts
    like a formula (=, +, -, a tab or CR, or @ with a call) gets a leading apostrophe."""
    text = printable(str(value or ""))
    if text[:1] in ("=", "+", "-", "\t", "\r") or (text[:1] == "@" and "(" in text):
        return "'" + text
    return text


def csv_text(summary: dict[str, Any]) -> str:
    """A row per repository (owner: its CODEOWNERS owners), then one per component it was
    assessed by (`org --components`; status `component`, with the component's owner)."""
    ids = [d["id"] for d in summary["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["repository", "status", *ids, "component", "path", "owner"])
    for r in summary["repositories"]:
        w.writerow([r["repository"], r["status"], *_cells(r.get("levels") or {}, ids), "", "",
                    _text(" ".join(r.get("owners") or []))])
        for c in r.get("components") or []:
            w.writerow([r["repository"], "component", *_cells(c["levels"], ids),
                        _text(c["name"]), _text(c["path"]), _text(c.get("owner"))])
    return buf.getvalue()


def teams_csv(summary: dict[str, Any]) -> str:
    """`--teams`: a row per team (or CODEOWNERS / component owner): mean level per dimension,
    how many repositories and components, and its three requirements to fix first."""
    ids = [d["id"] for d in summary["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["team", "source", "repositories", "components", *ids, "fix_first"])
    for t in summary.get("teams") or []:
        w.writerow([_text(t["team"]), summary.get("teams_source", "team"), t["repositories"],
                    t.get("components", 0), *_cells(t["mean"], ids),
                    " ".join(f["requirement"] for f in t.get("fix_first") or [])])
    return buf.getvalue()


def markdown(summary: dict[str, Any]) -> str:
    dims = summary["dimensions"]
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary["counts"].items()))
    out = [f"# {summary['org']}: {summary['pack_title']}", "",
           f"{len(summary['repositories'])} repositories ({counts}).", "",
           "| dimension | mean | distribution (level: repositories) |", "|---|---|---|"]
    for d in dims:
        dist = ", ".join(f"{k}: {v}" for k, v in summary["distribution"][d["id"]].items())
        mean = summary["mean"][d["id"]]
        out.append(f"| {d['title']} | {mean if mean is not None else '-'} | {dist} |")
    out += change_markdown(summary)
    if summary.get("fix_first"):
        out += ["", "## Fix first", "",
                "Requirements ranked by the repository-levels they would unlock across the org.",
                ""]
        for f in summary["fix_first"]:
            lifted = ", ".join(printable(r) for r in f["repositories"][:10])
            more = f" and {len(f['repositories']) - 10} more" if len(f["repositories"]) > 10 \
                else ""
            out.append(f"- {printable(f['title'])} (`{f['requirement']}`): {f['score']:g} "
                       f"repository-levels ({f['alone']} on its own, part of what blocks "
                       f"{f['blocking'] - f['alone']} more); lifts {lifted}{more}")
    if summary.get("teams"):
        ids = [d["id"] for d in dims]
        out += ["", f"## Per {summary.get('teams_source', 'team')}", "",
                "| team | repositories | components | " + " | ".join(ids) + " |",
                "|---|---|---|" + "---|" * len(ids)]
        for t in summary["teams"]:
            means = " | ".join("-" if t["mean"].get(i) is None else f"{t['mean'][i]:g}"
                               for i in ids)
            out.append(f"| {printable(t['team'])} | {t['repositories']} | "
                       f"{t.get('components', 0)} | {means} |")
        fixes = [t for t in summary["teams"] if t.get("fix_first")]
        if fixes:
            out += ["", "Fix first, per team:", ""]
            out += [f"- {printable(t['team'])}: " + "; ".join(
                f"{printable(f['title'])} (`{f['requirement']}`, lifts "
                f"{', '.join(printable(r) for r in f['repositories'][:5])})"
                for f in t["fix_first"]) for t in fixes]
    if summary["weakest"]:
        out += ["", "## Needs attention first", ""]
        for r in summary["weakest"]:
            out.append(f"- {r['repository']}: " + ", ".join(f"{k} {v:g}" for k, v in r["levels"].items()))
    if summary["common_missing"]:
        out += ["", "## Most common missing requirements", ""]
        for m in summary["common_missing"]:
            out.append(f"- {m['title']} (`{m['requirement']}`): {m['repositories']} repositories. "
                       f"{m['hint']}")
    failed = [r for r in summary["repositories"] if r["status"] in ("failed", "skipped")]
    if failed:
        out += ["", "## Not scanned", ""] + [
            f"- {printable(r['repository'])}: {printable(r.get('reason', r['status']))}"
            for r in failed]
    if summary.get("listing_warnings"):
        out += ["", "## Listing entries skipped", ""] + [f"- {printable(w)}"
                                                          for w in summary["listing_warnings"]]
    if summary.get("rate_limit_wait_seconds"):
        out += ["", f"Waited {summary['rate_limit_wait_seconds']}s for GitHub rate limits."]
    return "\n".join(out) + "\n"


def change_markdown(summary: dict[str, Any]) -> list[str]:
    change = summary.get("change")
    if not change:
        return ["", "## Change since the previous run", "", "First run into this folder: "
                "nothing to compare with yet."] if "change" in summary else []
    out = ["", f"## Change since the previous run ({change['since']})", ""]
    if not any(change[k] for k in ("regressed", "improved", "new", "gone")):
        return [*out, "No change."]
    if change["regressed"]:
        out.append(f"**Regressed** ({len({r['repository'] for r in change['regressed']})} "
                   "repositories):")
        out.append("")
        for r in change["regressed"]:
            lost = "; ".join(f"{printable(m['title'])} (`{m['requirement']}`)"
                             for m in r.get("lost", [])) or "a requirement"
            out.append(f"- {printable(r['repository'])}: {r['dimension']} {r['from']:g} -> "
                       f"{r['to']:g}, lost: {lost}")
        out.append("")
    if change["improved"]:
        out.append("**Improved:**")
        out.append("")
        out += [f"- {printable(r['repository'])}: {r['dimension']} {r['from']:g} -> {r['to']:g}"
                for r in change["improved"]]
        out.append("")
    for key in ("new", "gone"):
        if change[key]:
            out.append(f"**{key.title()}:** " + ", ".join(printable(n) for n in change[key]))
            out.append("")
    return out[:-1] if out[-1] == "" else out


PALETTE = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#116329", "#d4a72c",
           "#6e7781", "#e85aad", "#0550ae")


def trend_svg(summary: dict[str, Any]) -> str:
    """The mean level per dimension over the runs into this folder: one line each, drawn
    inline (no script, no CDN), from templates/trend.svg.j2."""
    shown = for_display(summary)
    runs = shown.get("trend") or []
    dims = shown["dimensions"]
    top = max([d["max_level"] for d in dims] + [1])
    w, h, left, pad = 640, 260, 40, 20
    right = w - 150
    def x(i: int) -> float:
        return left + (right - left) * (i / (len(runs) - 1) if len(runs) > 1 else 0.5)
    def y(v: float) -> float:
        return h - pad - (h - 2 * pad) * v / top
    lines = [{"id": d["id"], "title": d["title"], "color": PALETTE[n % len(PALETTE)],
              "label_y": pad + 14 * n + 4,
              "points": [(x(i), y(r["mean"][d["id"]])) for i, r in enumerate(runs)
                         if isinstance((r.get("mean") or {}).get(d["id"]), (int, float))]}
             for n, d in enumerate(dims)]
    return page("trend.svg.j2", org=shown["org"], runs=len(runs), w=w, h=h, left=left,
                right=right, grid=[(level, y(level)) for level in range(0, int(top) + 1)],
                lines=lines, first=runs[0]["scanned_at"][:10] if runs else "",
                last=runs[-1]["scanned_at"][:10] if runs else "")


def html(summary: dict[str, Any]) -> str:
    """The org page (templates/org.html.j2): every string shown `visible`, autoescaped."""
    shown = for_display(summary)
    dims = shown["dimensions"]
    rows = []
    for raw, r in zip(summary["repositories"], shown["repositories"]):
        levels = r.get("levels") or {}
        own = r.get("pack", shown["pack"]) == shown["pack"]
        rows.append({
            "name": r["repository"], "page": f"repos/{safe_name(raw['repository'])}.html",
            "cells": [{"id": d["id"], "v": levels[d["id"]],
                       "cls": f"l{min(5, max(1, int(levels[d['id']])))}"}
                      if own and d["id"] in levels else None for d in dims],
            "total": sum(levels.values()) if levels else -1,
            "status": r["status"] if "levels" in r else r.get("reason", r["status"])})
    counts = ", ".join(f"{v} {k}" for k, v in sorted(shown["counts"].items()))
    return page("org.html.j2", title=f"{shown['org']}: {shown['pack_title']}", s=shown,
                rows=rows, counts=counts,
                failed=[r for r in shown["repositories"] if r["status"] in ("failed", "skipped")],
                trend=trend_svg(summary) if summary.get("trend") else "",
                weakest=[{**w, "page": f"repos/{safe_name(raw['repository'])}.html"}
                         for raw, w in zip(summary.get("weakest") or [],
                                           shown.get("weakest") or [])])


# The files of an org run beside org.json, each rendered from the summary.
FILES: dict[str, Callable[[dict[str, Any]], str]] = {
    "org.csv": csv_text, "org-teams.csv": teams_csv, "org.md": markdown, "org.html": html,
    "org-trend.svg": trend_svg}


def render(summary: dict[str, Any], *, fmt: str = "html") -> str:
    """`fmt`: csv, md or html."""
    return FILES[f"org.{fmt}"](summary)
