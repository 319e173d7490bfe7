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


def csv_text(summary: dict[str, Any]) -> str:
    ids = [d["id"] for d in summary["dimensions"]]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["repository", "status", *ids])
    for r in summary["repositories"]:
        levels = r.get("levels") or {}
        w.writerow([r["repository"], r["status"], *(f"{levels[i]:g}" if i in levels else ""
                                                    for i in ids)])
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


STYLE = """body{font:14px/1.4 system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}
th,td{padding:.3rem .6rem;border:1px solid #fff;text-align:center}th{cursor:pointer;background:#eaeef2}
td.repo{text-align:left}td a{color:inherit;text-decoration:none;display:block}
.l1{background:#ffebe9}.l2{background:#fff1c2}.l3{background:#dafbe1}.l4{background:#aceebb}
.l5{background:#4ac26b;color:#fff}.na{background:#f6f8fa;color:#8c959f}"""
SORT = """document.querySelectorAll('th').forEach(function(th,i){th.onclick=function(){
var t=th.closest('table'),rows=Array.from(t.tBodies[0].rows),dir=th.dataset.dir=th.dataset.dir==='a'?'d':'a';
rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
var n=parseFloat(x)-parseFloat(y);var c=isNaN(n)?x.localeCompare(y):n;return dir==='a'?c:-c;});
rows.forEach(function(r){t.tBodies[0].appendChild(r);});};});"""


def html(summary: dict[str, Any]) -> str:
    dims = summary["dimensions"]
    head = "".join(f"<th title='{escape(d['title'])}'>{escape(d['id'])}</th>" for d in dims)
    rows = []
    for r in summary["repositories"]:
        levels = r.get("levels") or {}
        page = f"repos/{escape(safe_name(r['repository']))}.html"
        cells = []
        for d in dims:
            if d["id"] in levels:
                v = levels[d["id"]]
                cls = f"l{min(5, max(1, int(v)))}"
                cells.append(f"<td class={cls} data-v='{v:g}'><a href='{page}#{escape(d['id'])}'>"
                             f"{v:g}</a></td>")
            else:
                cells.append("<td class=na data-v='-1'>–</td>")
        total = sum(levels.values()) if levels else -1
        status = escape(r["status"] if "levels" in r else r.get("reason", r["status"]))
        rows.append(f"<tr><td class=repo data-v='{escape(r['repository'])}'>"
                    f"{escape(r['repository'])}</td>{''.join(cells)}"
                    f"<td data-v='{total:g}'>{total:g}</td><td data-v='{status}'>{status}</td></tr>")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(summary['org'])}: "
            f"{escape(summary['pack_title'])}</title><style>{STYLE}</style>"
            f"<h1>{escape(summary['org'])}: {escape(summary['pack_title'])}</h1>"
            f"<p>{len(summary['repositories'])} repositories. Click a column to sort; a cell "
            f"opens the evidence behind it.</p>"
            f"<table><thead><tr><th>repository</th>{head}<th>total</th><th>status</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table><script>{SORT}</script>\n")


# The files of an org run beside org.json, each rendered from the summary.
FILES: dict[str, Callable[[dict[str, Any]], str]] = {
    "org.csv": csv_text, "org.md": markdown, "org.html": html}


def render(summary: dict[str, Any], *, fmt: str = "html") -> str:
    """`fmt`: csv, md or html."""
    return FILES[f"org.{fmt}"](summary)
