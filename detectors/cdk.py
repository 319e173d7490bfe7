"""AWS CDK apps: `cdk.json` with an `app` command (its language read from the command)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

LANGUAGES = ((r"\bpython3?\b|\.py\b", "python"), (r"\bts-node\b|\.ts\b|tsx\b", "typescript"),
             (r"\bnode\b|\.js\b", "javascript"), (r"\bmvn\b|\bjava\b|gradle", "java"),
             (r"\bdotnet\b", "csharp"), (r"\bgo\b", "go"))


class CdkDetector:
    id = "cdk"
    description = "AWS CDK apps (cdk.json with an app command)"
    kinds = {"cdk": kind("Infrastructure as code with the AWS CDK", apps="count", languages="set")}
    patterns = ("cdk.json",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        data = doc.json
        app = data.get("app") if isinstance(data, dict) else None
        if not isinstance(app, str) or not app.strip():
            return
        language = next((lang for rx, lang in LANGUAGES if re.search(rx, app)), "unknown")
        yield signal("cdk", doc.path, doc.line_of('"app"') or 1, f"CDK app ({language})", apps=1,
                     languages=[language])


DETECTOR = CdkDetector()
