"""Components of a monorepo (issue 15): discovery (the `component` kind), the `components:`
config, per-component assessment, its JSON and text, and the gate per component."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from maturity_scan import api, report
from maturity_scan.assess.components import (Component, _Coverage, archetypes_for, discover,
                                             divide)
from maturity_scan.cli import main
from maturity_scan.config import Components
from maturity_scan.engine.scan import ScanOptions, ScanResult, scan_source
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource
from maturity_scan.model import Evidence, Signal
from maturity_scan.testing import scan_fixture
from tests.gitrepo import commit, init

ROOT = Path(__file__).resolve().parent.parent


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def components(result: ScanResult) -> list[dict[str, Any]]:
    sig = result.signal("component")
    return list(sig.facts.get("components") or []) if sig else []


KUBIFY = """apiVersion: k8.kubify.local/v1
kind: Config
metadata:
  name: {name}
spec:
  depends_on: [{deps}]
"""
CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  owner: team-{name}
  type: service
"""


def test_test_data_and_vendored_copies_make_no_component(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "tests/fixtures/services/fake/Dockerfile": "FROM scratch\n",
        "tests/fixtures/mono/catalog-info.yaml": CATALOG.format(name="fake"),
        "third_party/tool/kubify.yaml": KUBIFY.format(name="vendored", deps=""),
        "services/real/Dockerfile": "FROM scratch\n",
        "services/real/tests/fixtures/Dockerfile": "FROM scratch\n",
    })
    result = scan_fixture(root)
    assert [(c["name"], c["path"]) for c in components(result)] == [("real", "services/real")]
    sig = result.signal("component")
    assert sig is not None and sig.facts["names"] == ["real"]
    own = [e for e in sig.evidence if not e.scope]
    assert [(e.path, e.line) for e in own] == [("services/real/Dockerfile", 1)]


def test_one_folder_one_component_with_every_source_merged(tmp_path: Path) -> None:
    """A catalog entry and a kubify.yaml in one folder are one component: the catalog names
    it and gives the owner, Kubify what it depends on; nothing is counted twice."""
    root = make(tmp_path, {
        "services/orders/catalog-info.yaml": CATALOG.format(name="orders"),
        "services/orders/kubify.yaml": KUBIFY.format(name="orders-svc", deps="payments"),
        "services/orders/Dockerfile": "FROM scratch\n",
    })
    (comp,) = components(scan_fixture(root))
    assert comp == {"name": "orders", "path": "services/orders", "source": "backstage",
                    "file": "services/orders/catalog-info.yaml", "line": 4,
                    "owner": "team-orders", "type": "service", "depends_on": ["payments"]}
    sig = scan_fixture(root).signal("component")
    assert sig is not None and sig.facts["without_kubify"] == []


def test_source_location_outside_the_repository_keeps_the_catalog_folder(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "catalog-info.yaml": CATALOG.format(name="a").replace(
            "metadata:\n", "metadata:\n  annotations:\n    backstage.io/source-location: "
            "dir:../../elsewhere\n"),
        "deploy/catalog-info.yaml": CATALOG.format(name="b").replace(
            "metadata:\n", "metadata:\n  annotations:\n    backstage.io/source-location: "
            "url:https://github.com/acme/shop/tree/main/services/b/\n"),
        "services/b/main.py": "print('b')\n",
    })
    assert [(c["name"], c["path"]) for c in components(scan_fixture(root))] == [
        ("a", "."), ("b", "services/b")]


# --- the monorepo of issue 15's "Done when" -------------------------------------------------


MONOREPO = ROOT / "fixtures" / "repos" / "kubify-monorepo"
CONTRACT = {"id", "name", "path", "owner", "type", "source", "dimensions"}
DIMENSION = {"id", "title", "level", "max_level", "status", "met", "next", "next_steps",
             "requirements", "road"}


@pytest.fixture(scope="module")
def devex() -> dict[str, Any]:
    return api.scan_report(WorkTreeSource(MONOREPO), "devex", ScanOptions(jobs=0, cache=False),
                           timings=False, components=Components())


