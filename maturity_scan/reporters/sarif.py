"""SARIF 2.1.0 for code scanning: one rule per requirement of the pack; a result per missing
requirement of each dimension's next level (a note) and per regression (an error), located at
the evidence file where there is one."""
from __future__ import annotations

import json
from typing import Any

from maturity_scan import __version__
from maturity_scan.assess.packs import Pack
from maturity_scan.report import map_strings, valid_unicode

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO = "https://github.com/maturity-scan/maturity-scan"


def _location(evidence: list[dict[str, Any]], fallback: str = "") -> list[dict[str, Any]]:
    e = evidence[0] if evidence else ({"path": fallback} if fallback else None)
    if e is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": e["path"], "uriBaseId": "%SRCROOT%"}}
    if e.get("line"):
        physical["region"] = {"startLine": e["line"]}
    return [{"physicalLocation": physical}]


def render(report: dict[str, Any], *, pack: Pack, diff: dict[str, Any] | None = None) -> str:
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
                "locations": _location(miss.get("have", []), "README.md" if not miss.get("have")
                                       else ""),
            })
    for d in (diff or {}).get("dimensions", []):
        if d["change"] != "down":
            continue
        for lost in d["requirements_lost"] or [{"requirement": None, "title": "", "evidence": []}]:
            rid = lost["requirement"]
            result = {"level": "error",
                      "message": {"text": f"{d['title']} regressed from level {d['before']:g} to "
                                          f"{d['after']:g}" + (f": lost \"{lost['title']}\"" if rid else "")},
                      "locations": _location(lost["evidence"])}
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
