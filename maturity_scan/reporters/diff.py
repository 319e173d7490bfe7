"""Two revisions compared (`maturity-scan diff`, data: `maturity_scan.gate.diff`): levels before
and after, what was lost with the evidence it had, what was gained, and the gate's verdict."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from maturity_scan.report import for_display, map_strings, visible
from maturity_scan.reporters import markdown
from maturity_scan.reporters.text import Page, where

# words of the verdict, styled wherever they stand in a line
STYLES = {"REGRESSED": "bold red", "FAILED": "bold red", "improved": "green", "passed": "green"}


def _text(diff: dict[str, Any], failures: Sequence[str], width: int | None = None) -> str:
    diff = for_display(diff)  # a repository's paths and names cannot drive the terminal
    failures = map_strings(list(failures), visible)
    out = [f"{diff['pack_title']}: {(diff['base'].get('revision') or '')[:12]} -> "
           f"{(diff['head'].get('revision') or 'working tree')[:12]}"]
    for d in diff["dimensions"]:
        arrow = {"down": "  REGRESSED", "up": "  improved", "same": ""}[d["change"]]
        before, after = (format(v, "g") if v is not None else "n/a"  # not applicable
                         for v in (d["before"], d["after"]))
        out.append(f"  {d['title']:<32} {before:>3} -> {after:<3}{arrow}")
        for r in d["requirements_lost"]:
            was = ", ".join(where(e, detail=False) for e in r["evidence"][:3])
            out.append(f"      lost: {r['title']} [{r['requirement']}]" +
                       (f" (was {was})" if was else ""))
        for r in d["requirements_gained"]:
            out.append(f"      gained: {r['title']} [{r['requirement']}]")
    for c in diff.get("components", []):  # diff --components
        for d in c["dimensions"]:
            if d["change"] == "same":
                continue
            arrow = {"down": "  REGRESSED", "up": "  improved"}[d["change"]]
            out.append(f"  component {visible(c['name'])} ({visible(c['path'])}) {d['id']}: "
                       f"{d['before']:g} -> {d['after']:g}{arrow}")
            for r in d["requirements_lost"]:
                out.append(f"      lost: {r['title']} [{r['requirement']}]")
    for key, what in (("components_added", "added"), ("components_removed", "removed")):
        for c in diff.get(key, []):
            out.append(f"  component {what}: {visible(c['name'])} ({visible(c['path'])})")
    for s in diff["signals_lost"]:
        paths = list(dict.fromkeys(e["path"] for e in s["evidence"]))
        out.append(f"  evidence removed: {s['kind']} ({', '.join(paths[:3])})")
    for s in diff["signals_gained"]:
        out.append(f"  evidence added: {s['kind']}")
    out.append("gate: " + ("FAILED\n  " + "\n  ".join(failures) if failures else "passed"))
    page = Page()
    page.styled("\n".join(out), STYLES)
    return page.render(width)


def render(diff: dict[str, Any], *, failures: Sequence[str] = (), fmt: str = "text",
           width: int | None = None) -> str:
    """`fmt`: text, json (the comparison with the gate's verdict) or markdown; `width`: the
    terminal's columns to fit text to."""
    if fmt == "json":
        return json.dumps({**diff, "gate": {"passed": not failures, "failures": list(failures)}},
                          indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return markdown.render_diff(diff, list(failures))
    return _text(diff, failures, width)
