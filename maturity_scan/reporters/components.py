"""The components of a report (`scan --components`) for a person: a table component x
dimension, then each component's detail (where it was found, its level per dimension, the
evidence of the level reached and the next steps). Text for the terminal, and the table in
Markdown."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from maturity_scan.errors import UsageError
from maturity_scan.report import for_display

NONE_FOUND = ("No components found: no Backstage catalog-info.yaml Component, no kubify.yaml, "
              "no folder under services/, apps/ or cmd/ (or a workspace member) with a "
              "Dockerfile, a Helm chart or an entry point. List them in the config "
              "(components: [\"services/*\"]).")
EVIDENCE_SHOWN = 2


def _level(d: dict[str, Any]) -> str:
    return "n/a" if d.get("level") is None else f"{d['level']:g}"


def _where(e: dict[str, Any]) -> str:
    loc = f"{e['path']}:{e['line']}" if e.get("line") else e["path"]
    return f"{loc}  {e['detail']}" if e.get("detail") else loc


def table_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The header (COMPONENT, PATH, OWNER, then each dimension id) and one row per component."""
    comps = report.get("components") or []
    dims = [d["id"] for d in report.get("dimensions") or []]
    rows = []
    for c in comps:
        levels = {d["id"]: _level(d) for d in c["dimensions"]}
        rows.append([c["name"], c["path"], c.get("owner") or "-",
                     *(levels.get(d, "-") for d in dims)])
    return ["COMPONENT", "PATH", "OWNER", *dims], rows


def render(report: dict[str, Any]) -> str:
    """Text: the table, then each component's detail."""
    report = for_display(report)
    comps = report.get("components") or []
    out = [click.style(f"COMPONENTS ({len(comps)})", bold=True)]
    if not comps:
        return "\n".join([*out, NONE_FOUND, ""])
    head, rows = table_rows(report)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out.append(click.style("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(),
                           bold=True))
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    for c in comps:
        out += ["", *_detail(c)]
    return "\n".join(out) + "\n"


def _detail(c: dict[str, Any]) -> list[str]:
    src = c["source"]
    facts = [f"{c['path']}", f"{src['kind']} {src['path']}:{src['line']}"]
    if c.get("owner"):
        facts.append(f"owner {c['owner']}")
    if c.get("type"):
        facts.append(f"type {c['type']}")
    out = [click.style(c["name"], bold=True) + click.style(f"  ({', '.join(facts)})", dim=True)]
    for d in c["dimensions"]:
        top = f"{d['max_level']:g}"
        name = f" {d['level_name']}" if d.get("level_name") else ""
        out.append(f"  {d['title']} [{d['id']}]: {_level(d)}/{top}{name}")
        if d.get("status") == "not_applicable":
            out.append("    " + click.style(d.get("reason", ""), dim=True))
            continue
        reached = [m for m in d.get("met") or [] if m["level"] == d["level"]]
        for m in reached:
            ev = m.get("evidence") or []
            shown = "; ".join(_where(e) for e in ev[:EVIDENCE_SHOWN])
            out.append("    " + click.style("✓ ", fg="green") + f"{m['title']}" +
                       (click.style(f"  {shown}", dim=True) if shown else ""))
        nxt = d.get("next")
        for step in (nxt or {}).get("missing") or []:
            out.append("    " + click.style(f"→ L{nxt['level']:g} ", fg="yellow") +
                       f"{step['title']}  " + click.style(f"[{step['requirement']}]", dim=True))
            if step.get("reason"):
                out.append(f"        {step['reason']}")
            # the indent outside the style: the text page wraps under it
            out.append("        " + click.style(step["hint"], dim=True))
    return out


def markdown(report: dict[str, Any], md: Callable[[str], str]) -> str:
    """Markdown: the table only; `md` makes repository text literal Markdown."""
    report = for_display(report)
    comps = report.get("components") or []
    out = ["## Components", ""]
    if not comps:
        return "\n".join([*out, md(NONE_FOUND), ""])
    head, rows = table_rows(report)
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    out += ["| " + " | ".join(md(v) for v in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def markdown_diff(diff: dict[str, Any], md: Callable[[str], str]) -> list[str]:
    """Lines for a Markdown diff: each component whose level changed (a table), and those
    added or removed; none without components. `diff` is already shown safe (for_display);
    `md` makes repository text literal Markdown."""
    rows = [(c, d) for c in diff.get("components") or [] for d in c["dimensions"]
            if d["change"] != "same"]
    out: list[str] = []
    if rows:
        out += ["", "| component | dimension | before | after | |", "|---|---|---|---|---|"]
        for c, d in rows:
            mark = {"down": "🔻", "up": "🔺"}[d["change"]]
            lost = ", ".join(md(r["requirement"]) for r in d["requirements_lost"][:3])
            out.append(f"| {md(c['name'])} ({md(c['path'])}) | {d['id']} | "
                       f"{d['before']:g} | {d['after']:g} | {mark}" +
                       (f" lost {lost}" if lost else "") + " |")
    for key, what in (("components_added", "added"), ("components_removed", "removed")):
        if diff.get(key):
            out += ["", f"**Components {what}**: " + ", ".join(
                f"{md(c['name'])} ({md(c['path'])})" for c in diff[key])]
    return out


def component_report(report: dict[str, Any], key: str) -> dict[str, Any]:
    """The report as one component sees it (`explain --component`): its dimensions in place of
    the repository's, its name beside the pack's title. `key`: the component's id, name or
    folder."""
    comps = report.get("components") or []
    found = next((c for c in comps if key in (c["id"], c["name"], c["path"])), None)
    if found is None:
        known = ", ".join(c["id"] for c in comps) or "none found"
        raise UsageError(f"--component {key}: no such component (components: {known})")
    title = report.get("pack_title", report["pack"])
    return {**report, "dimensions": found["dimensions"],
            "pack_title": f"{title}, component {found['name']} ({found['path']})"}
