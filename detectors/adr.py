"""Architecture decision records: numbered documents in an ADR folder (adr/, decisions/)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

NUMBERED = re.compile(r"^(adr[-_]?)?\d{1,4}[-_.]", re.I)


class AdrDetector:
    id = "adr"
    description = "Architecture decision records (docs/adr/0001-*.md and the like)"
    kinds = {"adr": kind("Architecture decisions are recorded", records="count")}
    patterns = ("**/{adr,adrs,ADR,decisions,decision-records}/*.{md,rst,adoc}",
                "**/{adr,adrs,decisions}/**/*.{md,rst,adoc}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if NUMBERED.match(doc.name) and doc.text.strip():
            yield signal("adr", doc.path, 1, f"decision {doc.name}", records=1)


DETECTOR = AdrDetector()
