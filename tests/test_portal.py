"""`--format portal`: the request bodies Cortex (custom data, one entity and bulk) and OpsLevel
(propertyAssign) take, one value per entity, validated against the shipped schemas. Nothing is
sent anywhere."""
from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from maturity_scan.reporters import portal
from tests.test_backstage import component, kubify_report


def shipped(name: str) -> dict[str, Any]:
    return json.loads(resources.files("maturity_scan.schema").joinpath(name).read_text())


VALUE = shipped("portal-value.schema.json")


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return kubify_report()


def validate(doc: dict[str, Any]) -> None:
    export = shipped("portal-export.schema.json")
    registry = Registry().with_resources(
        [(s["$id"], Resource.from_contents(s)) for s in (VALUE, export)])
    jsonschema.Draft202012Validator(
        export, registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(doc)


def test_one_value_per_component_in_cortex_and_opslevel_bodies(
        report: dict[str, Any]) -> None:
    rep = dict(report)
    rep["components"] = [
        component(report, "payments", "payments", "services/payments", "backstage",
                  owner="team-payments", level=4),
        component(report, "orders", "orders", "services/orders", "kubify", level=None),
    ]
    doc = portal.export(rep)
    validate(doc)
    assert doc["key"] == "maturity_scan_devops"
    first = report["dimensions"][0]["id"]
    by_name = {e["name"]: e for e in doc["entities"]}
    assert list(by_name) == ["payments", "orders"]
    pay = by_name["payments"]
    assert pay["owner"] == "team-payments" and pay["path"] == "services/payments"
    # Cortex: POST /api/v1/catalog/payments/custom-data with {key, value, description}
    body = pay["cortex"]["body"]
    assert pay["cortex"]["tag"] == "payments" and set(body) == {"key", "value", "description"}
    value = body["value"]
    jsonschema.Draft202012Validator(VALUE).validate(value)
    assert value["levels"][first] == 4 and value["pack"] == "devops"
    assert value["scanned_at"] == "2026-11-25T16:00:00Z"
    assert value["met"][first] == [report["dimensions"][0]["requirements"][0]["id"]]
    assert by_name["orders"]["cortex"]["body"]["value"]["levels"][first] is None
    # Cortex bulk: PUT /api/v1/catalog/custom-data with {values: {tag: [{key, value}]}}
    assert doc["cortex_bulk"] == {"values": {
        e["cortex"]["tag"]: [{"key": doc["key"], "value": e["cortex"]["body"]["value"]}]
        for e in doc["entities"]}}
    # OpsLevel: propertyAssign with the same value as a JSON string
    gql = pay["opslevel"]["body"]
    assert gql["query"].startswith("mutation PropertyAssign($input: PropertyInput!)")
    assert "propertyAssign(input: $input)" in gql["query"]
    given = gql["variables"]["input"]
    assert given["owner"] == {"alias": "payments"}
    assert given["definition"] == {"alias": "maturity_scan_devops"}
    assert isinstance(given["value"], str) and json.loads(given["value"]) == value


def test_a_repository_without_components_and_broken_shapes(
        report: dict[str, Any]) -> None:
    doc = portal.export(report)
    validate(doc)
    assert [e["name"] for e in doc["entities"]] == ["kubify-platform"]
    assert doc["entities"][0]["path"] == "" and doc["entities"][0]["owner"] is None
    bad = copy.deepcopy(doc)
    bad["entities"][0]["opslevel"]["body"]["variables"]["input"]["value"] = {"levels": {}}
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    bad = copy.deepcopy(doc)
    del bad["cortex_bulk"]["values"]["kubify-platform"][0]["value"]["levels"]
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    many = json.loads(portal.render_many([report, report]))
    validate(many)
    assert len(many["exports"]) == 2
