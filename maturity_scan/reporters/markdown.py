"""Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: compact, levels first, then
what was lost and what to do.

Every string from the report may come from the repository (paths, names, a custom pack's
titles): it is shown, never interpreted. Controls are escaped (`report.for_display`), prose is
backslash-escaped where Markdown or HTML would start (`*`, `<`, `|`, `[`…), and code spans are
fenced with more backticks than they hold."""
from __future__ import annotations

import re
from typing import Any

from maturity_scan.report import for_display, map_strings, visible
from maturity_scan.reporters import components
from maturity_scan.reporters.text import pending_waivers, where

# Characters that open emphasis, links, code, HTML, entities or a table cell, escaped with a
# backslash in prose (CommonMark: any ASCII punctuation may be).
_MARKUP = re.compile(r"([\\`*_\[\]<>|&~])")


def _md(text: Any) -> str:
    """Repository text as literal Markdown prose (safe in a table cell too)."""
    return _MARKUP.sub(r"\\\1", str(text))


def _code(text: str) -> str:
    """A code span showing `text` as it is (`<`, `*`, `&` are literal in code): fenced by a
    longer run of backticks than any inside, padded when it starts or ends with one. Not for
    table cells (a `|` would split the cell there)."""
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{ticks}{text}{ticks}"


def _where(e: dict[str, Any]) -> str:
    return _code(where(e, detail=False))


def _bar(level: float, top: float) -> str:
    return "▰" * int(level) + "▱" * int(top - int(level))


def render(report: dict[str, Any]) -> str:
    """One scan: a table of levels and the next step of each dimension."""
    report = for_display(report)
    out = [f"### {_md(report.get('pack_title', report['pack']))}: "
           f"{_code(report['target']['path'])}", "",
           "| dimension | level | next step |", "|---|---|---|"]
    for d in report["dimensions"]:
        if d["level"] is None:
            out.append(f"| {_md(d['title'])} | n/a | not applicable: {_md(d.get('reason', ''))} |")
            continue
        step = (d.get("next_steps") or [None])[0]
        nxt = f"{_md(step['title'])} (→ {step['unlocks']:g})" if step else \
            "top level reached" if d["level"] >= d["max_level"] else "nothing above applies"
        out.append(f"| {_md(d['title'])} | {d['level']:g} / {d['max_level']:g} "
                   f"{_bar(d['level'], d['max_level'])} | {nxt} |")
    pending = [r for d in report["dimensions"] for r in pending_waivers(d)]
    if pending:
        out += ["", "**Waived, not counted yet**", ""]
        out += [f"- {_code(r['id'])}: {_md(r['reason'])}" for r in pending]
    if report["errors"]:
        out += ["", f"⚠️ {len(report['errors'])} file(s) could not be analysed: " +
                ", ".join(_code(e["path"]) for e in report["errors"][:10])]
    if "components" in report:  # scan --components
        out += ["", components.markdown(report, _md).rstrip("\n")]
    return "\n".join(out) + "\n"


def render_diff(diff: dict[str, Any], failures: list[str] | None = None) -> str:
    """A comparison: levels before -> after, what was lost (with the evidence it had), what to do."""
    diff = for_display(diff)
    failures = map_strings(failures or [], visible)
    base, head = diff["base"].get("revision") or "base", diff["head"].get("revision") or "working tree"
    verdict = "❌ maturity regressed" if failures else "✅ no regression"
    out = [f"### {_md(diff['pack_title'])}: {verdict}", "",
           f"{_code(base[:12])} → {_code(head[:12])}", "",
           "| dimension | before | after | |", "|---|---|---|---|"]
    for d in diff["dimensions"]:
        mark = {"down": "🔻", "up": "🔺", "same": ""}[d["change"]]
        before, after = (format(v, "g") if v is not None else "n/a"  # not applicable
                         for v in (d["before"], d["after"]))
        out.append(f"| {_md(d['title'])} | {before} | {after} | {mark} |")
    lost = [(d, r) for d in diff["dimensions"] for r in d["requirements_lost"]]
    if lost:
        out += ["", "**Lost**", ""]
        for d, r in lost:
            ev = ", ".join(_where(e) for e in r["evidence"][:3])
            out.append(f"- {_md(d['id'])}: {_md(r['title'])} ({_code(r['requirement'])})"
                       + (f", was {ev}" if ev else ""))
    if diff["signals_lost"]:
        out += ["", "**Evidence removed**: " + ", ".join(
            f"{_md(s['kind'])} ({', '.join(dict.fromkeys(_where(e) for e in s['evidence'][:3]))})"
            for s in diff["signals_lost"])]
    gained = [(d, r) for d in diff["dimensions"] for r in d["requirements_gained"]]
    if gained:
        out += ["", "**Gained**: " + ", ".join(f"{_md(r['title'])} ({_code(r['requirement'])})"
                                               for _, r in gained)]
    out += components.markdown_diff(diff, _md)  # diff --components
    if failures:
        out += ["", "**Gate**", ""] + [f"- {_md(f)}" for f in failures]
        for d in diff["dimensions"]:
            for r in d["requirements_lost"][:2]:
                out.append(f"- to restore *{_md(r['title'])}*, bring back " +
                           (", ".join(_where(e) for e in r["evidence"][:2]) or "its evidence"))
    return "\n".join(out) + "\n"
