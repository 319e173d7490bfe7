"""Azure Pipelines narrowed to the services they are for (issue 15): `trigger:` and `pr:`
`paths:` (include, exclude) cover the components they reach, as GitHub `paths:` filters do; a
missing `pr:` runs on any change, `pr: none` never."""
from __future__ import annotations

from pathlib import Path

from maturity_scan.assess.components import discover, divide
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "azure_pipelines"


def _seen(case: str) -> dict[str, set[tuple[str, int]]]:
    result = scan_source(WorkTreeSource(CASES / case),
                         ScanOptions(jobs=0, cache=False, components=True))
    assert not result.errors
    found = discover(result.signals, result.dirs)
    shares = divide(found, result.parts)
    return {c.id: {(e.path, e.line) for s in shares[c.id] if s.kind == "azure_pipelines"
                   for e in s.evidence} for c in found}


def test_trigger_and_pr_paths_assign_pipelines_to_the_right_services() -> None:
    seen = _seen("positive_monorepo_paths")
    root = {("azure-pipelines.yml", 1), ("azure-pipelines.yml", 8)}  # all but services/web
    assert seen == {
        "orders": root | {(".azure-pipelines/orders.yml", 1), (".azure-pipelines/orders.yml", 11)},
        "payments": root,
        "web": {(".azure-pipelines/web.yml", 1), (".azure-pipelines/web.yml", 6)}}


def test_paths_of_no_service_or_a_pr_on_any_change_cover_every_service() -> None:
    seen = _seen("negative_paths_no_component")
    assert seen["orders"] == seen["payments"] == {
        ("azure-pipelines.yml", 1), ("azure-pipelines.yml", 6),
        (".azure-pipelines/orders.yml", 1), (".azure-pipelines/orders.yml", 5)}


def test_malformed_path_filters_narrow_nothing() -> None:
    seen = _seen("malformed_paths")
    assert seen["orders"] == seen["payments"] and len(seen["orders"]) == 4
