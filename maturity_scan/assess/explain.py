"""`maturity-scan explain`: why a dimension sits at its level (evidence -> requirement -> level)
and the road ahead (each missing requirement, in the order that unlocks levels soonest, with the
action to take and what the repository already has to build on). Rendered from the report, so
explain, the text report and the JSON report never disagree."""
from __future__ import annotations

from typing import Any

import click

from maturity_scan.errors import UsageError
from maturity_scan.report import for_display
from maturity_scan.reporters.text import where

EVIDENCE_PER_REQUIREMENT = 5


def dimension(report: dict[str, Any], dim_id: str) -> dict[str, Any]:
    for d in report["dimensions"]:
        if d["id"] == dim_id:
            return d
    known = ", ".join(d["id"] for d in report["dimensions"])
    raise UsageError(f"{dim_id}: no such dimension in pack {report['pack']} (dimensions: {known})")


def as_json(report: dict[str, Any], dim_id: str) -> dict[str, Any]:
    d = dimension(report, dim_id)
    return {"pack": report["pack"], "target": report["target"], **d}


def render(report: dict[str, Any], dim_id: str) -> str:
    report = for_display(report)  # a repository's names cannot drive the terminal
    d = dimension(report, dim_id)
    out = [click.style(f"{d['title']} ({d['id']}): level {d['level']:g} of {d['max_level']:g}"
                       + (f", {d['level_name']}" if d.get("level_name") else ""), bold=True)
           + click.style(f"  [{report.get('pack_title', report['pack'])}]", dim=True)]
    if d.get("note"):
        out.append(click.style(d["note"], dim=True))
    out.append("")
    if d["met"]:
        out.append(click.style(f"Why level {d['level']:g}", bold=True))
        by_level: dict[float, list[dict[str, Any]]] = {}
        for m in d["met"]:
            by_level.setdefault(m["level"], []).append(m)
        for level, reqs in by_level.items():
            out.append(f"  level {level:g} holds because:")
            for m in reqs:
                state = click.style("waived", fg="yellow") if m.get("waived") else \
                    click.style("✓", fg="green")
                out.append(f"    {state} {m['title']}  " + click.style(f"[{m['requirement']}]", dim=True))
                if m.get("ref"):
                    out.append(click.style(f"        model: {m['ref']}", dim=True))
                if m.get("waived"):
                    out.append(f"        waived: {m['waived']}")
                for e in m["evidence"][:EVIDENCE_PER_REQUIREMENT]:
                    out.append(f"        {where(e)}")
                if len(m["evidence"]) > EVIDENCE_PER_REQUIREMENT:
                    out.append(click.style(f"        … and {len(m['evidence']) - EVIDENCE_PER_REQUIREMENT}"
                                           " more", dim=True))
    else:
        out.append(f"Level {d['level']:g} is where every repository starts: no evidence needed.")
    out.append("")
    steps = d.get("next_steps") or []
    if not steps:
        out.append(click.style("Top level reached: nothing left on this road.", fg="green"))
        return "\n".join(out) + "\n"
    names = {s["level"]: s.get("name", "") for s in d.get("road", [])}
    out.append(click.style("Road ahead", bold=True))
    current = None
    for n, s in enumerate(steps, 1):
        if s["unlocks"] != current:
            current = s["unlocks"]
            name = f" ({names[current]})" if names.get(current) else ""
            out.append(f"  to reach level {current:g}{name}:")
        out.append(f"    {n}. {s['title']}  " + click.style(f"[{s['requirement']}]", dim=True))
        out.append(f"       do: {s['hint']}")
        for e in s.get("have", []):
            out.append(click.style(f"       build on: {where(e)}", dim=True))
        if s.get("ref"):
            out.append(click.style(f"       model: {s['ref']}", dim=True))
    return "\n".join(out) + "\n"