def test_each_service_of_the_monorepo_at_its_own_devex_level(devex: dict[str, Any]) -> None:
    report.validate(devex)
    levels = {c["name"]: c["dimensions"][0]["level"] for c in devex["components"]}
    # orders: kubify.yaml with dependencies, init and backups; payments: no backups; search: a
    # chart and Flyway, the shared CI, no kubify.yaml; ledger (a Dockerfile) and web (a catalog
    # entry): no migrations of their own
    assert levels == {"ledger": 2, "orders": 4.5, "payments": 4, "search": 3.5, "web": 2}
    assert devex["dimensions"][0]["level"] == 4  # the repository verdict, as without components


def test_the_4_5_rung_names_the_services_without_kubify_yaml(devex: dict[str, Any]) -> None:
    (dim,) = devex["dimensions"]
    rung = next(r for r in dim["requirements"] if r["id"] == "devex.service_dependencies_declared")
    assert rung["status"] == "missing"
    assert rung["reason"] == "component.without_kubify: ledger, search, web"
    step = next(s for s in dim["next_steps"]
                if s["requirement"] == "devex.service_dependencies_declared")
    assert step["reason"] == rung["reason"]
    orders = next(c for c in devex["components"] if c["name"] == "orders")
    met = next(r for r in orders["dimensions"][0]["requirements"]
               if r["id"] == "devex.service_dependencies_declared")
    assert met["status"] == "met" and "reason" not in met


def test_components_json_contract(devex: dict[str, Any]) -> None:
    comps = {c["id"]: c for c in devex["components"]}
    assert sorted(comps) == ["ledger", "orders", "payments", "search", "web"]
    for c in comps.values():
        assert set(c) == CONTRACT
        assert set(c["source"]) == {"kind", "path", "line"}
        for d in c["dimensions"]:
            assert DIMENSION <= set(d)
    assert comps["web"]["owner"] == "team-web" and comps["web"]["type"] == "website"
    assert comps["web"]["source"] == {"kind": "backstage", "path": "services/web/catalog-info.yaml",
                                      "line": 4}
    assert comps["orders"]["source"] == {"kind": "kubify", "path": "services/orders/kubify.yaml",
                                         "line": 4}
    assert comps["ledger"]["source"] == {"kind": "services_root",
                                         "path": "services/ledger/Dockerfile", "line": 1}
    assert comps["search"]["path"] == "services/search" and comps["ledger"]["owner"] is None
    deps = api.scan_report(WorkTreeSource(MONOREPO), "devex", ScanOptions(jobs=0, cache=False))
    assert "components" not in deps  # only when asked for: existing reports are unchanged


def _shares() -> tuple[list[Component], dict[str, list[Any]]]:
    result = scan_source(WorkTreeSource(MONOREPO), ScanOptions(jobs=0, cache=False,
                                                               components=True))
    found = discover(result.signals, result.dirs)
    return found, divide(found, result.parts)


def _ci_lines(shares: dict[str, list[Any]], cid: str, wf: str) -> set[int]:
    return {e.line for s in shares[cid] if s.kind == "github_actions" for e in s.evidence
            if e.path == f".github/workflows/{wf}"}


def test_path_filters_and_matrices_assign_ci_to_the_right_services() -> None:
    found, shares = _shares()
    assert [c.name for c in found] == ["ledger", "orders", "payments", "search", "web"]
    # orders.yml: `paths: services/orders/**` on both events (and a working-directory there)
    assert _ci_lines(shares, "orders", "orders.yml") == {1, 18}
    for other in ("ledger", "payments", "search", "web"):
        assert not _ci_lines(shares, other, "orders.yml")
    # images.yml: its build job's matrix runs over ledger and search only
    for built in ("ledger", "search"):
        assert 15 in _ci_lines(shares, built, "images.yml")
    for other in ("orders", "payments", "web"):
        assert 15 not in _ci_lines(shares, other, "images.yml")
    # ci.yml: no filters, the whole repository: every service
    assert all(13 in _ci_lines(shares, c.id, "ci.yml") for c in found)


