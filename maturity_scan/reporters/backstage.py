"""Backstage Tech Insights facts (`--format backstage`): one entity per component of the report
(`scan --components`), else one for the repository, each with its level per dimension and the
requirement ids it meets, stamped with the scan time.

The document holds what a Tech Insights fact retriever needs: `retriever` (its id, version,
entity filter and fact schema, `{factName: {type, description}}`) and `facts` (one
`TechInsightFact` per entity: `{entity: {namespace, kind, name}, timestamp, facts}`). The shape
is `maturity_scan/schema/backstage-export.schema.json`; the fact schema of every built-in pack
is `maturity_scan/schema/backstage-facts.json`; docs/backstage.md shows the retriever."""
from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

EXPORT_VERSION = 1
# The retriever's version: bumped when the facts of a pack change shape (not their values).
FACTS_VERSION = "1.0.0"
KIND = "component"
DEFAULT_NAMESPACE = "default"
_NAME_MAX = 63  # Backstage: metadata.name and namespace, at most 63 characters
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")
_NOT_FACT = re.compile(r"[^a-z0-9_]+")


@dataclass(frozen=True)
class Entity:
    """What a portal scores: a component of the repository, else the repository itself."""

    name: str
    namespace: str
    path: str  # folder relative to the root ("" for the repository)
    owner: str | None
    type: str | None
    dimensions: Sequence[dict[str, Any]]
    component: str | None  # the component's id; None for the repository

    @property
    def ref(self) -> str:
        return f"{KIND}:{self.namespace}/{self.name}"


def entity_name(text: str) -> str:
    """`text` as a Backstage entity name: letters and digits in runs joined by one `-`, at most
    63 characters ("payments api" -> "payments-api"); "unnamed" when nothing is left."""
    name = _NOT_NAME.sub("-", text).strip("-")[:_NAME_MAX].rstrip("-")
    return name or "unnamed"


def _kept_name(text: str) -> str:
    """A name from a catalog file as it is when Backstage would accept it (`a_b.c` stays),
    else made into one."""
    if re.fullmatch(r"[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*", text) and len(text) <= _NAME_MAX:
        return text
    return entity_name(text)


def repository_name(report: dict[str, Any]) -> str:
    """The repository's entity name: the last segment of the scanned path (`acme/api` -> `api`,
    `../svc` -> `svc`), for `.` the folder's own name."""
    path = str(report.get("target", {}).get("path") or ".")
    parts = [p for p in re.split(r"[/\\]", path) if p not in ("", ".", "..")]
    if not parts or path.rstrip("/").endswith(".."):
        parts = [os.path.basename(os.path.abspath(path))]
    return entity_name(parts[-1])


def _namespace(report: dict[str, Any], component: dict[str, Any]) -> str:
    """A catalog component's namespace (its `metadata.namespace`: on the component, else on
    its record in the `component` signal, the one from the same catalog file), else "default"."""
    ns = component.get("namespace")
    if not ns and (component.get("source") or {}).get("kind") == "backstage":
        src = component["source"].get("path")
        for signal in report.get("signals", []):
            if signal.get("kind") != "component":
                continue
            for item in _as_list(signal.get("facts", {}).get("components")):
                if isinstance(item, dict) and item.get("namespace") and \
                        item.get("name") == component.get("name") and \
                        src in (item.get("file"), item.get("path")):
                    ns = item["namespace"]
    return _kept_name(str(ns)) if ns else DEFAULT_NAMESPACE


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def entities(report: dict[str, Any],
             taken: dict[tuple[str, str], str] | None = None) -> list[Entity]:
    """One entity per component of the report, else one for the repository. A name already
    given (`taken`: namespace and name -> the repository that has it; an org export shares it
    across repositories) gets the component's id appended within one repository, the
    repository's name across two."""
    taken = {} if taken is None else taken
    repo = str(report.get("target", {}).get("path") or repository_name(report))
    short = repository_name(report)
    components = [c for c in report.get("components") or [] if isinstance(c, dict)]
    if not components:
        return [Entity(_unique(DEFAULT_NAMESPACE, [short, entity_name(repo)], repo, taken),
                       DEFAULT_NAMESPACE, "", None, None, report["dimensions"], None)]
    out: list[Entity] = []
    for c in components:
        from_catalog = (c.get("source") or {}).get("kind") == "backstage"
        raw = str(c.get("name") or c.get("id") or "unnamed")
        name = _kept_name(raw) if from_catalog else entity_name(raw)
        namespace = _namespace(report, c)
        cid = str(c.get("id") or name)
        other = taken.get((namespace, name.lower()))
        tries = [name, *([f"{name}-{short}"] if other not in (None, repo) else []),
                 f"{name}-{cid}", f"{name}-{short}-{cid}"]
        out.append(Entity(_unique(namespace, [tries[0], *map(entity_name, tries[1:])], repo,
                                  taken),
                          namespace, str(c.get("path") or ""), c.get("owner"), c.get("type"),
                          c.get("dimensions") or [], cid))
    return out


def _unique(namespace: str, tries: Sequence[str], repo: str,
            taken: dict[tuple[str, str], str]) -> str:
    """The first of `tries` not taken yet (else the last with `-2`, `-3`…), now taken."""
    name = next((n for n in tries if (namespace, n.lower()) not in taken), "")
    n = 1
    while not name or (namespace, name.lower()) in taken:
        n += 1
        name = entity_name(f"{tries[-1]}-{n}")
    taken[(namespace, name.lower())] = repo
    return name


