"""Org scans that roll up components: org.csv gets a row per component with its owner after its
repository's row, and the team view (`--teams`) counts a monorepo by its components, each for
its owner (a GitHub team, a CODEOWNERS owner or an owner of its own), with "fix first" per team
(org-teams.csv, org.md)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from maturity_scan.org import run as org
from maturity_scan.reporters import backstage
from maturity_scan.reporters import org as org_report
from tests.github_server import GitHubServer
from tests.test_backstage import validate as validate_backstage
from tests.test_org import run_cli
from tests.test_portal import validate as validate_portal


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
    assert "- platform: " in md
    assert "`delivery.ci_pipeline`, lifts acme/infra, acme/mono:orders" in md


# --- end to end: a monorepo with components behind the loopback GitHub server --------------

CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  namespace: billing
spec:
  type: service
  owner: group:default/payments
  lifecycle: production
"""
KUBIFY = "apiVersion: kubify/v1\nkind: Service\nmetadata:\n  name: orders\n"
DOCKERFILE = "FROM python:3.12-slim\nUSER 1000\nCMD [\"python\", \"-m\", \"app\"]\n"
WF = ("on:\n  pull_request:\n    paths: ['services/payments/**']\njobs:\n  t:\n"
      "    runs-on: ubuntu-latest\n    steps:\n      - run: pytest -q\n        "
      "working-directory: services/payments\n")
MONOREPO = {
    "README.md": "# platform\n\n## Getting started\n\nmake dev\n",
    "CODEOWNERS": "* @acme/platform\n",
    ".github/workflows/payments.yml": WF,
    "services/payments/catalog-info.yaml": CATALOG,
    "services/payments/Dockerfile": DOCKERFILE,
    "services/payments/app.py": "print('pay')\n",
    "services/payments/tests/test_app.py": "def test_ok():\n    assert True\n",
    "services/orders/kubify.yaml": KUBIFY,
    "services/orders/Dockerfile": DOCKERFILE,
    "services/web/Dockerfile": DOCKERFILE,
}
PLAIN = {"README.md": "# infra\n", "infra/main.tf": 'resource "aws_s3_bucket" "b" {}\n'}


@pytest.fixture
def server(tmp_path: Path):
    with GitHubServer(tmp_path / "srv") as srv:
        srv.state.root.mkdir(parents=True, exist_ok=True)
        yield srv


