"""The report: a scan and an assessment together, as the JSON document of DESIGN.md
(schema_version 1). Every reporter renders from this one dict, so formats never disagree."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

from maturity_scan import __version__
from maturity_scan.assessment import Assessment, RequirementResult, level_json
from maturity_scan.scan import ScanResult

SCHEMA_VERSION = 1
MAX_SIGNAL_EVIDENCE = 25


def _requirement(r: RequirementResult, with_evidence: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"requirement": r.id, "title": r.title}
    if with_evidence:
        out["evidence"] = [e.to_json() for e in r.evidence]
    else:
        out["hint"] = r.hint
    if r.ref:
        out["ref"] = r.ref
    if r.waived:
        out["waived"] = r.waived
    if r.related and not with_evidence:
        out["have"] = [e.to_json() for e in r.related]
    return out


def build(scan: ScanResult, assessment: Assessment, *, timings: bool = True) -> dict[str, Any]:
    dims = []
    for d in assessment.dimensions:
        met = [{"level": level_json(lv.level), **_requirement(r, True)}
               for lv in d.met for r in lv.requirements]
        road = [{"level": level_json(lv.level), "name": lv.name,
                 "missing": [_requirement(r, False) for r in lv.missing]} for lv in d.road]
        dim: dict[str, Any] = {
            "id": d.id, "title": d.title, "level": level_json(d.level),
            "level_name": d.level_name, "max_level": level_json(d.max_level),
            "met": met, "next": road[0] if road else None, "road": road,
            "next_steps": [{"unlocks": level_json(st.unlocks), **_requirement(st.requirement, False)}
                           for st in d.next_steps()],
        }
        if d.note:
            dim["note"] = d.note
        dims.append(dim)
    signals = []
    for s in scan.signals:
        entry: dict[str, Any] = {"kind": s.kind,
                                 "evidence": [e.to_json() for e in s.evidence[:MAX_SIGNAL_EVIDENCE]],
                                 "facts": dict(s.facts)}
        if len(s.evidence) > MAX_SIGNAL_EVIDENCE:
            entry["evidence_total"] = len(s.evidence)
        signals.append(entry)
    stats = scan.stats.to_json()
    if not timings:
        stats.pop("seconds")
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "maturity-scan", "version": __version__},
        "target": {"path": scan.target, "revision": scan.revision},
        "pack": assessment.pack,
        "pack_title": assessment.title,
        "signals": signals,
        "dimensions": dims,
        "errors": [e.to_json() for e in scan.errors],
        "stats": stats,
    }
    if assessment.note:
        report["note"] = assessment.note
    return report


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("maturity_scan.schema").joinpath("report.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def validate(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when a report breaks the published schema."""
    jsonschema.Draft202012Validator(schema()).validate(report)


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
