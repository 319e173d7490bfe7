"""Org scans that roll up components: org.csv gets a row per component with its owner after its
repository's row, and the team view (`--teams`) counts a monorepo by its components, each for
its owner (a GitHub team, a CODEOWNERS owner or an owner of its own), with "fix first" per team
(org-teams.csv, org.md)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from maturity_scan.org import run as org
from maturity_scan.reporters import org as org_report


def _result(name: str, levels: dict[str, float], blocking: dict[str, list[str]] | None = None,
            components: list[dict[str, Any]] | None = None,
            owners: list[str] | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"repository": name, "status": "scanned", "pack": "devops",
                         "levels": levels, "blocking": blocking or {}, "missing": [],
                         "errors": 0, "owners": owners or []}
    if components is not None:
        r["components"] = components
    return r


def _component(name: str, owner: str | None, levels: dict[str, float],
               blocking: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"id": name, "name": name, "path": f"services/{name}", "owner": owner,
            "levels": levels, "blocking": blocking or {}}


def _fleet() -> list[dict[str, Any]]:
    return [
        _result("acme/infra", {"iac": 3, "delivery": 2}, {"delivery": ["delivery.ci_pipeline"]}),
        _result("acme/mono", {"iac": 2, "delivery": 3}, components=[
            _component("payments", "group:default/payments", {"iac": 1, "delivery": 4},
                       {"iac": ["iac.remote_state"]}),
            _component("orders", "@acme/platform", {"iac": 2, "delivery": 1},
                       {"delivery": ["delivery.ci_pipeline", "delivery.tests_on_pull_requests"]}),
            _component("legacy", None, {"iac": 1, "delivery": 1}),
        ]),
    ]


def test_team_rows_use_component_owners(tmp_path: Path) -> None:
    results = _fleet()
    summary = org.aggregate(org.OrgSettings("acme", tmp_path, tmp_path), results, 0)
    teams = {"platform": ["infra", "mono"], "frontend": []}
    rows, source = org.team_levels(summary, {t: [f"acme/{n}" for n in ns]
                                             for t, ns in teams.items()}, results)
    assert source == "team"
    by = {r["team"]: r for r in rows}
    # the monorepo counts by its components: `orders` (@acme/platform) joins the platform team,
    # `legacy` (no owner) stays with the repository's team, `payments` has a row of its own
    assert set(by) == {"platform", "frontend", "group:default/payments"}
    assert by["platform"]["members"] == ["acme/infra", "acme/mono:legacy", "acme/mono:orders"]
    assert by["platform"]["repositories"] == 2 and by["platform"]["components"] == 2
    assert {k: v for k, v in by["platform"]["mean"].items() if v is not None} == \
        {"iac": 2.0, "delivery": 1.33}
    assert by["group:default/payments"]["members"] == ["acme/mono:payments"]
    assert by["group:default/payments"]["mean"]["delivery"] == 4
    assert by["frontend"]["repositories"] == 0 and by["frontend"]["mean"]["iac"] is None
    # fix first per team: the only thing missing for infra's and one of two for orders
    fix = by["platform"]["fix_first"]
    assert fix[0]["requirement"] == "delivery.ci_pipeline" and fix[0]["score"] == 1.5
    assert fix[0]["repositories"] == ["acme/infra", "acme/mono:orders"]
    assert by["group:default/payments"]["fix_first"][0]["requirement"] == "iac.remote_state"


def test_codeowners_rows_take_component_owners_by_name(tmp_path: Path) -> None:
    results = _fleet()
    results[0]["owners"] = ["@acme/platform"]
    results[1]["owners"] = ["@acme/payments"]
    summary = org.aggregate(org.OrgSettings("acme", tmp_path, tmp_path), results, 0)
    rows, source = org.team_levels(summary, {}, results)
    assert source == "CODEOWNERS owner"
    by = {r["team"]: r["members"] for r in rows}
    assert by == {"@acme/payments": ["acme/mono:legacy", "acme/mono:payments"],
                  "@acme/platform": ["acme/infra", "acme/mono:orders"]}
    assert org.owner_key("group:default/Payments") == org.owner_key("@acme/payments") == \
        org.owner_key("payments") == "payments"


def test_org_csv_and_md_rows_per_component_and_team(tmp_path: Path) -> None:
    results = _fleet()
    results[0]["owners"] = ["@acme/platform", "@acme/ops"]
    summary = org.aggregate(org.OrgSettings("acme", tmp_path, tmp_path), results, 0)
    summary["teams"], summary["teams_source"] = org.team_levels(
        summary, {"platform": ["acme/infra", "acme/mono"]}, results)
    rows = list(csv.DictReader(io.StringIO(org_report.csv_text(summary))))
    got = [(r["repository"], r["status"], r["component"], r["path"], r["owner"], r["iac"])
           for r in rows]
    assert got == [
        ("acme/infra", "scanned", "", "", "@acme/platform @acme/ops", "3"),
        ("acme/mono", "scanned", "", "", "", "2"),
        ("acme/mono", "component", "payments", "services/payments", "group:default/payments",
         "1"),
        ("acme/mono", "component", "orders", "services/orders", "@acme/platform", "2"),
        ("acme/mono", "component", "legacy", "services/legacy", "", "1"),
    ]
    teams = list(csv.DictReader(io.StringIO(org_report.teams_csv(summary))))
    assert [(t["team"], t["repositories"], t["components"], t["delivery"]) for t in teams] == [
        ("group:default/payments", "1", "1", "4"), ("platform", "2", "2", "1.33")]
    assert teams[1]["fix_first"].split()[0] == "delivery.ci_pipeline"
    md = org_report.markdown(summary)
    assert "| team | repositories | components | iac |" in md.replace(" delivery |", "")
    assert "| platform | 2 | 2 | 2 | 1.33 |" in md
    assert "- platform: " in md and "`delivery.ci_pipeline`, lifts acme/infra, acme/mono:orders" in md
