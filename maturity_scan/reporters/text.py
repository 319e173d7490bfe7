"""The default report for a person at a terminal: a table of dimensions and levels, then per
dimension the evidence behind its level and the next steps. Styles are dropped by click when
the output is not a terminal."""
from __future__ import annotations

import textwrap
from typing import Any

import click

from maturity_scan.report import for_display
from maturity_scan.reporters import components

BAR_WIDTH = 10


def _bar(level: float, top: float) -> str:
    filled = round(BAR_WIDTH * level / top) if top else 0
    return "█" * filled + "·" * (BAR_WIDTH - filled)


def where(e: dict[str, Any], *, detail: bool = True) -> str:
    """A piece of evidence as `path:line  detail` (every reporter's location, in its own dress)."""
    loc = f"{e['path']}:{e['line']}" if e.get("line") else e["path"]
    return f"{loc}  {e['detail']}" if detail and e.get("detail") else loc


def pending_waivers(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The dimension's waivers that count nothing yet (their level is not reached), as rungs
    whose `reason` says what that level still needs."""
    return [r for r in d.get("requirements") or [] if r.get("waived") and r["status"] == "missing"]


ERRORS_SHOWN = 20
# why files were set aside (report stats.files_set_aside; README, "What counts as evidence")
ASIDE = {"test": "test data", "vendored": "vendored copies"}


def _more(total: int, shown: int, indent: str) -> list[str]:
    """The line saying what a cut list left out ("+N more"), or nothing."""
    return [click.style(f"{indent}… +{total - shown} more (--format json lists all)", dim=True)] \
        if total > shown else []


def fit(text: str, width: int | None) -> str:
    """Lines longer than `width` columns wrapped, continuation lines indented under their
    start (+4); None: as they are."""
    if not width:
        return text
    out = []
    for line in text.split("\n"):
        if len(click.unstyle(line)) <= width:
            out.append(line)
            continue
        lead = len(line) - len(line.lstrip(" "))
        out.extend(textwrap.wrap(line, width=max(width, 20), subsequent_indent=" " * (lead + 4),
                                 break_long_words=True, break_on_hyphens=False,
                                 drop_whitespace=True) or [line])
    return "\n".join(out)


def render(report: dict[str, Any], *, evidence_per_requirement: int = 3,
           width: int | None = None) -> str:
    """`width`: the terminal's columns (COLUMNS), to wrap long lines to; None: no wrapping."""
    text = _render(report, evidence_per_requirement)
    if "components" in report:  # scan --components
        text += "\n" + components.render(report)
    return fit(text, width)


def _render(report: dict[str, Any], evidence_per_requirement: int) -> str:
    report = for_display(report)  # a repository's names cannot drive the terminal
    out: list[str] = []
    t = report["target"]
    commit = t.get("revision") or t.get("commit")  # the revision scanned, else HEAD
    target = t["path"] + (f" @ {commit[:12]}" if commit else "") + \
        (f"  {report['scanned_at'].replace('+00:00', 'Z')}" if report.get("scanned_at") else "")
    out.append(click.style(f"{report.get('pack_title', report['pack'])} ({report['pack']})",
                           bold=True) + f"  {target}")
    if report.get("note"):
        out.append(click.style(report["note"], dim=True))
    out.append("")
    width = max([len(d["title"]) + len(d["id"]) + 3 for d in report["dimensions"]] + [9])
    out.append(click.style(f"{'DIMENSION':<{width}}  LEVEL", bold=True))
    for d in report["dimensions"]:
        label = f"{d['title']} ({d['id']})"
        if d["level"] is None:
            out.append(f"{label:<{width}}  {'n/a':>3} / {d['max_level']:g}  " +
                       click.style("not applicable", dim=True))
            continue
        name = f"  {d['level_name']}" if d.get("level_name") else ""
        out.append(f"{label:<{width}}  {d['level']:>3g} / {d['max_level']:g}  "
                   + click.style(_bar(d["level"], d["max_level"]), fg="green") + name)
    for d in report["dimensions"]:
        out.append("")
        if d["level"] is None:
            out.append(click.style(f"{d['title']} ({d['id']}): n/a", bold=True))
            out.append("  " + click.style(f"not applicable: {d.get('reason', '')}", dim=True))
            continue
        out.append(click.style(f"{d['title']} ({d['id']}): level {d['level']:g} of "
                               f"{d['max_level']:g}", bold=True))
        if d.get("note"):
            out.append("  " + click.style(d["note"], dim=True))
        for m in d["met"]:
            mark = click.style("waived", fg="yellow") if m.get("waived") else \
                click.style("✓", fg="green")
            out.append(f"  {mark} L{m['level']:g} {m['title']}  " +
                       click.style(f"[{m['requirement']}]", dim=True))
            if m.get("waived"):
                out.append(f"      waived: {m['waived']}")
            for e in m["evidence"][:evidence_per_requirement]:
                out.append(f"      {where(e)}")
            out += _more(len(m["evidence"]), evidence_per_requirement, "      ")
        rungs = d.get("requirements") or []
        excused = [r for r in rungs if r["status"] == "not_applicable"]
        if excused:
            why = excused[0].get("reason", "").split("; ", 1)[-1]
            out.append("  " + click.style("n/a: " + ", ".join(r["id"] for r in excused)
                                          + f" ({why})", dim=True))
        above = [r for r in rungs if r["status"] == "met" and r["level"] > d["level"]]
        if above:
            out.append("  " + click.style("also met above: ", fg="green") +
                       ", ".join(f"L{r['level']:g} {r['id']}" for r in above))
        for r in pending_waivers(d):
            out.append("  " + click.style("waived, not counted:", fg="yellow") +
                       f" L{r['level']:g} {r['title']}  " + click.style(f"[{r['id']}]", dim=True))
            out.append(f"      {r['reason']}")
        nxt = d.get("next")
        if nxt:
            name = f" ({nxt['name']})" if nxt.get("name") else ""
            out.append(f"  next: level {nxt['level']:g}{name}")
            for miss in nxt["missing"]:
                out.append(f"  {click.style('✗', fg='red')} {miss['title']}  " +
                           click.style(f"[{miss['requirement']}]", dim=True))
                if miss.get("reason"):  # what a set fact names (the services lacking it)
                    out.append(f"      {miss['reason']}")
                out.append(f"      → {miss['hint']}")
                for e in miss.get("have", [])[:1]:
                    out.append(click.style(f"        build on: {where(e)}", dim=True))
        else:
            out.append("  " + click.style("top level reached", fg="green"))
    if report["errors"]:
        out.append("")
        out.append(click.style(f"Files that could not be analysed ({len(report['errors'])}):",
                               fg="yellow", bold=True))
        for e in report["errors"][:ERRORS_SHOWN]:
            out.append(f"  {e['path']}: {e['message']}  " +
                       click.style(f"({e['detector']})", dim=True))
        out += _more(len(report["errors"]), ERRORS_SHOWN, "  ")
    if report.get("unsupported"):  # CI configurations noted but not read
        out.append("")
        out.append(click.style("Not read (unsupported CI systems: their jobs count for nothing):",
                               fg="yellow", bold=True))
        out += [f"  {u['path']}  {u['system']}" for u in report["unsupported"]]
    s = report["stats"]
    timing = f" in {s['seconds']:.2f}s" if "seconds" in s else ""
    skipped = (f", {s['files_skipped_oversize']} skipped as oversized"
               if s.get("files_skipped_oversize") else "")
    aside = s.get("files_set_aside") or {}
    skipped += "".join(f", {n} set aside as {ASIDE.get(k, k)}" for k, n in sorted(aside.items()))
    out.append("")
    out.append(click.style(f"{len(report['signals'])} signal kinds from {s['files_read']} files "
                           f"read of {s['files_indexed']} indexed{skipped}{timing}", dim=True))
    return "\n".join(out) + "\n"