def test_org_components_rows_team_view_and_export_through_the_server(
        server: GitHubServer, tmp_path: Path) -> None:
    server.add_repo("acme", "mono", MONOREPO)
    server.add_repo("acme", "infra", PLAIN)
    server.state.teams["acme"] = {"platform": ["mono", "infra"], "payments": []}
    out = tmp_path / "out"
    done = run_cli(server, out, "--components", "--teams", "--export", "backstage",
                   "--export", "portal", workers=2)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "org.json").read_text())
    by_repo = {r["repository"]: r for r in summary["repositories"]}
    assert "components" not in by_repo["acme/infra"]  # no service roots: no components
    comps = {c["name"]: c for c in by_repo["acme/mono"]["components"]}
    assert set(comps) == {"payments", "orders", "web"}
    assert comps["payments"]["owner"] == "group:default/payments"
    assert comps["payments"]["path"] == "services/payments"
    assert comps["orders"]["owner"] is None and comps["web"]["owner"] is None
    # each component's levels are its report's own
    report = json.loads((out / "repos" / "acme_mono.json").read_text())
    for c in report["components"]:
        assert comps[c["name"]]["levels"] == {d["id"]: d["level"] for d in c["dimensions"]
                                              if d["level"] is not None}
    assert comps["payments"]["levels"]["delivery"] > comps["web"]["levels"]["delivery"]

    # org.csv: the repository's row, then one per component with its owner
    rows = list(csv.DictReader(io.StringIO((out / "org.csv").read_text())))
    got = [(r["repository"], r["status"], r["component"], r["path"], r["owner"]) for r in rows]
    assert got[:2] == [("acme/infra", "scanned", "", "", ""),
                       ("acme/mono", "scanned", "", "", "@acme/platform")]
    assert sorted(got[2:]) == [
        ("acme/mono", "component", "orders", "services/orders", ""),
        ("acme/mono", "component", "payments", "services/payments", "group:default/payments"),
        ("acme/mono", "component", "web", "services/web", "")]
    pay = next(r for r in rows if r["component"] == "payments")
    assert pay["delivery"] == f"{comps['payments']['levels']['delivery']:g}"

    # the team view: payments' owner joins the GitHub team `payments`; components without an
    # owner stay with the repository's team
    teams = {t["team"]: t for t in summary["teams"]}
    assert summary["teams_source"] == "team"
    assert teams["payments"]["members"] == ["acme/mono:payments"]
    assert teams["platform"]["members"] == ["acme/infra", "acme/mono:orders", "acme/mono:web"]
    assert teams["platform"]["repositories"] == 2 and teams["platform"]["components"] == 2
    assert teams["payments"]["mean"]["delivery"] == comps["payments"]["levels"]["delivery"]
    assert teams["platform"]["fix_first"], teams["platform"]
    team_rows = {r["team"]: r for r in csv.DictReader(io.StringIO(
        (out / "org-teams.csv").read_text()))}
    assert set(team_rows) == {"payments", "platform"}
    assert team_rows["platform"]["fix_first"].split()[0] == \
        teams["platform"]["fix_first"][0]["requirement"]
    md = (out / "org.md").read_text()
    assert "| payments | 1 | 1 |" in md and "Fix first, per team:" in md
    page = (out / "org.html").read_text()
    assert "<button type=button>components</button>" in page
    assert f"<code>{teams['platform']['fix_first'][0]['requirement']}</code>" in page

    # the stored report exports to Backstage: one entity per component, the catalog namespace
    doc = backstage.export(report)
    validate_backstage(doc)
    refs = sorted(f"{f['entity']['namespace']}/{f['entity']['name']}" for f in doc["facts"])
    assert refs == ["billing/payments", "default/orders", "default/web"]

    # the org's exports: every component of the monorepo, and the plain repository itself
    org_doc = json.loads((out / "backstage.json").read_text())
    validate_backstage(org_doc)
    assert sorted((f["entity"]["namespace"], f["entity"]["name"]) for f in org_doc["facts"]) == [
        ("billing", "payments"), ("default", "infra"), ("default", "orders"), ("default", "web")]
    assert org_doc["target"] == {"path": "acme"} and org_doc["pack"] == "devops"
    infra = json.loads((out / "repos" / "acme_infra.json").read_text())
    infra_facts = next(f for f in org_doc["facts"] if f["entity"]["name"] == "infra")
    assert infra_facts["facts"]["iac_level"] == next(
        d["level"] for d in infra["dimensions"] if d["id"] == "iac")
    assert infra_facts["timestamp"] == infra["scanned_at"].replace("+00:00", "Z")
    portal_doc = json.loads((out / "portal.json").read_text())
    validate_portal(portal_doc)
    assert sorted(portal_doc["cortex_bulk"]["values"]) == ["infra", "orders", "payments", "web"]

    # payments loses its workflow: the next run names the component that regressed
    server.push("acme", "mono", {"README.md": MONOREPO["README.md"] + "\nmoved\n"},
                delete=(".github/workflows/payments.yml",))
    worse = run_cli(server, out, "--components", "--fail-on-regression", workers=2)
    assert worse.returncode == 1, worse.stderr
    assert "acme/mono:payments" in worse.stderr
    change = json.loads((out / "org.json").read_text())["change"]
    lost = [r for r in change["regressed"] if r["repository"] == "acme/mono:payments"]
    assert [r["dimension"] for r in lost if r["dimension"] == "delivery"] == ["delivery"]
    assert all(r["from"] > r["to"] for r in lost)
    assert "acme/mono:payments: delivery" in (out / "org.md").read_text()

    # a run without --components is another cache key: scanned again, no component rows
    again = run_cli(server, out, workers=2)
    assert again.returncode == 0, again.stderr
    summary = json.loads((out / "org.json").read_text())
    assert summary["counts"] == {"scanned": 2}
    assert all("components" not in r for r in summary["repositories"])
    assert "component" not in [r["status"] for r in csv.DictReader(
        io.StringIO((out / "org.csv").read_text()))]
    # (exports are written only when asked: the earlier files stay as they were)
    assert json.loads((out / "backstage.json").read_text()) == org_doc


