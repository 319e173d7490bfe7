"""Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: compact, levels first, then
what was lost and what to do."""
from __future__ import annotations

from typing import Any


def _where(e: dict[str, Any]) -> str:
    return f"`{e['path']}:{e['line']}`" if e.get("line") else f"`{e['path']}`"


def _bar(level: float, top: float) -> str:
    return "▰" * int(level) + "▱" * int(top - int(level))


def render(report: dict[str, Any]) -> str:
    """One scan: a table of levels and the next step of each dimension."""
    out = [f"### {report.get('pack_title', report['pack'])}: `{report['target']['path']}`", "",
           "| dimension | level | next step |", "|---|---|---|"]
    for d in report["dimensions"]:
        step = (d.get("next_steps") or [None])[0]
        nxt = f"{step['title']} (→ {step['unlocks']:g})" if step else "top level reached"
        out.append(f"| {d['title']} | {d['level']:g} / {d['max_level']:g} {_bar(d['level'], d['max_level'])} | {nxt} |")
    if report["errors"]:
        out += ["", f"⚠️ {len(report['errors'])} file(s) could not be analysed: " +
                ", ".join(f"`{e['path']}`" for e in report["errors"][:10])]
    return "\n".join(out) + "\n"


def render_diff(diff: dict[str, Any], failures: list[str] | None = None) -> str:
    """A comparison: levels before -> after, what was lost (with the evidence it had), what to do."""
    base, head = diff["base"].get("revision") or "base", diff["head"].get("revision") or "working tree"
    verdict = "❌ maturity regressed" if failures else "✅ no regression"
    out = [f"### {diff['pack_title']}: {verdict}", "",
           f"`{base[:12]}` → `{head[:12]}`", "",
           "| dimension | before | after | |", "|---|---|---|---|"]
    for d in diff["dimensions"]:
        mark = {"down": "🔻", "up": "🔺", "same": ""}[d["change"]]
        out.append(f"| {d['title']} | {d['before']:g} | {d['after']:g} | {mark} |")
    lost = [(d, r) for d in diff["dimensions"] for r in d["requirements_lost"]]
    if lost:
        out += ["", "**Lost**", ""]
        for d, r in lost:
            ev = ", ".join(_where(e) for e in r["evidence"][:3])
            out.append(f"- {d['id']}: {r['title']} (`{r['requirement']}`)" + (f", was {ev}" if ev else ""))
    if diff["signals_lost"]:
        out += ["", "**Evidence removed**: " + ", ".join(
            f"{s['kind']} ({', '.join(dict.fromkeys(_where(e) for e in s['evidence'][:3]))})"
            for s in diff["signals_lost"])]
    gained = [(d, r) for d in diff["dimensions"] for r in d["requirements_gained"]]
    if gained:
        out += ["", "**Gained**: " + ", ".join(f"{r['title']} (`{r['requirement']}`)"
                                               for _, r in gained)]
    if failures:
        out += ["", "**Gate**", ""] + [f"- {f}" for f in failures]
        for d in diff["dimensions"]:
            for r in d["requirements_lost"][:2]:
                out.append(f"- to restore *{r['title']}*, bring back " +
                           (", ".join(_where(e) for e in r["evidence"][:2]) or "its evidence"))
    return "\n".join(out) + "\n"
