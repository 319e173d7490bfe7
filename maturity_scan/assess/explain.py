"""`maturity-scan explain`, the data half: why a dimension sits at its level (evidence ->
requirement -> level) and the road ahead (each missing requirement, in the order that unlocks
levels soonest, with the action to take and what the repository already has to build on). Read
from the report, so explain, the text report and the JSON report never disagree; the reporter
`maturity_scan.reporters.explain` renders it."""
from __future__ import annotations

from typing import Any

from maturity_scan.errors import UsageError


def dimension(report: dict[str, Any], dim_id: str) -> dict[str, Any]:
    for d in report["dimensions"]:
        if d["id"] == dim_id:
            return d
    known = ", ".join(d["id"] for d in report["dimensions"])
    raise UsageError(f"{dim_id}: no such dimension in pack {report['pack']} (dimensions: {known})")


def as_json(report: dict[str, Any], dim_id: str) -> dict[str, Any]:
    d = dimension(report, dim_id)
    return {"pack": report["pack"], "target": report["target"], **d}