def fact_name(dimension: str, what: str) -> str:
    """`devex` + `level` -> `devex_level` (lowercase, `[a-z0-9_]`)."""
    return _NOT_FACT.sub("_", f"{dimension}_{what}".lower())


def met_ids(dimension: dict[str, Any]) -> list[str]:
    """The ids of the requirements a dimension meets (any level, the ones above the level
    reached too), sorted."""
    return sorted({r["id"] for r in dimension.get("requirements") or []
                   if r.get("status") == "met"})


def fact_schema(dimensions: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The Tech Insights fact schema for these (id, title) dimensions."""
    schema: dict[str, dict[str, str]] = {}
    for dim_id, title in dimensions:
        schema[fact_name(dim_id, "level")] = {
            "type": "float",
            "description": f"{title}: level reached (null when the dimension does not apply)"}
        schema[fact_name(dim_id, "met")] = {
            "type": "set", "description": f"{title}: ids of the requirements met"}
    schema["path"] = {"type": "string",
                      "description": "folder of the component in its repository (\"\" for the "
                                     "repository itself)"}
    return schema


def retriever(pack: str, dimensions: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The Tech Insights FactRetriever (without its handler) that serves one pack's facts."""
    return {"id": f"maturity-scan-{pack}", "version": FACTS_VERSION,
            "title": f"maturity-scan ({pack})",
            "description": f"Maturity levels per dimension of the {pack} pack, from "
                           "maturity-scan --format backstage",
            "entityFilter": [{"kind": KIND}], "schema": fact_schema(dimensions)}


def timestamp(report: dict[str, Any]) -> str:
    """The report's scan time (UTC, ISO 8601, `Z`); now for a report that has none."""
    stamp = report.get("scanned_at")
    if not isinstance(stamp, str) or not stamp:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return stamp.replace("+00:00", "Z")


def facts_of(entity: Entity) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for d in entity.dimensions:
        facts[fact_name(d["id"], "level")] = d.get("level")
        facts[fact_name(d["id"], "met")] = met_ids(d)
    facts["path"] = entity.path
    return facts


def _entity_facts(report: dict[str, Any],
                  taken: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    stamp = timestamp(report)
    return [{"entity": {"namespace": e.namespace, "kind": KIND, "name": e.name},
             "timestamp": stamp, "facts": facts_of(e)} for e in entities(report, taken)]


def export(report: dict[str, Any]) -> dict[str, Any]:
    """The export document of one report (one pack)."""
    dims = [(d["id"], d.get("title", d["id"])) for d in report["dimensions"]]
    target = {k: v for k, v in report.get("target", {}).items() if v is not None}
    return {
        "schema_version": EXPORT_VERSION,
        "generator": {"name": "maturity-scan",
                      "version": report.get("tool", {}).get("version", "")},
        "pack": report["pack"],
        "scanned_at": timestamp(report),
        "target": target,
        "retriever": retriever(report["pack"], dims),
        "facts": _entity_facts(report, {}),
    }


def export_org(reports: Iterable[dict[str, Any]], pack: str, org: str) -> dict[str, Any] | None:
    """One export of an org run's reports in `pack` (others are left out, as in the org's
    aggregates): the entities of every repository, names unique across them, each fact with
    its repository's scan time; None when no report is in that pack. `reports` is read once,
    one at a time (an org's reports are not all held)."""
    facts: list[dict[str, Any]] = []
    taken: dict[tuple[str, str], str] = {}
    first: dict[str, Any] | None = None
    for report in reports:
        if report.get("pack") != pack:
            continue
        if first is None:
            first = {k: report[k] for k in ("pack", "dimensions", "tool")}
        facts += _entity_facts(report, taken)
    if first is None:
        return None
    return {
        "schema_version": EXPORT_VERSION,
        "generator": {"name": "maturity-scan",
                      "version": first.get("tool", {}).get("version", "")},
        "pack": pack,
        "scanned_at": max(f["timestamp"] for f in facts),
        "target": {"path": org},
        "retriever": retriever(pack, [(d["id"], d.get("title", d["id"]))
                                      for d in first["dimensions"]]),
        "facts": facts,
    }


def dumps(data: Any) -> str:
    """An export as written: indented, keys sorted (reviewable diffs), UTF-8 as is."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(report: dict[str, Any]) -> str:
    return dumps(export(report))


def render_many(reports: Sequence[dict[str, Any]]) -> str:
    """`--pack all`: one export per pack (each with its own retriever)."""
    return dumps({"schema_version": EXPORT_VERSION, "exports": [export(r) for r in reports]})


def builtin_fact_schemas(packs: Iterable[Any]) -> dict[str, Any]:
    """What `maturity_scan/schema/backstage-facts.json` holds: each pack's retriever."""
    return {p.id: retriever(p.id, [(d.id, d.title) for d in p.dimensions]) for p in packs}


def render_org(reports: Iterable[dict[str, Any]], pack: str, org: str) -> str:
    """`org --export backstage`: the facts of every repository (and component) of the run;
    "" when no report is in `pack`."""
    doc = export_org(reports, pack, org)
    return dumps(doc) if doc is not None else ""
