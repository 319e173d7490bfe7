"""Shared by readme and changelog: the headings of a Markdown, AsciiDoc or reStructuredText
document."""
from __future__ import annotations

import re
from collections.abc import Iterable

_MD = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_ADOC = re.compile(r"^={1,6}\s+(.+)$")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")


def headings(lines: list[str]) -> Iterable[tuple[int, str]]:
    """(line, title) of Markdown, AsciiDoc, setext and reStructuredText headings."""
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = _MD.match(line) or _ADOC.match(line)
        if m:
            yield i + 1, m.group(1)
        elif _UNDERLINE.match(line) and i > 0 and lines[i - 1].strip() and \
                not _UNDERLINE.match(lines[i - 1]):
            yield i, lines[i - 1].strip()
