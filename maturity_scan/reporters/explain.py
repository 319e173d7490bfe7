"""`maturity-scan explain` for a person: why a dimension is at its level, level by level with the
evidence behind each requirement, then the road ahead step by step (data:
`maturity_scan.assess.explain`)."""
from __future__ import annotations

import json
from typing import Any

import click

from maturity_scan.assess.explain import as_json, dimension
from maturity_scan.report import for_display
from maturity_scan.reporters.text import pending_waivers, where

EVIDENCE_PER_REQUIREMENT = 5


def render(report: dict[str, Any], *, dimension_id: str, fmt: str = "text") -> str:
    if fmt == "json":
        body = {"schema_version": report["schema_version"], "tool": report["tool"],
                **({"scanned_at": report["scanned_at"]} if "scanned_at" in report else {}),
                **as_json(report, dimension_id)}
        return json.dumps(body, indent=2) + "\n"
    report = for_display(report)  # a repository's names cannot drive the terminal
    d = dimension(report, dimension_id)
    if d["level"] is None:  # not applicable to this repository
        return click.style(f"{d['title']} ({d['id']}): n/a", bold=True) + \
            f"\nNot applicable: {d.get('reason', '')}\n"
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
    pending = pending_waivers(d)  # (only below a level not reached, so never without a road)
    if pending:
        out += ["", click.style("Waived, not counted yet", bold=True)]
        for r in pending:
            out.append(f"  L{r['level']:g} {r['title']}  " + click.style(f"[{r['id']}]", dim=True))
            out.append(f"      {r['reason']}")
    return "\n".join(out) + "\n"
