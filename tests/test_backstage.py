"""`--format backstage`: Tech Insights facts, one entity per component (else the repository),
validated against the shipped JSON Schema; the shipped fact schemas match the packs."""
from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from maturity_scan import api
from maturity_scan.cli import main
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.reporters import backstage

ROOT = Path(__file__).resolve().parent.parent
KUBIFY = ROOT / "fixtures" / "repos" / "kubify-platform"
STAMP = "2026-11-25T16:00:00+00:00"


def shipped(name: str) -> dict[str, Any]:
    return json.loads(resources.files("maturity_scan.schema").joinpath(name).read_text())


def validate(doc: dict[str, Any]) -> None:
    schema = shipped("backstage-export.schema.json")
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(doc)


def kubify_report() -> dict[str, Any]:
    """A real report of the Kubify fixture (devops pack: several dimensions, some met)."""
    rep = api.scan_report(WorkTreeSource(KUBIFY), "devops", ScanOptions(jobs=0, cache=False))
    rep["scanned_at"] = STAMP
    return rep


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return kubify_report()


def component(rep: dict[str, Any], cid: str, name: str, path: str, kind: str, *,
              owner: str | None = None, level: float | None = 2, **extra: Any) -> dict[str, Any]:
    """A component of the core contract: its dimensions are the report's, with `level` set on
    the first one (None: not applicable) and only the first requirement met."""
    dims = copy.deepcopy(rep["dimensions"])
    dims[0]["level"] = level
    if level is None:
        dims[0]["status"] = "not_applicable"
    for n, r in enumerate(dims[0]["requirements"]):
        r["status"] = "met" if n == 0 and level is not None else "missing"
    return {"id": cid, "name": name, "path": path, "owner": owner, "type": "service",
            "source": {"kind": kind, "path": f"{path}/x", "line": 1}, "dimensions": dims,
            **extra}


def test_a_repository_without_components_is_one_entity_named_after_its_folder(
        report: dict[str, Any]) -> None:
    doc = backstage.export(report)
    validate(doc)
    assert [f["entity"] for f in doc["facts"]] == [
        {"namespace": "default", "kind": "component", "name": "kubify-platform"}]
    only = doc["facts"][0]
    assert only["timestamp"] == doc["scanned_at"] == "2026-11-25T16:00:00Z"
    dims = {d["id"]: d for d in report["dimensions"]}
    for dim_id, d in dims.items():
        assert only["facts"][f"{dim_id}_level"] == d["level"]
        assert only["facts"][f"{dim_id}_met"] == sorted(
            r["id"] for r in d["requirements"] if r["status"] == "met")
    assert "devex.documented_setup" in only["facts"]["devex_met"]
    # every fact the entity carries is declared in the retriever's schema, with its type
    schema = doc["retriever"]["schema"]
    assert set(only["facts"]) == set(schema)
    assert schema["iac_level"]["type"] == "float" and schema["iac_met"]["type"] == "set"
    assert doc["retriever"]["id"] == "maturity-scan-devops"
    assert doc["retriever"]["entityFilter"] == [{"kind": "component"}]


@pytest.mark.parametrize("path, name", [("acme/svc-00", "svc-00"),
                                        ("../Billing API/", "Billing-API"), ("x/..", None)])
def test_repository_names(report: dict[str, Any], path: str, name: str | None) -> None:
    rep = {**report, "target": {"path": path, "revision": None}}
    got = backstage.export(rep)["facts"][0]["entity"]["name"]
    if name is not None:
        assert got == name
    validate(backstage.export(rep))


