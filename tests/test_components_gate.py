"""The gate's floors per component (issue 15): `scan --components --fail-under DIM=N` (or a
config `gate: fail_under:`) fails when any component is below a floor, naming each component
and dimension; a dimension not applicable to a component never fails it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from maturity_scan.cli import main
from tests.gitrepo import commit, init

ROOT = Path(__file__).resolve().parent.parent
MONOREPO = ROOT / "fixtures" / "repos" / "kubify-monorepo"
SCAN = ["--no-cache", "-j", "0"]
# devex levels in the fixture monorepo: orders 4.5, payments 4, search 3.5, ledger 2, web 2;
# the repository 4
BELOW_4 = ["component ledger (services/ledger): devex: level 2 is below the floor 4",
           "component search (services/search): devex: level 3.5 is below the floor 4",
           "component web (services/web): devex: level 2 is below the floor 4"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(MONOREPO, root)
    return root


def _failures(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines()[1:] if line.startswith("  ")]


def test_fail_under_fails_each_component_below_and_names_it(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["scan", str(repo), "--pack", "devex", "--fail-under", "devex=4", *SCAN]
    assert main(args) == 0  # the repository alone is at 4
    capsys.readouterr()
    assert main([*args, "--components"]) == 1
    err = capsys.readouterr().err
    assert "gate failed:" in err
    assert _failures(err) == BELOW_4  # orders (4.5) and payments (4) pass
    assert main(["scan", str(repo), "--pack", "devex", "--fail-under", "devex=2", "--components",
                 *SCAN]) == 0


def test_a_config_gate_floor_fails_components_too(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".maturity-scan.yaml").write_text(
        "pack: devex\ncomponents: [\"services/*\"]\ngate:\n  fail_under: {devex: 4}\n")
    assert main(["scan", str(repo), *SCAN]) == 1  # `components:` turns them on
    assert _failures(capsys.readouterr().err) == BELOW_4
    # --fail-under overrides the config's floor, for the components as for the repository
    assert main(["scan", str(repo), "--fail-under", "devex=3.5", *SCAN]) == 1
    assert _failures(capsys.readouterr().err) == [
        f.replace("floor 4", "floor 3.5") for f in BELOW_4 if "search" not in f]


def test_a_dimension_not_applicable_to_a_component_never_fails_it(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = repo / "services/web/catalog-info.yaml"  # web: documentation, no iac/data
    catalog.write_text(catalog.read_text().replace("type: website", "type: documentation"))
    out = repo.parent / "r.json"
    assert main(["scan", str(repo), "--pack", "devops", "--components", "--fail-under",
                 "iac=3,data=3", "--format", "json", "-o", str(out), *SCAN]) == 1
    web = next(c for c in json.loads(out.read_text())["components"] if c["id"] == "web")
    assert {d["id"]: d["level"] for d in web["dimensions"]}["iac"] is None
    failures = _failures(capsys.readouterr().err)
    assert "iac: level 2 is below the floor 3" in failures  # the repository's own
    assert [f for f in failures if "web" in f] == []
    assert "component ledger (services/ledger): data: level 1 is below the floor 3" in failures
    assert "component search (services/search): data: level 2 is below the floor 3" in failures
    assert not any(f.startswith("component orders") and "data" in f for f in failures)


def test_diff_json_and_markdown_carry_the_component_floors(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo)
    base = commit(repo, "five services")
    commit(repo, "docs", {"README.md": (repo / "README.md").read_text() + "\nMore.\n"})
    out, md = repo.parent / "diff.json", repo.parent / "diff.md"
    assert main(["diff", str(repo), "--base", base, "--head", "HEAD", "--pack", "devex",
                 "--components", "--fail-under", "devex=4", "-o", f"json={out}",
                 "-o", f"markdown={md}", *SCAN]) == 1
    gate = json.loads(out.read_text())["gate"]
    assert gate == {"passed": False, "failures": BELOW_4}
    assert _failures(capsys.readouterr().err) == BELOW_4
    summary = md.read_text()  # the pull request's step summary (the GitHub Action's)
    assert all(f"- {f}" in summary for f in BELOW_4), summary


def test_a_hostile_component_name_in_a_floor_failure_is_shown_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    (root / "services/x").mkdir(parents=True)
    (root / "services/x/catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n"
        "  name: \"evil\\e[2J\"\nspec:\n  type: service\n")
    assert main(["scan", str(root), "--pack", "devex", "--components", "--fail-under",
                 "devex=5", *SCAN]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert "component evil\\x1b[2J (services/x): devex: level" in err
