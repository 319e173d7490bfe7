"""The repository's README at the root, and whether it says how to get started."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

NAMES = "[Rr][Ee][Aa][Dd][Mm][Ee]{,.md,.markdown,.rst,.txt,.adoc,.asciidoc,.org}"
SETUP = re.compile(r"\b(getting[ -]started|get started|quick ?start|installation|installing|"
                   r"install|set ?up|setup|usage|development|developing|local development|"
                   r"build(ing)?|how to (run|use|build)|running( locally)?|prerequisites)\b", re.I)
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


class ReadmeDetector:
    id = "readme"
    description = "README at the root, with a setup / getting-started section or not"
    kinds = {"readme": kind("A README at the repository root", has_setup_section="flag",
                            sections="count")}
    patterns = (f"/{NAMES}",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if not doc.text.strip():
            return
        found = list(headings(doc.lines))
        setup = next(((line, title) for line, title in found if SETUP.search(title)), None)
        yield signal("readme", doc.path, 1, "README", sections=len(found),
                     has_setup_section=False)
        if setup:
            yield signal("readme", doc.path, setup[0], f"section {setup[1][:60]}",
                         has_setup_section=True)


DETECTOR = ReadmeDetector()
