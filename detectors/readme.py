"""The repository's README at the root, and whether it says how to get started."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.detectors._headings import headings
from maturity_scan.sdk import Document, Signal, kind, signal

NAMES = "[Rr][Ee][Aa][Dd][Mm][Ee]{,.md,.markdown,.rst,.txt,.adoc,.asciidoc,.org}"
SETUP = re.compile(r"\b(getting[ -]started|get started|quick ?start|installation|installing|"
                   r"install|set ?up|setup|usage|development|developing|local development|"
                   r"build(ing)?|how to (run|use|build)|running( locally)?|prerequisites)\b", re.I)


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
