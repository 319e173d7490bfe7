"""The default report for a person at a terminal: a table of dimensions and levels, then per
dimension the evidence behind its level and the next steps.

Laid out by rich (`Page`): the table, lines wrapped to the terminal's columns by display cells
with a hanging indent, styles. rich is imported when a text is rendered, not when the CLI
starts. The result carries ANSI styles; click drops them where colour is not wanted (output
that is not a terminal, `--no-color`, `NO_COLOR`, `TERM=dumb`) and a file never gets them
(`cli.options.emit`). Every string from the report is shown as text: rich reads no markup,
emoji codes or highlighting in it, and controls are escaped before (`report.for_display`)."""
from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from maturity_scan.report import for_display
from maturity_scan.reporters import components

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

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
ASIDE = {"test": "test data", "vendored": "vendored copies",
         "disabled": "chart templates off by default"}


# A piece of a line: text, or (text, rich style) such as ("✓", "green"), or a rich Text.
Part = Union[str, tuple[str, str], "Text"]
HANG = 4  # a wrapped line's continuation is indented this much more than its start
WIDE = 1 << 15  # columns when the output is not a terminal: lines stay as they are
# a line's trailing blanks (a table pads its cells), amid style codes: one reset is kept
_TRAILING = re.compile(r"(?:[ ]|\x1b\[[0-9;]*m)+$", re.MULTILINE)


@dataclass
class _Line:
    parts: tuple[Part, ...]
    indent: int


class Page:
    """A text being built: lines of styled parts, blank lines and rich tables, laid out by rich
    in `render(width)`. Used by every text reporter (report, explain, diff, history)."""

    def __init__(self) -> None:
        self.items: list[_Line | RenderableType | tuple[RenderableType]] = []

    def line(self, *parts: Part, indent: int = 0) -> None:
        self.items.append(_Line(parts, indent))

    def blank(self) -> None:
        self.items.append(_Line((), 0))

    def add(self, renderable: RenderableType, *, fit: bool = True) -> None:
        """A rich renderable (a table); `fit=False`: never narrowed to the width (a table of
        figures is read whole: its lines stay as long as they are)."""
        self.items.append(renderable if fit else (renderable,))

    def styled(self, text: str, words: Mapping[str, str] | None = None) -> None:
        """Lines already carrying ANSI styles (or none), re-laid like ours; each of `words`
        gets its style where it stands."""
        from rich.text import Text
        for raw in text.rstrip("\n").split("\n"):
            lead = len(raw) - len(raw.lstrip(" "))
            line = Text.from_ansi(raw[lead:])
            for word, style in (words or {}).items():
                line.highlight_words([word], style)
            self.line(line, indent=lead)

    def more(self, total: int, shown: int, indent: int) -> None:
        """The line saying what a cut list left out ("+N more"), when it left something out."""
        if total > shown:
            self.line((f"… +{total - shown} more (--format json lists all)", "dim"),
                      indent=indent)

    def render(self, width: int | None = None) -> str:
        """`width`: the columns to fit (a terminal's); None: no wrapping (piped output)."""
        from rich.text import Text
        con = console(width)
        lines: list[Text] = []  # laid out here, printed in one call (a call per line is slow)

        def flush() -> None:
            if lines:
                con.print(Text("\n").join(lines), soft_wrap=True)
                lines.clear()

        for item in self.items:
            if not isinstance(item, _Line):
                flush()
                if isinstance(item, tuple):  # as wide as it is
                    console(None, con.file).print(item[0])
                else:
                    con.print(item)
                continue
            text = Text.assemble(*item.parts, overflow="fold")
            room = (width or WIDE) - item.indent
            pieces = text.wrap(con, max(room - HANG, 10)) if width and text.cell_len > room \
                else [text]
            for n, piece in enumerate(pieces):
                lines.append(Text(" " * (item.indent + (HANG if n else 0))) + piece)
        flush()
        return _TRAILING.sub(lambda m: "\x1b[0m" if "\x1b" in m.group() else "",
                             con.file.getvalue())


def console(width: int | None, file: io.StringIO | None = None) -> Any:
    """A rich console writing ANSI styles to a string, `width` columns wide (None: wide
    enough for any line). It reads no markup, emoji codes or highlighting in what it prints,
    and never the environment: whether colour is shown is decided where the text is written."""
    from rich.console import Console
    return Console(file=file or io.StringIO(), width=width or WIDE, force_terminal=True,
                   color_system="standard", no_color=False, markup=False, emoji=False,
                   highlight=False, legacy_windows=False, force_jupyter=False,
                   force_interactive=False, tab_size=4)


def table(*columns: str, no_wrap: tuple[int, ...] = (), right: tuple[int, ...] = ()) -> Any:
    """A borderless rich table, two spaces between columns, a bold header; the columns
    numbered in `no_wrap` are never wrapped, those in `right` are right-aligned."""
    from rich.table import Table
    t = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, header_style="bold",
              expand=False)
    for n, name in enumerate(columns):
        t.add_column(name, overflow="fold", no_wrap=n in no_wrap,
                     justify="right" if n in right else "left")
    return t


def render(report: dict[str, Any], *, evidence_per_requirement: int = 3,
           width: int | None = None) -> str:
    """`width`: the terminal's columns (COLUMNS), to wrap long lines to; None: no wrapping."""
    page = _render(report, evidence_per_requirement)
    if "components" in report:  # scan --components
        page.blank()
        page.styled(components.render(report))
    return page.render(width)