def test_evidence_of_another_service_never_counts() -> None:
    _, shares = _shares()
    paths = {cid: {e.path for s in sigs for e in s.evidence} for cid, sigs in shares.items()}
    assert "services/orders/kubify.yaml" in paths["orders"]
    for cid, seen in paths.items():
        others = [p for p in seen if p.startswith("services/") and
                  not p.startswith(f"services/{cid}/")]
        assert not others, (cid, others)
    assert "infra/main.tf" in paths["ledger"]  # shared Terraform covers every service


@pytest.mark.parametrize("events, covered", [
    ({"push": {"paths": ["services/a/**"], "paths_ignore": []}}, {"a"}),
    ({"push": {"paths": ["services/**"], "paths_ignore": []}}, {"a", "b"}),
    ({"push": {"paths": ["services/a/**"], "paths_ignore": []},
      "pull_request": {"paths": [], "paths_ignore": []}}, {"a", "b", "docs"}),  # PRs: any change
    ({"push": {"paths": [], "paths_ignore": ["services/b/**", "docs/**"]}}, {"a"}),
    ({"push": {"paths": ["**/*.py"], "paths_ignore": []}}, {"a", "b", "docs"}),
    ({"push": {"paths": ["services/a/kubify.yaml", "!services/b/**"], "paths_ignore": []}}, {"a"}),
    ({}, {"a", "b", "docs"}),
    ({"push": {"paths": ["helm-chart/**"], "paths_ignore": []}}, {"a", "b", "docs"}),  # shared
    ({"push": {"paths": [], "paths_ignore": ["services/**", "docs/**"]}}, set()),
])
def test_paths_filters_cover(events: dict[str, Any], covered: set[str]) -> None:
    comps = [Component("a", "a", "services/a"), Component("b", "b", "services/b"),
             Component("docs", "docs", "docs")]
    wf = Signal("github_actions", (Evidence(".github/workflows/x.yml", 1),), {"filters": [
        {"workflow": ".github/workflows/x.yml", "events": events, "jobs": []}]})
    assert _Coverage(comps, [wf])(Evidence(".github/workflows/x.yml", 1)) == covered


# --- configuration and the command line ------------------------------------------------------

def _scan_json(root: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = root.parent / "r.json"
    code = main(["scan", str(root), "--pack", "devex", "--format", "json", "-o", str(out),
                 "--no-cache", "-j", "0", *extra])
    return code, json.loads(out.read_text()) if code == 0 else {}


def test_config_includes_and_excludes_components(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "services/orders/kubify.yaml": KUBIFY.format(name="orders", deps="payments"),
        "services/legacy-billing/Dockerfile": "FROM scratch\n",
        "jobs/nightly/run.sh": "#!/bin/sh\n",
        ".maturity-scan.yaml": "components:\n  include: [\"jobs/*\"]\n"
                               "  exclude: [\"services/legacy-*\"]\n",
    })
    code, rep = _scan_json(root)  # the config alone turns components on
    assert code == 0
    report.validate(rep)
    assert [(c["name"], c["path"], c["source"]) for c in rep["components"]] == [
        ("nightly", "jobs/nightly", {"kind": "config", "path": ".maturity-scan.yaml", "line": 1}),
        ("orders", "services/orders", {"kind": "kubify", "path": "services/orders/kubify.yaml",
                                       "line": 4})]


