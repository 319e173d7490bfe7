"""`maturity-scan explain` for a person: why a dimension is at its level, level by level with the
evidence behind each requirement, then the road ahead step by step (data:
`maturity_scan.assess.explain`)."""
from __future__ import annotations

import json
from typing import Any

from maturity_scan.assess.explain import as_json, dimension
from maturity_scan.report import for_display
from maturity_scan.reporters.text import Page, pending_waivers, where

EVIDENCE_PER_REQUIREMENT = 5


def render(report: dict[str, Any], *, dimension_id: str, fmt: str = "text",
           width: int | None = None) -> str:
    """`width`: the terminal's columns to fit text to (None: lines as they are)."""
    if fmt == "json":
        body = {"schema_version": report["schema_version"], "tool": report["tool"],
                **({"scanned_at": report["scanned_at"]} if "scanned_at" in report else {}),
                **as_json(report, dimension_id)}
        return json.dumps(body, indent=2) + "\n"
    report = for_display(report)  # a repository's names cannot drive the terminal
    d = dimension(report, dimension_id)
    out = Page()
    if d["level"] is None:  # not applicable to this repository
        out.line((f"{d['title']} ({d['id']}): n/a", "bold"))
        out.line(f"Not applicable: {d.get('reason', '')}")
        return out.render(width)
    out.line((f"{d['title']} ({d['id']}): level {d['level']:g} of {d['max_level']:g}"
              + (f", {d['level_name']}" if d.get("level_name") else ""), "bold"),
             (f"  [{report.get('pack_title', report['pack'])}]", "dim"))
    if d.get("note"):
        out.line((d["note"], "dim"))
    out.blank()
    if d["met"]:
        out.line((f"Why level {d['level']:g}", "bold"))
        by_level: dict[float, list[dict[str, Any]]] = {}
        for m in d["met"]:
            by_level.setdefault(m["level"], []).append(m)
        for level, reqs in by_level.items():
            out.line(f"level {level:g} holds because:", indent=2)
            for m in reqs:
                state = ("waived", "yellow") if m.get("waived") else ("✓", "green")
                out.line(state, f" {m['title']}  ", (f"[{m['requirement']}]", "dim"), indent=4)
                if m.get("ref"):
                    out.line((f"model: {m['ref']}", "dim"), indent=8)
                if m.get("waived"):
                    out.line(f"waived: {m['waived']}", indent=8)
                for e in m["evidence"][:EVIDENCE_PER_REQUIREMENT]:
                    out.line(where(e), indent=8)
                out.more(len(m["evidence"]), EVIDENCE_PER_REQUIREMENT, 8)
    else:
        out.line(f"Level {d['level']:g} is where every repository starts: no evidence needed.")
    out.blank()
    steps = d.get("next_steps") or []
    if not steps:
        out.line(("Top level reached: nothing left on this road." if d["level"] >= d["max_level"]
                  else f"Nothing above level {d['level']:g} applies to this repository: nothing "
                  "left on this road.", "green"))
        return out.render(width)
    names = {s["level"]: s.get("name", "") for s in d.get("road", [])}
    out.line(("Road ahead", "bold"))
    current = None
    for n, s in enumerate(steps, 1):
        if s["unlocks"] != current:
            current = s["unlocks"]
            name = f" ({names[current]})" if names.get(current) else ""
            out.line(f"to reach level {current:g}{name}:", indent=2)
        out.line(f"{n}. {s['title']}  ", (f"[{s['requirement']}]", "dim"), indent=4)
        out.line(f"do: {s['hint']}", indent=7)
        for e in s.get("have", []):
            out.line((f"build on: {where(e)}", "dim"), indent=7)
        if s.get("ref"):
            out.line((f"model: {s['ref']}", "dim"), indent=7)
    pending = pending_waivers(d)  # (only below a level not reached, so never without a road)
    if pending:
        out.blank()
        out.line(("Waived, not counted yet", "bold"))
        for r in pending:
            out.line(f"L{r['level']:g} {r['title']}  ", (f"[{r['id']}]", "dim"), indent=2)
            out.line(r["reason"], indent=6)
    return out.render(width)