def _render(report: dict[str, Any], evidence_per_requirement: int) -> Page:
    from rich.text import Text
    report = for_display(report)  # a repository's names cannot drive the terminal
    out = Page()
    t = report["target"]
    commit = t.get("revision") or t.get("commit")  # the revision scanned, else HEAD
    target = t["path"] + (f" @ {commit[:12]}" if commit else "") + \
        (f"  {report['scanned_at'].replace('+00:00', 'Z')}" if report.get("scanned_at") else "")
    out.line((f"{report.get('pack_title', report['pack'])} ({report['pack']})", "bold"),
             f"  {target}")
    if report.get("note"):
        out.line((report["note"], "dim"))
    out.blank()
    levels = table("DIMENSION", "LEVEL", "", no_wrap=(1,))
    for d in report["dimensions"]:
        label = Text(f"{d['title']} ({d['id']})")
        if d["level"] is None:
            levels.add_row(label, f"{'n/a':>3} / {d['max_level']:g}",
                           Text("not applicable", "dim"))
            continue
        name = f"  {d['level_name']}" if d.get("level_name") else ""
        levels.add_row(label, f"{d['level']:>3g} / {d['max_level']:g}",
                       Text.assemble((_bar(d["level"], d["max_level"]), "green"), name))
    out.add(levels)
    for d in report["dimensions"]:
        out.blank()
        if d["level"] is None:
            out.line((f"{d['title']} ({d['id']}): n/a", "bold"))
            out.line((f"not applicable: {d.get('reason', '')}", "dim"), indent=2)
            continue
        out.line((f"{d['title']} ({d['id']}): level {d['level']:g} of {d['max_level']:g}",
                  "bold"))
        if d.get("note"):
            out.line((d["note"], "dim"), indent=2)
        for m in d["met"]:
            mark = ("waived", "yellow") if m.get("waived") else ("✓", "green")
            out.line(mark, f" L{m['level']:g} {m['title']}  ", (f"[{m['requirement']}]", "dim"),
                     indent=2)
            if m.get("waived"):
                out.line(f"waived: {m['waived']}", indent=6)
            for e in m["evidence"][:evidence_per_requirement]:
                out.line(where(e), indent=6)
            out.more(len(m["evidence"]), evidence_per_requirement, 6)
        rungs = d.get("requirements") or []
        excused = [r for r in rungs if r["status"] == "not_applicable"]
        if excused:
            why = excused[0].get("reason", "").split("; ", 1)[-1]
            out.line(("n/a: " + ", ".join(r["id"] for r in excused) + f" ({why})", "dim"),
                     indent=2)
        above = [r for r in rungs if r["status"] == "met" and r["level"] > d["level"]]
        if above:
            out.line(("also met above: ", "green"),
                     ", ".join(f"L{r['level']:g} {r['id']}" for r in above), indent=2)
        for r in pending_waivers(d):
            out.line(("waived, not counted:", "yellow"), f" L{r['level']:g} {r['title']}  ",
                     (f"[{r['id']}]", "dim"), indent=2)
            out.line(r["reason"], indent=6)
        nxt = d.get("next")
        if nxt:
            name = f" ({nxt['name']})" if nxt.get("name") else ""
            out.line(f"next: level {nxt['level']:g}{name}", indent=2)
            for miss in nxt["missing"]:
                out.line(("✗", "red"), f" {miss['title']}  ", (f"[{miss['requirement']}]", "dim"),
                         indent=2)
                if miss.get("reason"):  # what a set fact names (the services lacking it)
                    out.line(miss["reason"], indent=6)
                out.line(f"→ {miss['hint']}", indent=6)
                for e in miss.get("have", [])[:1]:
                    out.line((f"build on: {where(e)}", "dim"), indent=8)
        elif d["level"] < d["max_level"]:  # the levels above hold nothing that applies here
            out.line((f"nothing above level {d['level']:g} applies to this repository", "green"),
                     indent=2)
        else:
            out.line(("top level reached", "green"), indent=2)
    if report["errors"]:
        out.blank()
        out.line((f"Files that could not be analysed ({len(report['errors'])}):", "bold yellow"))
        for e in report["errors"][:ERRORS_SHOWN]:
            out.line(f"{e['path']}: {e['message']}  ", (f"({e['detector']})", "dim"), indent=2)
        out.more(len(report["errors"]), ERRORS_SHOWN, 2)
    if report.get("unsupported"):  # CI configurations noted but not read
        out.blank()
        out.line(("Not read (unsupported CI systems: their jobs count for nothing):",
                  "bold yellow"))
        for u in report["unsupported"]:
            out.line(f"{u['path']}  {u['system']}", indent=2)
    cut = sorted({g["kind"] for g in report["signals"]
                  if (g.get("facts") or {}).get("history_truncated")})
    if cut:  # an org scan with a history bound (org --history-days / --history-commits)
        out.blank()
        out.line((f"History bounded: {', '.join(cut)} read only the fetched history "
                  "(history_truncated; see each signal's evidence)", "yellow"))
    s = report["stats"]
    timing = f" in {s['seconds']:.2f}s" if "seconds" in s else ""
    skipped = (f", {s['files_skipped_oversize']} skipped as oversized"
               if s.get("files_skipped_oversize") else "")
    aside = s.get("files_set_aside") or {}
    skipped += "".join(f", {n} set aside as {ASIDE.get(k, k)}" for k, n in sorted(aside.items()))
    out.blank()
    out.line((f"{len(report['signals'])} signal kinds from {s['files_read']} files "
              f"read of {s['files_indexed']} indexed{skipped}{timing}", "dim"))
    return out