@pytest.mark.parametrize("text, message", [
    ("components: 3\n", "components: expected a list of folder globs"),
    ("components: {only: [a]}\n", "components.only: unknown key"),
    ("components: {include: [1]}\n", "components.include: expected a list of strings"),
    ("components: [\"../elsewhere/*\"]\n", "components.include: ../elsewhere/*: must be a folder"),
    ("components: {exclude: [\"/abs\"]}\n", "components.exclude: /abs: must be a folder"),
])
def test_a_bad_components_config_is_exit_2_naming_file_and_key(
        tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = make(tmp_path, {".maturity-scan.yaml": text, "README.md": "# x\n"})
    assert main(["scan", str(root), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert ".maturity-scan.yaml" in err and message in err


def test_no_components_found_is_an_empty_list_and_text_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make(tmp_path, {"README.md": "# a library\n", "src/lib.py": "x = 1\n"})
    code, rep = _scan_json(root, "--components")
    assert code == 0 and rep["components"] == []
    assert main(["scan", str(root), "--components", "--no-cache", "-j", "0"]) == 0
    out = capsys.readouterr().out
    assert "COMPONENTS (0)" in out and "No components found" in out


def test_text_prints_the_table_then_each_component(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(MONOREPO), "--pack", "devex", "--components", "--no-cache",
                 "-j", "0"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("COMPONENTS (5)"):].splitlines()
    assert table[1].split() == ["COMPONENT", "PATH", "OWNER", "devex"]
    assert table[2].split() == ["ledger", "services/ledger", "-", "2"]
    assert table[4].split() == ["payments", "services/payments", "-", "4"]
    assert table[6].split() == ["web", "services/web", "team-web", "2"]
    detail = out[out.index("\nweb  ("):]
    assert "backstage services/web/catalog-info.yaml:4" in detail and "owner team-web" in detail
    assert "→ L2.5 Database schema changes are migrations" in detail
    repo_part = out[:out.index("COMPONENTS (5)")]
    assert "      component.without_kubify: ledger, search, web" in repo_part


def test_markdown_gets_the_table(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert main(["scan", str(MONOREPO), "--pack", "devex", "--components", "--no-cache", "-j",
                 "0", "--format", "markdown", "-o", str(out)]) == 0
    text = out.read_text()
    assert "| COMPONENT | PATH | OWNER | devex |" in text
    assert "| orders | services/orders | - | 4.5 |" in text


# --- diff and the gate, per component ----------------------------------------------------------


NO_BACKUP = (MONOREPO / "services/orders/kubify.yaml").read_text().replace(
    '    backup:\n      schedule: "0 2 * * *"\n', "")


def _diff(repo: Path, base: str, *extra: str) -> tuple[int, dict[str, Any]]:
    out = repo.parent / "diff.json"
    code = main(["diff", str(repo), "--base", base, "--head", "HEAD", "--pack", "devex",
                 "--format", "json", "-o", str(out), "--no-cache", "-j", "0", *extra])
    return code, json.loads(out.read_text())


def test_diff_fails_when_one_service_regresses_and_names_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "shop"
    shutil.copytree(MONOREPO, repo)
    init(repo)
    base = commit(repo, "five services")
    commit(repo, "orders: no more backups", {"services/orders/kubify.yaml": NO_BACKUP})
    assert NO_BACKUP != (MONOREPO / "services/orders/kubify.yaml").read_text()
    # the repository as a whole stays at 4 (it lacked kubify.yaml for three services already)
    code, plain = _diff(repo, base)
    assert code == 0 and plain["regressions"] == [] and "components" not in plain
    code, changes = _diff(repo, base, "--components")
    assert code == 1
    assert changes["regressions"] == []
    assert changes["component_regressions"] == [
        {"component": "orders", "name": "orders", "path": "services/orders",
         "dimension": "devex", "before": 4.5, "after": 4}]
    assert changes["gate"]["failures"] == [
        "component orders (services/orders): devex: level dropped from 4.5 to 4"]
    orders = next(c for c in changes["components"] if c["id"] == "orders")
    assert [r["requirement"] for r in orders["dimensions"][0]["requirements_lost"]] == [
        "devex.backup_restore"]
    assert main(["diff", str(repo), "--base", base, "--head", "HEAD", "--pack", "devex",
                 "--components", "--no-cache", "-j", "0"]) == 1
    captured = capsys.readouterr()
    assert "component orders (services/orders) devex: 4.5 -> 4  REGRESSED" in captured.out
    assert "component orders (services/orders): devex: level dropped from 4.5 to 4" in \
        captured.out + captured.err
    md = tmp_path / "diff.md"
    assert main(["diff", str(repo), "--base", base, "--head", "HEAD", "--pack", "devex",
                 "--components", "--no-cache", "-j", "0", "--format", "markdown",
                 "-o", str(md)]) == 1
    text = md.read_text()
    assert "| orders (services/orders) | devex | 4.5 | 4 | 🔻 lost devex.backup\\_restore |" in text
    assert "- component orders (services/orders): devex: level dropped from 4.5 to 4" in text


def test_diff_lists_components_added_and_removed_without_failing(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    shutil.copytree(MONOREPO, repo)
    init(repo)
    base = commit(repo, "five services")
    shutil.rmtree(repo / "services" / "ledger")
    (repo / "services" / "mail").mkdir()
    commit(repo, "ledger out, mail in", {"services/mail/Dockerfile": "FROM scratch\n"})
    code, changes = _diff(repo, base, "--components")
    assert code == 0, changes["gate"]
    assert changes["components_removed"] == [
        {"id": "ledger", "name": "ledger", "path": "services/ledger"}]
    assert changes["components_added"] == [{"id": "mail", "name": "mail", "path": "services/mail"}]


def test_a_hostile_component_name_cannot_drive_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make(tmp_path, {"services/x/catalog-info.yaml": CATALOG.format(
        name='"evil\\e[2J\\u202e"').replace("owner: team-", "owner: team")})
    assert main(["scan", str(root), "--components", "--no-cache", "-j", "0"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "\u202e" not in out
    assert "evil\\x1b[2J\\u202e" in out
    code, rep = _scan_json(root, "--components")
    assert rep["components"][0]["name"] == "evil\x1b[2J\u202e"  # JSON keeps it, escaped
    assert rep["components"][0]["id"] == "evil-2j"


def test_a_baseline_records_each_component_and_fails_the_one_below_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "shop"
    shutil.copytree(MONOREPO, repo)
    baseline = tmp_path / "baseline.json"
    assert main(["scan", str(repo), "--pack", "devex", "--components", "--no-cache", "-j", "0",
                 "--write-baseline", str(baseline)]) == 0
    recorded = json.loads(baseline.read_text())
    assert recorded["levels"] == {"devex": 4}
    assert recorded["components"]["orders"] == {"path": "services/orders",
                                                "levels": {"devex": 4.5}}
    (repo / "services/orders/kubify.yaml").write_text(NO_BACKUP)
    capsys.readouterr()
    args = ["scan", str(repo), "--pack", "devex", "--no-cache", "-j", "0", "--baseline",
            str(baseline)]
    assert main(args) == 0  # the repository as a whole did not drop
    assert main([*args, "--components"]) == 1
    assert "component orders (services/orders): devex: level 4 is below the baseline 4.5" in \
        capsys.readouterr().err


def test_a_job_or_step_working_directory_covers_that_component_only() -> None:
    comps = [Component("a", "a", "services/a"), Component("web", "web", "services/web")]
    wf = Signal("github_actions", (Evidence(".github/workflows/x.yml", 1),), {"filters": [
        {"workflow": ".github/workflows/x.yml", "events": {}, "jobs": [
            {"id": "lint", "line": 6, "matrix": [], "dir": "",
             "steps": [{"line": 9, "dir": "./services/web"}]},
            {"id": "a", "line": 12, "matrix": [], "dir": "services/a/src"}]}]})
    cover = _Coverage(comps, [wf])
    assert cover(Evidence(".github/workflows/x.yml", 9)) == {"web"}
    assert cover(Evidence(".github/workflows/x.yml", 10)) == {"a", "web"}  # the job's: anywhere
    assert cover(Evidence(".github/workflows/x.yml", 14)) == {"a"}
    assert cover(Evidence(".github/workflows/x.yml", 1)) == {"a", "web"}


def test_components_are_the_same_from_a_revision_and_from_the_cache(tmp_path: Path) -> None:
    repo = tmp_path / "shop"
    shutil.copytree(MONOREPO, repo)
    init(repo)
    rev = commit(repo, "five services")

    def levels(source: Any, **opts: Any) -> list[tuple[str, Any]]:
        rep = api.scan_report(source, "devex", ScanOptions(**{"jobs": 0, **opts}),
                              components=Components())
        return [(c["id"], c["path"], c["dimensions"][0]["level"]) for c in rep["components"]]

    want = levels(WorkTreeSource(repo), cache=False)
    assert want == levels(GitRevisionSource(repo, rev), cache=False)
    cache = tmp_path / "cache"
    assert want == levels(WorkTreeSource(repo), cache=True, cache_dir=cache)
    assert want == levels(GitRevisionSource(repo, rev), cache=True, cache_dir=cache)  # answered


def test_the_catalog_kind_is_read_as_backstage_reads_it_whatever_its_case(tmp_path: Path) -> None:
    root = make(tmp_path, {"services/a/catalog-info.yaml": CATALOG.format(name="a").replace(
        "kind: Component", "kind: component")})
    assert [c["name"] for c in components(scan_fixture(root))] == ["a"]


def test_explain_one_component(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["explain", str(MONOREPO), "devex", "--pack", "devex", "-j", "0"]
    assert main([*args, "--component", "services/ledger"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Developer experience (devex): level 2 of 5")
    assert "component ledger (services/ledger)" in out.splitlines()[0]
    assert "1. Database schema changes are migrations  [devex.schema_automation]" in out
    assert "services/orders" not in out  # nothing of another service
    assert main([*args, "--component", "orders", "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["level"] == 4.5
    assert main([*args, "--component", "nope"]) == 2
    assert "--component nope: no such component (components: ledger, orders, payments, " \
        "search, web)" in capsys.readouterr().err


@pytest.mark.parametrize("type_, configured, want", [
    (None, (), ("service",)), ("service", (), ("service",)), ("website", (), ("service",)),
    ("library", (), ("library",)), ("Documentation", (), ("docs",)), ("tool", (), ("cli",)),
    ("ml-model", (), ("service",)), ("library", ("operator",), ("operator",)),
])
def test_a_component_is_judged_as_its_catalog_type_says(
        type_: str | None, configured: tuple[str, ...], want: tuple[str, ...]) -> None:
    assert archetypes_for(Component("x", "x", "x", type=type_), configured) == want


@pytest.mark.parametrize("names, covered", [
    (["services/web"], {"web"}),
    (["services/web/src", "services/a"], {"a", "web"}),
    (["services"], {"a", "web"}),  # a folder above them: `pytest services`
    (["docs"], {"a", "web"}),  # no component's: the step stays the repository's
])
def test_a_step_naming_a_service_folder_covers_that_service(names: list[str],
                                                            covered: set[str]) -> None:
    comps = [Component("a", "a", "services/a"), Component("web", "web", "services/web")]
    wf = Signal("github_actions", (Evidence(".github/workflows/x.yml", 1),), {"filters": [
        {"workflow": ".github/workflows/x.yml", "events": {}, "jobs": [
            {"id": "build", "line": 6, "matrix": [], "dir": "",
             "steps": [{"line": 9, "names": names}]}]}]})
    assert _Coverage(comps, [wf])(Evidence(".github/workflows/x.yml", 9)) == covered


def test_two_services_of_one_name_are_told_apart(tmp_path: Path) -> None:
    """Ids stay unique, and whether each has its kubify.yaml is read from its own folder."""
    root = make(tmp_path, {"a/services/api/kubify.yaml": KUBIFY.format(name="api", deps=""),
                           "services/api/Dockerfile": "FROM scratch\n"})
    result = scan_source(WorkTreeSource(root), ScanOptions(jobs=0, cache=False, components=True))
    found = discover(result.signals, result.dirs)
    assert [(c.id, c.path, c.kubify) for c in found] == [
        ("api", "a/services/api", True), ("api-2", "services/api", False)]


def test_one_catalog_of_several_components_finds_their_folders_by_name(tmp_path: Path) -> None:
    several = "---\n".join(CATALOG.format(name=n) for n in ("orders", "web", "ghost"))
    root = make(tmp_path, {"catalog-info.yaml": several,
                           "services/orders/main.py": "print(1)\n",
                           "web/index.html": "<p>web</p>\n"})
    assert sorted((c["name"], c["path"]) for c in components(scan_fixture(root))) == [
        ("ghost", "."), ("orders", "services/orders"), ("web", "web")]


def test_hostile_globs_and_names_stay_linear(tmp_path: Path) -> None:
    """Workspace and config globs come from the repository: RE2, whatever their shape, and a
    folder name that is not UTF-8 is matched, not a crash."""
    evil = "/".join(["**"] * 40) + "/x"
    files = {f"packages/{'a/' * 30}b{i}/Dockerfile": "FROM scratch\n" for i in range(50)}
    files["package.json"] = json.dumps({"workspaces": ["packages/*"] + [evil] * 300})
    files[".maturity-scan.yaml"] = f"components:\n  include: [\"{evil}\"]\n" \
                                   f"  exclude: [\"{'**' * 50}y\"]\n"
    root = make(tmp_path, files)
    (root / "packages" / "caf\udcff").mkdir()  # a byte that is not UTF-8 in a folder name
    (root / "packages" / "caf\udcff" / "Dockerfile").write_text("FROM scratch\n")
    start = time.monotonic()
    code, rep = _scan_json(root)
    assert code == 0 and time.monotonic() - start < 30
    report.validate(rep)
    assert "packages/caf\ufffd" in {c["path"] for c in rep["components"]}


def test_a_call_chain_goes_where_it_runs() -> None:
    """A workflow line calling a shared reusable workflow runs only where the caller does; a
    root CI step running a service's Makefile target is that service's."""
    comps = [Component("orders", "orders", "services/orders"),
             Component("web", "web", "services/web")]
    filters = Signal("github_actions", (Evidence(".github/workflows/orders.yml", 1),), {
        "filters": [{"workflow": ".github/workflows/orders.yml", "jobs": [],
                     "events": {"push": {"paths": ["services/orders/**"], "paths_ignore": []}}}]})
    via_reusable = Signal("github_actions", (
        Evidence(".github/workflows/orders.yml", 9, "job build -> ./.github/workflows/_b.yml"),
        Evidence(".github/workflows/_b.yml", 12, "job b runs pytest")), {"runs_tests": True})
    via_make = Signal("github_actions", (
        Evidence(".github/workflows/ci.yml", 14, "job test -> make -C services/web test"),
        Evidence("services/web/Makefile", 3, "make test runs npm test")), {"runs_tests": True})
    shares = divide(comps, [filters, via_reusable, via_make])
    assert via_reusable in shares["orders"] and via_reusable not in shares["web"]
    assert via_make in shares["web"] and via_make not in shares["orders"]
    assert [s.evidence for s in shares["web"] if s.facts.get("runs_tests")] == [via_make.evidence]


@pytest.mark.parametrize("manifest, text", [
    ("Cargo.toml", '[workspace]\nmembers = [\n  "crates/*",\n]\n'),
    ("pyproject.toml", '[tool.uv.workspace]\nmembers = ["crates/*"]\n'),
    ("pnpm-workspace.yaml", 'packages:\n  - "crates/*"\n  - "!crates/lib"\n'),
    ("go.work", "go 1.22\n\nuse ./crates/api // the API\nuse ./crates/lib\n"),
])
def test_workspace_members_that_deploy_are_components(tmp_path: Path, manifest: str,
                                                      text: str) -> None:
    root = make(tmp_path, {manifest: text, "crates/api/Dockerfile": "FROM scratch\n",
                           "crates/lib/src/lib.rs": "pub fn x() {}\n"})
    (comp,) = components(scan_fixture(root))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "crates" in t)
    assert comp == {"name": "api", "path": "crates/api", "source": "workspace",
                    "file": manifest, "line": line, "owner": None, "type": None,
                    "depends_on": [], **({"namespace": None} if "namespace" in comp else {})}


def test_a_workspace_member_with_a_start_script_is_a_component(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "package.json": '{"private": true, "workspaces": ["packages/*"]}\n',
        "packages/server/package.json": '{"scripts": {"start": "node dist/main.js"}}\n',
        "packages/lib/package.json": '{"scripts": {"build": "tsc"}}\n',
        "examples/demo/package.json": '{"scripts": {"start": "vite"}}\n',  # no member
    })
    assert [(c["name"], c["path"], c["source"]) for c in components(scan_fixture(root))] == [
        ("server", "packages/server", "workspace")]


def test_compose_build_contexts_are_components_when_nothing_else_finds_them(
        tmp_path: Path) -> None:
    root = make(tmp_path, {
        "client/Dockerfile": "FROM node:20\n",
        "server/app.py": "print(1)\n",
        "services/orders/kubify.yaml": KUBIFY.format(name="orders", deps=""),
        "services/orders/worker/Dockerfile": "FROM scratch\n",
        "tests/fixtures/stack/Dockerfile": "FROM scratch\n",
        "tests/fixtures/docker-compose.yml": "services:\n  fake:\n    build: ./stack\n"
                                             "  up:\n    build: ../../client\n",
        "compose.yaml": "services:\n  web:\n    build: ./client\n  api:\n    build:\n"
                        "      context: server\n  worker:\n    build: ./services/orders/worker\n"
                        "  all:\n    build: ./services\n",
    })
    code, rep = _scan_json(root, "--components")
    assert code == 0
    report.validate(rep)  # "compose" is a source kind of the contract
    assert [(c["name"], c["path"], c["source"]) for c in rep["components"]] == [
        ("web", "client", {"kind": "compose", "path": "compose.yaml", "line": 3}),
        ("api", "server", {"kind": "compose", "path": "compose.yaml", "line": 5}),
        ("orders", "services/orders", {"kind": "kubify", "path": "services/orders/kubify.yaml",
                                       "line": 4})]
    # inside (worker) or above (services) another component's folder, or test data: none
    broken = json.loads(json.dumps(rep))
    broken["components"][0]["source"]["kind"] = "compose-file"
    import jsonschema
    with pytest.raises(jsonschema.ValidationError):
        report.validate(broken)


def test_a_hostile_component_name_is_escaped_in_the_markdown_and_html_tables(
        tmp_path: Path) -> None:
    root = make(tmp_path, {"services/x/catalog-info.yaml": CATALOG.format(
        name='"a|b <img src=x onerror=alert(1)> [c](http://e) **b**\\e[2J\\nx"').replace(
        "owner: team-", "owner: \"t|<script>\"\n  x: ")})
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    assert main(["scan", str(root), "--components", "--pack", "devex", "--no-cache", "-j", "0",
                 "-o", f"markdown={md}", "-o", f"html={page}"]) == 0
    row = next(line for line in md.read_text().splitlines() if "services/x" in line)
    assert row == ("| a\\|b \\<img src=x onerror=alert(1)\\> \\[c\\](http://e) \\*\\*b\\*\\*"
                   "\\\\x1b\\[2J\\\\x0ax | services/x | t\\|\\<script\\> | 1 |")
    html = page.read_text()
    assert "<img src=x" not in html and "<script>" not in html and "\x1b" not in html
    assert ">a|b &lt;img src=x onerror=alert(1)&gt; [c](http://e) **b**\\x1b[2J\\x0ax</a>" in html


def test_skaffold_artifacts_are_components_with_their_source_kind(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "fixtures/components/positive_skaffold_builds", root)
    (root / "expected.yaml").unlink()
    code, rep = _scan_json(root, "--components")
    assert code == 0
    report.validate(rep)  # "skaffold" is a source kind of the contract
    assert [(c["name"], c["path"], c["source"]["kind"]) for c in rep["components"]] == [
        ("checkout", "checkout", "skaffold"), ("cart", "services/cart", "services_root"),
        ("admin-ui", "ui/admin", "skaffold")]


def test_a_component_not_applicable_says_where_its_archetype_came_from(
        tmp_path: Path) -> None:
    root = make(tmp_path, {
        "services/handbook/catalog-info.yaml": CATALOG.format(name="handbook").replace(
            "type: service", "type: documentation"),
        "services/api/Dockerfile": "FROM scratch\n",
    })
    code, rep = _scan_json(root, "--components", "--pack", "devops")
    assert code == 0
    iac = {c["id"]: next(d for d in c["dimensions"] if d["id"] == "iac")
           for c in rep["components"]}
    assert iac["handbook"]["level"] is None
    reasons = json.dumps(iac["handbook"])
    assert "this component is a documentation site (its catalog spec.type documentation)" in \
        reasons, reasons
    assert "archetype:" not in reasons
    (root / ".maturity-scan.yaml").write_text("archetype: docs\n")
    code, rep = _scan_json(root, "--components", "--pack", "devops")
    assert "this component is a documentation site (as configured (archetype:))" in json.dumps(
        rep["components"])