def test_one_entity_per_component_with_catalog_namespace_and_unique_names(
        report: dict[str, Any]) -> None:
    rep = dict(report)
    rep["components"] = [
        component(report, "payments", "payments", "services/payments", "backstage",
                  owner="group:default/payments", namespace="billing"),
        component(report, "orders", "orders", "services/orders", "kubify", level=3.5),
        component(report, "web-ui", "Web UI!", "apps/web ui", "services_root", level=None),
        component(report, "cmd-orders", "orders", "cmd/orders", "services_root"),
        component(report, "weird", "x" * 80, "services/weird", "workspace"),
    ]
    doc = backstage.export(rep)
    validate(doc)
    entities = [(f["entity"]["namespace"], f["entity"]["name"]) for f in doc["facts"]]
    assert entities == [("billing", "payments"), ("default", "orders"), ("default", "Web-UI"),
                        ("default", "orders-cmd-orders"), ("default", "x" * 63)]
    facts = {f["entity"]["name"]: f["facts"] for f in doc["facts"]}
    first = report["dimensions"][0]["id"]
    assert facts["orders"][f"{first}_level"] == 3.5
    assert facts["orders"]["path"] == "services/orders"
    assert facts["Web-UI"][f"{first}_level"] is None  # not applicable
    assert facts["Web-UI"][f"{first}_met"] == []
    assert facts["payments"][f"{first}_met"] == [report["dimensions"][0]["requirements"][0]["id"]]
    assert {e.ref for e in backstage.entities(rep)} >= {"component:billing/payments",
                                                        "component:default/orders"}
    # the repository itself is not an entity once it has components
    assert "kubify-platform" not in facts


def test_the_namespace_from_the_component_signal_of_the_same_catalog_file(
        report: dict[str, Any]) -> None:
    rep = dict(report)
    api_c = component(report, "api", "api", "services/api", "backstage")
    other = component(report, "web", "web", "services/web", "services_root")
    rep["components"] = [api_c, other]
    rep["signals"] = [*report["signals"], {"kind": "component", "evidence": [], "facts": {
        "components": [{"name": "api", "file": "services/api/x", "namespace": "shop"},
                       {"name": "web", "file": "services/web/x", "namespace": "ignored"},
                       {"name": "api", "file": "elsewhere.yaml", "namespace": "other"}]}}]
    names = [(f["entity"]["namespace"], f["entity"]["name"])
             for f in backstage.export(rep)["facts"]]
    # only a catalog component takes a namespace; `web` came from a services root
    assert names == [("shop", "api"), ("default", "web")]


def test_a_broken_export_fails_the_schema(report: dict[str, Any]) -> None:
    doc = backstage.export(report)
    bad = copy.deepcopy(doc)
    bad["facts"][0]["entity"]["name"] = "has space"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    bad = copy.deepcopy(doc)
    bad["facts"][0]["facts"]["iac_level"] = "3"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    bad = copy.deepcopy(doc)
    bad["retriever"]["schema"]["iac_level"]["type"] = "number"
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


def test_the_shipped_fact_schemas_match_the_packs() -> None:
    """maturity_scan/schema/backstage-facts.json holds each built-in pack's retriever. When a
    pack's dimensions change, regenerate it:
    python -c "from maturity_scan import api; from maturity_scan.reporters import backstage as b;
    open('maturity_scan/schema/backstage-facts.json', 'w').write(b.dumps(
    b.builtin_fact_schemas(api.packs().values())))"
    (titles in descriptions may drift; names, types and ids must not)."""
    ours = shipped("backstage-facts.json")
    want = backstage.builtin_fact_schemas(api.packs().values())
    assert set(ours) == set(want)
    for pack, retriever in want.items():
        assert ours[pack]["id"] == retriever["id"] and ours[pack]["version"] == retriever["version"]
        assert {k: v["type"] for k, v in ours[pack]["schema"].items()} == \
            {k: v["type"] for k, v in retriever["schema"].items()}, pack


def test_cli_writes_backstage_and_portal_beside_json(tmp_path: Path) -> None:
    files = {f: tmp_path / f"out.{f}.json" for f in ("backstage", "portal", "json")}
    assert main(["scan", str(KUBIFY), "--pack", "devex", "-q", "-j", "0",
                 *(a for f, p in files.items() for a in ("-o", f"{f}={p}"))]) == 0
    doc = json.loads(files["backstage"].read_text())
    validate(doc)
    rep = json.loads(files["json"].read_text())
    assert doc["scanned_at"] == rep["scanned_at"].replace("+00:00", "Z")
    assert doc["facts"][0]["facts"]["devex_level"] == rep["dimensions"][0]["level"]
    assert json.loads(files["portal"].read_text())["key"] == "maturity_scan_devex"


