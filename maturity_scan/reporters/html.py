"""A self-contained HTML page for one report: levels per dimension, the evidence behind each,
and the road ahead. No scripts, no external assets; every value is escaped."""
from __future__ import annotations

from html import escape
from typing import Any

from maturity_scan.report import for_display
from maturity_scan.reporters.text import where

STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1f2328}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left}
.bar{display:inline-block;height:.7rem;background:#2da44e;border-radius:2px}
.track{display:inline-block;width:10rem;background:#eaeef2;border-radius:2px}
code{background:#f6f8fa;padding:0 .2rem}.muted{color:#656d76}.miss{color:#cf222e}
li{margin:.2rem 0}
"""


def _where(e: dict[str, Any]) -> str:
    loc = where(e, detail=False)
    detail = f" <span class=muted>{escape(e['detail'])}</span>" if e.get("detail") else ""
    return f"<code>{escape(loc)}</code>{detail}"


def _head(title: str) -> list[str]:
    return ["<!doctype html><html lang=en><meta charset=utf-8>",
            f"<title>{escape(title)}</title><style>{STYLE}</style>"]


def render(report: dict[str, Any]) -> str:
    return "\n".join(_head(_title(report)) + _section(report, "")) + "\n"


def render_many(reports: list[dict[str, Any]]) -> str:
    """Several reports of one scan (`--pack all`): one page, a section per pack, anchors
    prefixed with the pack id so that they stay unique."""
    out = _head(f"maturity-scan: {for_display(reports[0])['target']['path']}")
    out.append("<nav><ul>" + "".join(
        f"<li><a href='#{escape(r['pack'])}'>{escape(for_display(r).get('pack_title', r['pack']))}"
        "</a></li>" for r in reports) + "</ul></nav>")
    for r in reports:
        out.append(f"<section id='{escape(r['pack'])}'>")
        out += _section(r, f"{r['pack']}-")
        out.append("</section>")
    return "\n".join(out) + "\n"


def _title(report: dict[str, Any]) -> str:
    report = for_display(report)
    return f"{report.get('pack_title', report['pack'])}: {report['target']['path']}"


def _section(report: dict[str, Any], prefix: str) -> list[str]:
    title = _title(report)
    report = for_display(report)  # controls shown as escapes, as in every text format
    t = report["target"]
    out = [f"<h1>{escape(title)}</h1>"]
    if t.get("revision"):
        out.append(f"<p class=muted>revision {escape(t['revision'])}</p>")
    out.append("<table><tr><th>dimension</th><th>level</th><th></th><th>name</th></tr>")
    for d in report["dimensions"]:
        if d["level"] is None:
            out.append(f"<tr><td><a href='#{escape(prefix + d['id'])}'>{escape(d['title'])}</a></td>"
                       f"<td>n/a</td><td></td><td class=muted>not applicable</td></tr>")
            continue
        width = 10 * d["level"] / d["max_level"]
        out.append(f"<tr><td><a href='#{escape(prefix + d['id'])}'>{escape(d['title'])}</a></td>"
                   f"<td>{d['level']:g} / {d['max_level']:g}</td>"
                   f"<td><span class=track><span class=bar style='width:{width:.1f}rem'>"
                   f"</span></span></td><td>{escape(d.get('level_name', ''))}</td></tr>")
    out.append("</table>")
    for d in report["dimensions"]:
        if d["level"] is None:
            out.append(f"<h2 id='{escape(prefix + d['id'])}'>{escape(d['title'])}: n/a</h2>"
                       f"<p class=muted>not applicable: {escape(d.get('reason', ''))}</p>")
            continue
        out.append(f"<h2 id='{escape(prefix + d['id'])}'>{escape(d['title'])}: level {d['level']:g}</h2>")
        above = [r for r in d.get("requirements") or []
                 if r["status"] == "met" and r["level"] > d["level"]]
        if above:
            out.append("<p class=muted>also met above: " + ", ".join(
                f"L{r['level']:g} <code>{escape(r['id'])}</code>" for r in above) + "</p>")
        if d["met"]:
            out.append("<ul>")
            for m in d["met"]:
                ev = "".join(f"<li>{_where(e)}</li>" for e in m["evidence"])
                waived = f" <em>waived: {escape(m['waived'])}</em>" if m.get("waived") else ""
                out.append(f"<li>✓ L{m['level']:g} {escape(m['title'])}{waived}<ul>{ev}</ul></li>")
            out.append("</ul>")
        steps = d.get("next_steps") or []
        if steps:
            out.append("<p><strong>Road ahead</strong></p><ol>")
            for s in steps:
                have = "".join(f"<li class=muted>build on {_where(e)}</li>" for e in s.get("have", []))
                out.append(f"<li><span class=miss>{escape(s['title'])}</span> "
                           f"<span class=muted>(level {s['unlocks']:g})</span><br>"
                           f"{escape(s['hint'])}<ul>{have}</ul></li>")
            out.append("</ol>")
    if report["errors"]:
        out.append(f"<h2>Files that could not be analysed ({len(report['errors'])})</h2><ul>")
        out.extend(f"<li><code>{escape(e['path'])}</code> {escape(e['message'])}</li>"
                   for e in report["errors"])
        out.append("</ul>")
    return out