def test_names_from_a_catalog_never_run_as_spreadsheet_formulas(tmp_path: Path) -> None:
    results = [_result("acme/mono", {"iac": 1}, owners=["@acme/ops"], components=[
        _component("=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", {"iac": 1}),
        _component("svc\x1b[31m", "@SUM(1+1)", {"iac": 2})])]
    summary = org.aggregate(org.OrgSettings("acme", tmp_path, tmp_path), results, 0)
    summary["teams"], summary["teams_source"] = org.team_levels(summary, {}, results)
    rows = list(csv.reader(io.StringIO(org_report.csv_text(summary))))
    assert rows[1][-1] == "@acme/ops"  # a plain CODEOWNERS owner stays as it is
    assert rows[2][-3:] == ["'=HYPERLINK(\"http://x\")", "services/=HYPERLINK(\"http://x\")",
                            "'+cmd|' /C calc'!A0"]
    assert rows[3][-3:] == ["svc\\x1b[31m", "services/svc\x1b[31m".replace("\x1b", "\\x1b"),
                            "'@SUM(1+1)"]
    teams = [r[0] for r in csv.reader(io.StringIO(org_report.teams_csv(summary)))][1:]
    assert "'+cmd|' /C calc'!A0" in teams and "'@SUM(1+1)" in teams


def test_an_org_export_keeps_names_unique_across_repositories() -> None:
    from tests.test_backstage import component
    base = {"schema_version": 1, "tool": {"name": "maturity-scan", "version": "1"},
            "pack": "devops", "scanned_at": "2026-11-25T16:00:00+00:00", "signals": [],
            "dimensions": [{"id": "iac", "title": "IaC", "level": 2, "requirements": []}]}
    a = {**base, "target": {"path": "acme/shop"}}
    a["components"] = [component(a, "api", "api", "services/api", "services_root")]
    b = {**base, "target": {"path": "acme/api"}, "scanned_at": "2026-11-25T17:00:00+00:00"}
    b["components"] = [component(b, "api", "api", "svc/api", "services_root"),
                       component(b, "api-2", "api", "cmd/api", "services_root")]
    c = {**base, "target": {"path": "acme/web"}, "pack": "devex"}  # another pack: left out
    doc = backstage.export_org(iter([a, b, c]), "devops", "acme")
    assert doc is not None
    validate_backstage(doc)
    assert [f["entity"]["name"] for f in doc["facts"]] == ["api", "api-api", "api-api-2"]
    assert doc["scanned_at"] == "2026-11-25T17:00:00Z"
    assert backstage.export_org(iter([c]), "devops", "acme") is None
    assert backstage.render_org(iter([]), "devops", "acme") == ""


def test_components_on_a_dask_cluster(server: GitHubServer, tmp_path: Path) -> None:
    """The flag travels in the task (no secret does): a worker scans per component too."""
    distributed = pytest.importorskip("distributed")
    from maturity_scan.org import github
    server.add_repo("acme", "mono", MONOREPO)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        summary = org.run(org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache",
                                          components=True, teams=True),
                          github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                          github.Filters(), executor=client.get_executor(), log=lambda s: None)
    (mono,) = summary["repositories"]
    assert mono["status"] == "scanned", mono
    assert sorted(c["name"] for c in mono["components"]) == ["orders", "payments", "web"]
    # no GitHub teams: CODEOWNERS owners, with payments under its own owner
    assert {t["team"]: t["members"] for t in summary["teams"]} == {
        "@acme/platform": ["acme/mono:orders", "acme/mono:web"],
        "group:default/payments": ["acme/mono:payments"]}
