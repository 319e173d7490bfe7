"""The report: a scan and an assessment together, as the JSON document of DESIGN.md
(schema_version 1). Every reporter renders from this one dict, so formats never disagree."""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from maturity_scan import __version__
from maturity_scan.assess.components import Component
from maturity_scan.assess.results import (Assessment, DimensionResult, RequirementResult,
                                          level_json)
from maturity_scan.engine.scan import ScanResult

SCHEMA_VERSION = 1
MAX_SIGNAL_EVIDENCE = 25

# What cannot be shown as it is. (1) Every report is valid Unicode, in every format: a byte of
# a path that is not UTF-8 (git and os.walk hand it over as a lone surrogate, which no UTF-8
# output can hold), or any other lone surrogate (a YAML "\ud800"), becomes U+FFFD, the
# replacement character, as a UTF-8 decoder with errors="replace" shows it. (A backslash
# escape would break the report schema, which keeps `\` out of paths.) (2) Text, Markdown and
# HTML show control characters as `\xNN` / `\uXXXX` (JSON escapes them itself): C0 (tab and
# newline too: a name must not forge a line), DEL, C1 and the Unicode bidi and line-separator
# controls, so a file name cannot drive the terminal (colours, title, cursor) or reorder what
# is shown.
_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                        "\u2066-\u2069]")


def _escape_invisible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# Text from the GitHub API or a git server: controls escaped, for one line of a terminal or
# a report (org scans).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from the API or a server, safe for one line of a terminal or a report."""
    return _CONTROL.sub(_escape_invisible, text)


def valid_unicode(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (see above)."""
    return _SURROGATE.sub("\ufffd", text)


def visible(text: str) -> str:
    """`text` safe to show in a terminal or a document: invisible controls escaped."""
    return _INVISIBLE.sub(_escape_invisible, valid_unicode(text))


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """A copy of a JSON-like value with `fn` applied to every string, keys included."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {map_strings(k, fn): map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [map_strings(v, fn) for v in value]
    return value


def for_display(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every string `visible`: what text, Markdown and HTML render from."""
    return map_strings(report, visible)  # type: ignore[no-any-return]


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
    if r.blocked and not with_evidence:
        out["reason"] = r.blocked
    return out


def _every_rung(d: DimensionResult) -> list[dict[str, Any]]:
    """Every requirement of a dimension once (at the lowest level needing it) with its status,
    those above the level reached too."""
    out = []
    for level, r in d.requirements:
        entry: dict[str, Any] = {"id": r.id, "title": r.title, "level": level_json(level),
                                 "status": "not_applicable" if d.not_applicable else r.status,
                                 "evidence": [e.to_json() for e in r.evidence]}
        reason = d.not_applicable or r.not_applicable or r.waived or r.blocked
        if r.pending and not d.not_applicable:  # waived at a level not reached: counts nothing
            entry["waived"], reason = r.waived, f"waived ({r.waived}), but {r.pending}"
        if reason and entry["status"] != "met":
            entry["reason"] = reason
        out.append(entry)
    return out


def dimensions_json(assessment: Assessment) -> list[dict[str, Any]]:
    """The report's `dimensions` (also each component's, `components[].dimensions`)."""
    dims = []
    for d in assessment.dimensions:
        if d.not_applicable:
            dims.append({"id": d.id, "title": d.title, "level": None, "status": "not_applicable",
                         "reason": d.not_applicable, "max_level": level_json(d.max_level),
                         "met": [], "next": None, "road": [], "next_steps": [],
                         "requirements": _every_rung(d), **({"note": d.note} if d.note else {})})
            continue
        met = [{"level": level_json(lv.level), **_requirement(r, True)}
               for lv in d.met for r in lv.requirements if not r.not_applicable]
        road = [{"level": level_json(lv.level), "name": lv.name,
                 "missing": [_requirement(r, False) for r in lv.missing]} for lv in d.road]
        dim: dict[str, Any] = {
            "id": d.id, "title": d.title, "level": level_json(d.level),
            "level_name": d.level_name, "max_level": level_json(d.max_level),
            "met": met, "next": road[0] if road else None, "road": road,
            "next_steps": [{"unlocks": level_json(st.unlocks), **_requirement(st.requirement, False)}
                           for st in d.next_steps()],
            "status": "assessed", "requirements": _every_rung(d),
        }
        if d.note:
            dim["note"] = d.note
        dims.append(dim)
    return dims


# A kind that notes what was not read (detectors/unsupported_ci.py): its evidence is listed as
# the report's `unsupported` entries, the system's name in the evidence detail.
UNSUPPORTED_KIND = "unsupported_ci"


def unsupported_json(scan: ScanResult) -> list[dict[str, str]]:
    """The report's `unsupported`: CI configurations noted but not read."""
    found = scan.signal(UNSUPPORTED_KIND)
    return [{"path": e.path, "system": e.detail or "unknown CI system",
             "reason": f"{e.detail or 'this CI system'} is not supported: its pipelines are "
                       "not read and count for nothing"}
            for e in (found.evidence if found else ())]


def build(scan: ScanResult, assessment: Assessment, *, timings: bool = True,
          components: Sequence[tuple[Component, Assessment]] | None = None) -> dict[str, Any]:
    """The report; `components` (scan --components): each component's own assessment, listed
    as `components` (absent when not asked for)."""
    dims = dimensions_json(assessment)
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
    unsupported = unsupported_json(scan)
    if unsupported:
        report["unsupported"] = unsupported
    if components is not None:
        report["components"] = [{**c.to_json(), "dimensions": dimensions_json(a)}
                                for c, a in components]
    return map_strings(report, valid_unicode)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("maturity_scan.schema").joinpath("report.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def validate(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when a report breaks the published schema."""
    import jsonschema  # only when asked: no command validates its own report

    jsonschema.Draft202012Validator(schema()).validate(report)


def safe_name(name: str) -> str:
    """A repository's name as a file name (`acme/api` -> `acme_api`): its report is
    `repos/<safe_name>.json` in an org run, and pages link to it by that name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
