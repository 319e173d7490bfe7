"""SARIF 2.1.0 for code scanning: one rule per requirement of the pack; a result per missing
requirement of each dimension's next level (a note) and per regression (an error), located at
the evidence file where there is one."""
from __future__ import annotations

import json
from typing import Any

from maturity_scan import __version__
from maturity_scan.assess.packs import Pack
from maturity_scan.report import map_strings, valid_unicode
from maturity_scan.reporters.text import pending_waivers

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO = "https://github.com/maturity-scan/maturity-scan"


# A result about the repository as a whole (no evidence to point at): its root, no region.
REPOSITORY = "."


def _location(evidence: list[dict[str, Any]], fallback: str = REPOSITORY) -> list[dict[str, Any]]:
    e = evidence[0] if evidence else {"path": fallback}
    physical: dict[str, Any] = {"artifactLocation": {"uri": e["path"], "uriBaseId": "%SRCROOT%"}}
    if e.get("line"):
        physical["region"] = {"startLine": e["line"]}
    return [{"physicalLocation": physical}]


def _lost_location(evidence: list[dict[str, Any]], workflow: str | None) -> list[dict[str, Any]]:
    """A lost requirement where it was lost in the head: the line its evidence was removed at
    (`gate.diff.locate_lost`), else the workflow file (the evidence's file is gone), else the
    repository. Base line numbers never point into head files."""
    placed = sorted((e["head"] for e in evidence if e.get("head")),
                    key=lambda h: "line" not in h)  # a line where there is one
    if placed:
        return _location(placed[:1])
    if any("head" in e for e in evidence) and workflow:
        return _location([{"path": workflow}])
    return _location([])


def render(report: dict[str, Any], *, pack: Pack, diff: dict[str, Any] | None = None,
           workflow: str | None = None) -> str:
    """`workflow`: the path of the CI workflow running the gate, where a requirement lost with
    its file is reported."""
    rules = [{"id": r.id, "name": r.id.replace(".", "_"), "shortDescription": {"text": r.title},
              "help": {"text": r.hint}, "properties": {"pack": pack.id}}
             for r in sorted(pack.requirements.values(), key=lambda r: r.id)]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in report["dimensions"]:
        nxt = d.get("next")
        for miss in (nxt or {}).get("missing", []):
            results.append({
                "ruleId": miss["requirement"], "ruleIndex": index[miss["requirement"]],
                "level": "note",
                "message": {"text": f"{d['title']}: level {nxt['level']:g} needs "
                                    f"\"{miss['title']}\". {miss['hint']}"},
                "locations": _location(miss.get("have", [])),
            })
        for r in pending_waivers(d):  # waived, but its level is not reached: a suppressed note
            if nxt and r["level"] == nxt["level"]:
                results.append({
                    "ruleId": r["id"], "ruleIndex": index[r["id"]], "level": "note",
                    "message": {"text": f"{d['title']}: level {nxt['level']:g} needs "
                                        f"\"{r['title']}\": {r['reason']}"},
                    "locations": _location([]),
                    "suppressions": [{"kind": "external", "justification": r["waived"]}],
                })
    for d in (diff or {}).get("dimensions", []):
        if d["change"] != "down":
            continue
        for lost in d["requirements_lost"] or [{"requirement": None, "title": "", "evidence": []}]:
            rid = lost["requirement"]
            result = {"level": "error",
                      "message": {"text": f"{d['title']} regressed from level {d['before']:g} to "
                                          f"{d['after']:g}" + (f": lost \"{lost['title']}\"" if rid else "")},
                      "locations": _lost_location(lost["evidence"], workflow)}
            if rid in index:
                result.update(ruleId=rid, ruleIndex=index[rid])
            else:
                result["ruleId"] = f"{d['id']}.regression"
            results.append(result)
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "maturity-scan", "version": __version__,
                            "informationUri": INFO, "rules": rules}},
        "results": results,
        "properties": {"pack": report["pack"],
                       "levels": {d["id"]: d["level"] for d in report["dimensions"]}},
    }]}
    # The pack's own texts may come from the repository too: no lone surrogate reaches the log.
    return json.dumps(map_strings(log, valid_unicode), indent=2) + "\n"
