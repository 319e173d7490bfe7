"""Azure IaC: Bicep files and ARM deployment templates (JSON whose `$schema` is a
deploymentTemplate schema)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, ParseError, Signal, kind, signal

BICEP = re.compile(r"^\s*(resource|module|param|targetScope|var|output)\s", re.M)


class ArmBicepDetector:
    id = "arm_bicep"
    description = "Azure Bicep files and ARM deployment templates"
    kinds = {"arm_bicep": kind("Infrastructure as code for Azure (Bicep / ARM)",
                               bicep_files="count", arm_templates="count")}
    patterns = ("*.bicep", "*.json")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name.endswith(".bicep"):
            m = BICEP.search(doc.text)
            if m:
                line = doc.text.count("\n", 0, m.start()) + 1
                yield signal("arm_bicep", doc.path, line, "Bicep file", bicep_files=1)
            return
        if "deploymentTemplate.json" not in doc.text[:2000]:
            return  # most JSON is not ours: do not parse it
        try:
            data = doc.json
        except ParseError:
            return
        schema = data.get("$schema") if isinstance(data, dict) else None
        if isinstance(schema, str) and "deploymentTemplate" in schema and "resources" in data:
            yield signal("arm_bicep", doc.path, 1, "ARM deployment template", arm_templates=1)


DETECTOR = ArmBicepDetector()
