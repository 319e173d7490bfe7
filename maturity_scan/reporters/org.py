"""The organization's picture: a CSV of repository x dimension levels, a Markdown summary and
a self-contained HTML page with a sortable heatmap whose cells link to each repository's
evidence (repos/<name>.html#<dimension>)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from html import escape
from typing import Any

from maturity_scan.report import printable, safe_name


def _cells(levels: dict[str, Any], ids: list[str]) -> list[str]:
    return [f"{levels[i]:g}" if levels.get(i) is not None else "" for i in ids]


def csv_text(summary: dict[str, Any]) -> str:
    """A row per repository (owner: its CODEOWNERS owners), then one per component it was
    assessed by (`org --components`; status `component`, with the component's owner)."""
    ids = [d["id"] for d in summary["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["repository", "status", *ids, "component", "path", "owner"])
    for r in summary["repositories"]:
        w.writerow([r["repository"], r["status"], *_cells(r.get("levels") or {}, ids), "", "",
                    " ".join(r.get("owners") or [])])
        for c in r.get("components") or []:
            w.writerow([r["repository"], "component", *_cells(c["levels"], ids), c["name"],
                        c["path"], c.get("owner") or ""])
    return buf.getvalue()


def teams_csv(summary: dict[str, Any]) -> str:
    """`--teams`: a row per team (or CODEOWNERS / component owner): mean level per dimension,
    how many repositories and components, and its three requirements to fix first."""
    ids = [d["id"] for d in summary["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["team", "source", "repositories", "components", *ids, "fix_first"])
    for t in summary.get("teams") or []:
        w.writerow([t["team"], summary.get("teams_source", "team"), t["repositories"],
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
    inline (no script, no CDN)."""
    runs = summary.get("trend") or []
    dims = summary["dimensions"]
    top = max([d["max_level"] for d in dims] + [1])
    w, h, left, pad = 640, 260, 40, 20
    right = w - 150
    def x(i: int) -> float:
        return left + (right - left) * (i / (len(runs) - 1) if len(runs) > 1 else 0.5)
    def y(v: float) -> float:
        return h - pad - (h - 2 * pad) * v / top
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img' "
             f"viewBox='0 0 {w} {h}' font-family='sans-serif' font-size='11'>",
             f"<title>{escape(summary['org'])}: mean level per dimension, "
             f"{len(runs)} run(s)</title>"]
    for level in range(0, int(top) + 1):
        parts.append(f"<line x1='{left}' x2='{right}' y1='{y(level):.1f}' y2='{y(level):.1f}' "
                     f"stroke='#eaeef2'/><text x='{left - 6}' y='{y(level) + 4:.1f}' "
                     f"text-anchor='end'>{level}</text>")
    for n, d in enumerate(dims):
        color = PALETTE[n % len(PALETTE)]
        points = [(x(i), y(r["mean"][d["id"]])) for i, r in enumerate(runs)
                  if isinstance((r.get("mean") or {}).get(d["id"]), (int, float))]
        if points:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
            parts.append(f"<polyline fill='none' stroke='{color}' stroke-width='2' "
                         f"points='{path}'><title>{escape(d['title'])}</title></polyline>")
            parts += [f"<circle cx='{a:.1f}' cy='{b:.1f}' r='2.5' fill='{color}'/>"
                      for a, b in points]
        parts.append(f"<text x='{right + 12}' y='{pad + 14 * n + 4}' fill='{color}'>"
                     f"{escape(d['id'])}</text>")
    if runs:
        parts.append(f"<text x='{left}' y='{h - 4}'>{escape(runs[0]['scanned_at'][:10])}</text>")
        parts.append(f"<text x='{right}' y='{h - 4}' text-anchor='end'>"
                     f"{escape(runs[-1]['scanned_at'][:10])}</text>")
    parts.append("</svg>")
    return "".join(parts) + "\n"


STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:80rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .6rem;border:1px solid #fff;
text-align:center}th{background:#eaeef2}th button{font:inherit;font-weight:bold;border:0;
background:none;cursor:pointer;padding:0}th button:focus-visible{outline:2px solid #0969da}
td.repo,th.repo{text-align:left}td a{color:inherit;text-decoration:none;display:block}
.l1{background:#ffebe9}.l2{background:#fff1c2}.l3{background:#dafbe1}.l4{background:#aceebb}
.l5{background:#4ac26b;color:#fff}.na{background:#f6f8fa;color:#8c959f}.meta{color:#57606a}
.down{color:#cf222e}.up{color:#1a7f37}"""
# Sorting by keyboard too: each sortable header holds a button; aria-sort says the order.
SORT = """document.querySelectorAll('table.sortable th button').forEach(function(b){
b.onclick=function(){var th=b.closest('th'),t=th.closest('table'),i=th.cellIndex,
dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',dir);var rows=Array.from(t.tBodies[0].rows);
rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
var n=parseFloat(x)-parseFloat(y);var c=isNaN(n)?x.localeCompare(y):n;
return dir==='ascending'?c:-c;});rows.forEach(function(r){t.tBodies[0].appendChild(r);});};});"""


def _e(value: Any) -> str:
    return escape(printable(str(value)))


def _change_html(summary: dict[str, Any]) -> str:
    change = summary.get("change")
    if "change" not in summary:
        return ""
    if not change:
        return ("<h2>Change since the previous run</h2><p>First run into this folder: nothing "
                "to compare with yet.</p>")
    out = [f"<h2>Change since the previous run ({_e(change['since'])})</h2>"]
    if not any(change[k] for k in ("regressed", "improved", "new", "gone")):
        return out[0] + "<p>No change.</p>"
    if change["regressed"]:
        out.append("<h3 class=down>Regressed</h3><ul>")
        for r in change["regressed"]:
            lost = "; ".join(f"{_e(m['title'])} (<code>{_e(m['requirement'])}</code>)"
                             for m in r.get("lost", [])) or "a requirement"
            out.append(f"<li>{_e(r['repository'])}: {_e(r['dimension'])} {r['from']:g} &rarr; "
                       f"{r['to']:g}, lost: {lost}</li>")
        out.append("</ul>")
    if change["improved"]:
        out.append("<h3 class=up>Improved</h3><ul>" + "".join(
            f"<li>{_e(r['repository'])}: {_e(r['dimension'])} {r['from']:g} &rarr; "
            f"{r['to']:g}</li>" for r in change["improved"]) + "</ul>")
    for key in ("new", "gone"):
        if change[key]:
            out.append(f"<h3>{key.title()}</h3><p>" + ", ".join(_e(n) for n in change[key]) +
                       "</p>")
    return "".join(out)


def _mean_cell(value: float | None) -> str:
    return "<td data-v='-1'>-</td>" if value is None else f"<td data-v='{value:g}'>{value:g}</td>"


def _th(label: str, title: str = "", cls: str = "") -> str:
    return (f"<th scope=col{' class=' + cls if cls else ''}"
            f"{' title=' + chr(39) + escape(title) + chr(39) if title else ''}>"
            f"<button type=button>{escape(label)}</button></th>")


def html(summary: dict[str, Any]) -> str:
    dims = summary["dimensions"]
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary["counts"].items()))
    meta = (f"<p class=meta>Scanned {_e(summary.get('scanned_at', '?'))} with maturity-scan "
            f"{_e(summary.get('tool_version', '?'))}, pack <code>{_e(summary['pack'])}</code>. "
            f"{len(summary['repositories'])} repositories ({_e(counts)}).</p>")
    means = ["<h2>Means</h2><table><thead><tr><th scope=col>dimension</th><th scope=col>mean"
             "</th><th scope=col>distribution (level: repositories)</th></tr></thead><tbody>"]
    for d in dims:
        dist = ", ".join(f"{k}: {v}" for k, v in summary["distribution"][d["id"]].items())
        mean = summary["mean"][d["id"]]
        means.append(f"<tr><td class=repo>{escape(d['title'])}</td><td>"
                     f"{'-' if mean is None else mean}</td><td>{escape(dist)}</td></tr>")
    means.append("</tbody></table>")
    sections = ["".join(means), _change_html(summary)]
    if summary.get("trend"):
        sections.append("<h2>Trend</h2>" + trend_svg(summary))
    if summary.get("fix_first"):
        sections.append("<h2>Fix first</h2><p>Requirements ranked by the repository-levels "
                        "they would unlock across the org.</p><ol>" + "".join(
                            f"<li>{_e(f['title'])} (<code>{_e(f['requirement'])}</code>): "
                            f"{f['score']:g} repository-levels ({f['alone']} on its own, "
                            f"part of what blocks {f['blocking'] - f['alone']} more); lifts "
                            + ", ".join(_e(r) for r in f["repositories"][:10]) + "</li>"
                            for f in summary["fix_first"]) + "</ol>")
    if summary.get("teams"):
        ids = [d["id"] for d in dims]
        rows = "".join(
            f"<tr><td class=repo data-v='{_e(t['team'])}'>{_e(t['team'])}</td>"
            f"<td data-v='{t['repositories']}'>{t['repositories']}</td>" + "".join(
                _mean_cell(t["mean"].get(i)) for i in ids) + "</tr>" for t in summary["teams"])
        sections.append(f"<h2>Per {_e(summary.get('teams_source', 'team'))}</h2>"
                        "<table class=sortable><thead><tr>" + _th("team", cls="repo") +
                        _th("repositories") + "".join(_th(i) for i in ids) +
                        f"</tr></thead><tbody>{rows}</tbody></table>")
    if summary["common_missing"]:
        sections.append("<h2>Most common missing requirements</h2><ul>" + "".join(
            f"<li>{_e(m['title'])} (<code>{_e(m['requirement'])}</code>): "
            f"{m['repositories']} repositories. {_e(m['hint'])}</li>"
            for m in summary["common_missing"]) + "</ul>")
    failed = [r for r in summary["repositories"] if r["status"] in ("failed", "skipped")]
    if failed:
        sections.append("<h2>Not scanned</h2><ul>" + "".join(
            f"<li>{_e(r['repository'])}: {_e(r.get('reason', r['status']))}</li>"
            for r in failed) + "</ul>")
    head = "".join(_th(d["id"], d["title"]) for d in dims)
    rows = []
    for r in summary["repositories"]:
        levels = r.get("levels") or {}
        page = f"repos/{escape(safe_name(r['repository']))}.html"
        cells = []
        for d in dims:
            if d["id"] in levels and r.get("pack", summary["pack"]) == summary["pack"]:
                v = levels[d["id"]]
                cls = f"l{min(5, max(1, int(v)))}"
                cells.append(f"<td class={cls} data-v='{v:g}'><a href='{page}#{escape(d['id'])}'>"
                             f"{v:g}</a></td>")
            else:
                cells.append("<td class=na data-v='-1'>–</td>")
        total = sum(levels.values()) if levels else -1
        status = _e(r["status"] if "levels" in r else r.get("reason", r["status"]))
        rows.append(f"<tr><td class=repo data-v='{_e(r['repository'])}'>"
                    f"{_e(r['repository'])}</td>{''.join(cells)}"
                    f"<td data-v='{total:g}'>{total:g}</td><td data-v='{status}'>{status}</td></tr>")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(summary['org'])}: "
            f"{escape(summary['pack_title'])}</title><style>{STYLE}</style>"
            f"<h1>{escape(summary['org'])}: {escape(summary['pack_title'])}</h1>{meta}"
            f"{''.join(sections)}<h2>Repositories</h2>"
            f"<p>Sort by any column (click or Enter on its header); a cell opens the evidence "
            f"behind it.</p><table class=sortable><thead><tr>{_th('repository', cls='repo')}"
            f"{head}{_th('total')}{_th('status')}</tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table><script>{SORT}</script>\n")


# The files of an org run beside org.json, each rendered from the summary.
FILES: dict[str, Callable[[dict[str, Any]], str]] = {
    "org.csv": csv_text, "org-teams.csv": teams_csv, "org.md": markdown, "org.html": html,
    "org-trend.svg": trend_svg}


def render(summary: dict[str, Any], *, fmt: str = "html") -> str:
    """`fmt`: csv, md or html."""
    return FILES[f"org.{fmt}"](summary)
