"""A contribution guide at the root, in .github/ or in docs/."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

NAMES = "{CONTRIBUTING,Contributing,contributing}{,.md,.rst,.txt,.adoc}"


class ContributingDetector:
    id = "contributing"
    description = "CONTRIBUTING guide at the root, .github/ or docs/"
    kinds = {"contributing": kind("How to contribute is written down")}
    patterns = (f"/{NAMES}", f".github/{NAMES}", f"docs/{NAMES}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.text.strip():
            yield signal("contributing", doc.path, 1, "contribution guide")


DETECTOR = ContributingDetector()
