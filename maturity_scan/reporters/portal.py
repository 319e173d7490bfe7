"""Cortex custom data and OpsLevel custom properties (`--format portal`): for each entity (a
component of the report, else the repository) one small JSON value, the same for both portals,
under one key per pack (`maturity_scan_<pack>`), already wrapped in the request bodies their APIs
take:

- `entities[].cortex.body`: `POST /api/v1/catalog/{tag}/custom-data` (`{key, value, description}`);
  `cortex_bulk`: `PUT /api/v1/catalog/custom-data` (`{values: {tag: [{key, value}]}}`), all at once;
- `entities[].opslevel.body`: a GraphQL request (`propertyAssign`, the value JSON-encoded as a
  string) for `POST https://api.opslevel.com/graphql`.

Nothing is sent: the document is written, the user's pipeline posts it (docs/portals.md). The
value's JSON Schema (`maturity_scan/schema/portal-value.schema.json`) is also what an OpsLevel
property definition takes."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from maturity_scan.reporters.backstage import (Entity, dumps, entities, met_ids,
                                             timestamp)

EXPORT_VERSION = 1
OPSLEVEL_MUTATION = ("mutation PropertyAssign($input: PropertyInput!) { propertyAssign(input: "
                     "$input) { property { value validationErrors { message path } } "
                     "errors { message path } } }")


def key(pack: str) -> str:
    """The Cortex custom-data key and the OpsLevel property definition alias of a pack."""
    return "maturity_scan_" + "".join(c if c.isalnum() else "_" for c in pack.lower())


def value(report: dict[str, Any], entity: Entity) -> dict[str, Any]:
    """What a portal stores for one entity: levels, maxima and met requirement ids per
    dimension (a level is null where the dimension does not apply), when and what was scanned."""
    out: dict[str, Any] = {
        "pack": report["pack"], "scanned_at": timestamp(report), "path": entity.path,
        "levels": {d["id"]: d.get("level") for d in entity.dimensions},
        "max_levels": {d["id"]: d.get("max_level") for d in entity.dimensions},
        "met": {d["id"]: met_ids(d) for d in entity.dimensions},
        "tool_version": report.get("tool", {}).get("version", ""),
    }
    commit = report.get("target", {}).get("commit") or report.get("target", {}).get("revision")
    if commit:
        out["commit"] = commit
    return out


def _document(reports: Iterable[dict[str, Any]], pack: str) -> dict[str, Any] | None:
    """The export of `reports` in `pack` (others left out), entity names unique across them;
    None when there is none."""
    k = key(pack)
    description = f"maturity-scan levels ({pack} pack)"
    items = []
    bulk: dict[str, list[dict[str, Any]]] = {}
    taken: dict[tuple[str, str], str] = {}
    stamps: list[str] = []
    version = ""
    for report in reports:
        if report.get("pack") != pack:
            continue
        version = version or report.get("tool", {}).get("version", "")
        stamps.append(timestamp(report))
        for e in entities(report, taken):
            v = value(report, e)
            items.append({
                "name": e.name, "path": e.path, "owner": e.owner,
                "cortex": {"tag": e.name,
                           "body": {"key": k, "value": v, "description": description}},
                "opslevel": {"alias": e.name, "body": {
                    "query": OPSLEVEL_MUTATION,
                    "variables": {"input": {"owner": {"alias": e.name},
                                            "definition": {"alias": k},
                                            "value": json.dumps(v, sort_keys=True)}}}},
            })
            bulk.setdefault(e.name, []).append({"key": k, "value": v})
    if not stamps:
        return None
    return {"schema_version": EXPORT_VERSION,
            "generator": {"name": "maturity-scan", "version": version},
            "pack": pack, "scanned_at": max(stamps), "key": k,
            "entities": items, "cortex_bulk": {"values": bulk}}


def export(report: dict[str, Any]) -> dict[str, Any]:
    doc = _document([report], report["pack"])
    assert doc is not None
    return doc


def export_org(reports: Iterable[dict[str, Any]], pack: str) -> dict[str, Any] | None:
    """One export of an org run's reports in `pack` (read one at a time)."""
    return _document(reports, pack)


def render(report: dict[str, Any]) -> str:
    return dumps(export(report))


def render_many(reports: Sequence[dict[str, Any]]) -> str:
    """`--pack all`: one export per pack (each pack is its own key)."""
    return dumps({"schema_version": EXPORT_VERSION, "exports": [export(r) for r in reports]})


def render_org(reports: Iterable[dict[str, Any]], pack: str, org: str) -> str:
    """`org --export portal`: every repository's (and component's) value; "" when none."""
    doc = export_org(reports, pack)
    return dumps(doc) if doc is not None else ""
