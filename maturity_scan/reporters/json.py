"""The report as JSON (schema_version 1, `maturity_scan/schema/report.schema.json`)."""
from __future__ import annotations

from typing import Any

from maturity_scan import report as report_v1


def render(report: dict[str, Any]) -> str:
    return report_v1.dumps(report)