def test_pack_all_is_one_document_with_an_export_per_pack(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    assert main(["scan", str(KUBIFY), "--pack", "all", "--format", "backstage", "-q", "-j", "0",
                 "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    validate(doc)
    assert sorted(e["retriever"]["id"] for e in doc["exports"]) == sorted(
        f"maturity-scan-{p}" for p in api.packs())


def test_scan_components_exports_one_entity_per_service_of_the_monorepo(tmp_path: Path) -> None:
    """End to end on the Kubify monorepo fixture: `scan --components` then the export."""
    mono = ROOT / "fixtures" / "repos" / "kubify-monorepo"
    files = {f: tmp_path / f"out.{f}.json" for f in ("backstage", "portal", "json")}
    assert main(["scan", str(mono), "--components", "--pack", "devex", "-q", "-j", "0",
                 *(a for f, p in files.items() for a in ("-o", f"{f}={p}"))]) == 0
    rep = json.loads(files["json"].read_text())
    doc = json.loads(files["backstage"].read_text())
    validate(doc)
    levels = {c["name"]: c["dimensions"][0]["level"] for c in rep["components"]}
    got = {f["entity"]["name"]: f["facts"]["devex_level"] for f in doc["facts"]}
    assert got == levels and set(got) == {"ledger", "orders", "payments", "search", "web"}
    assert len(set(got.values())) > 1  # each service at its own level
    paths = {f["entity"]["name"]: f["facts"]["path"] for f in doc["facts"]}
    assert paths["web"] == "services/web"  # the catalog's source-location
    assert {f["entity"]["namespace"] for f in doc["facts"]} == {"default"}
    assert all(f["timestamp"] == rep["scanned_at"].replace("+00:00", "Z") for f in doc["facts"])
    for c in rep["components"]:
        mine = next(f for f in doc["facts"] if f["entity"]["name"] == c["name"])
        assert mine["facts"]["devex_met"] == sorted(
            r["id"] for r in c["dimensions"][0]["requirements"] if r["status"] == "met")
    portal = json.loads(files["portal"].read_text())
    assert sorted(portal["cortex_bulk"]["values"]) == sorted(levels)
    owners = {e["name"]: e["owner"] for e in portal["entities"]}
    assert owners["web"] == "team-web"


def test_hostile_names_from_the_repository_stay_data(report: dict[str, Any],
                                                     tmp_path: Path) -> None:
    """Component names, paths and owners come from the scanned repository: terminal escapes,
    bidi overrides, U+FFFD (an undecodable byte) and quotes end up JSON-escaped data, entity
    names valid Backstage names, and `-o FILE` writes strict UTF-8."""
    from maturity_scan.cli.options import emit
    from maturity_scan.reporters import portal

    rep = dict(report)
    rep["components"] = [
        component(report, "red", "\x1b[31mred\u202e", "services/\x1b]0;owned\x07",
                  "services_root", owner="\"; DROP"),
        component(report, "bad", "bad\ufffd\ud800name", "services/bad\ufffd", "backstage",
                  namespace="\x1b[2J"),
    ]
    for fmt, module in (("backstage", backstage), ("portal", portal)):
        out = tmp_path / f"{fmt}.json"
        emit(module.render(rep), out)
        doc = json.loads(out.read_bytes().decode("utf-8"))  # strict: no lone surrogate
        if fmt == "backstage":
            validate(doc)
            assert [f["entity"]["name"] for f in doc["facts"]] == ["31mred", "bad-name"]
            assert doc["facts"][1]["entity"]["namespace"] == "2J"
            assert doc["facts"][0]["facts"]["path"] == "services/\x1b]0;owned\x07"
        else:
            assert doc["entities"][0]["owner"] == "\"; DROP"
            assert "\x1b" not in out.read_text().replace("\\u001b", "")
