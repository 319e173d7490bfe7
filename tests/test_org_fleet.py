"""The fleet over time: each run into OUT leaves a snapshot (OUT/history/*.json), the next one
says what regressed (repository, dimension, the requirement lost), improved, appeared or went,
draws the trend (inline SVG, org-trend.svg), and `--fail-on-regression` exits 1. Per-team
levels and the "fix first" ranking. Real git behind the loopback GitHub server."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from maturity_scan.org import github, run as org
from maturity_scan.reporters import org as org_report
from tests.github_server import GitHubServer
from tests.test_org import CANARY, run_cli as org_cli

TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
WF = ("on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
      "      - run: pytest -q\n")
README = "# svc\n\n## Getting started\n\nmake dev\n"


@pytest.fixture
def server(tmp_path: Path):
    with GitHubServer(tmp_path / "srv") as srv:
        srv.state.root.mkdir(parents=True, exist_ok=True)
        yield srv


def run_cli(server: GitHubServer, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return org_cli(server, out, *extra, workers=2)


def test_a_pushed_regression_is_named_and_fails_the_run(server: GitHubServer,
                                                        tmp_path: Path) -> None:
    server.add_repo("acme", "infra", {"README.md": README, "infra/main.tf": TF})
    server.add_repo("acme", "web", {"README.md": README, "src/app.py": "print(1)\n"})
    server.add_repo("acme", "old", {"README.md": README})
    out = tmp_path / "out"
    first = run_cli(server, out, "--fail-on-regression")
    assert first.returncode == 0, first.stderr
    assert "First run into this folder" in (out / "org.md").read_text()
    before = json.loads((out / "org.json").read_text())
    levels = {r["repository"]: r["levels"] for r in before["repositories"]}

    # infra loses its Terraform, web gains CI and tests, old is gone, api is new
    server.push("acme", "infra", {"README.md": README + "\nno more infra\n"},
                delete=("infra/main.tf",))
    server.push("acme", "web", {".github/workflows/ci.yml": WF,
                                "tests/test_app.py": "def test_ok():\n    pass\n"})
    server.state.repos["acme"] = [r for r in server.state.repos["acme"] if r["name"] != "old"]
    server.add_repo("acme", "api", {"README.md": README})
    second = run_cli(server, out, "--fail-on-regression")
    assert second.returncode == 1, second.stderr
    assert "acme/infra" in second.stderr and "regressed" in second.stderr
    summary = json.loads((out / "org.json").read_text())
    change = summary["change"]
    assert change["since"] == before["scanned_at"]
    regressed = [r for r in change["regressed"] if r["repository"] == "acme/infra"]
    assert [r["dimension"] for r in regressed] == ["iac"]
    assert regressed[0]["from"] == levels["acme/infra"]["iac"] > regressed[0]["to"]
    assert regressed[0]["lost"], regressed
    assert any(r["repository"] == "acme/web" and r["dimension"] == "delivery"
               for r in change["improved"])
    assert change["new"] == ["acme/api"] and change["gone"] == ["acme/old"]
    md = (out / "org.md").read_text()
    lost = regressed[0]["lost"][0]
    line = next(ln for ln in md.splitlines() if ln.startswith("- acme/infra: iac"))
    assert lost["requirement"] in line and lost["title"] in line
    assert "**New:** acme/api" in md and "**Gone:** acme/old" in md
    # history: two small snapshots; the trend has two runs, drawn inline and on its own
    snaps = sorted((out / "history").glob("*.json"))
    assert len(snaps) == 2 and all(p.stat().st_size < 20_000 for p in snaps)
    assert len(summary["trend"]) == 2
    svg = (out / "org-trend.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") >= 1
    page = (out / "org.html").read_text()
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0] \
        .replace("http://www.w3.org/2000/svg", "")
    assert "Regressed" in page and "acme/infra" in page and lost["requirement"] in page
    assert "aria-sort" in page and "<button type=button>" in page
    assert summary["scanned_at"] in page and summary["tool_version"] in page
    # a run with nothing changed since: no regression, exit 0
    third = run_cli(server, out, "--fail-on-regression")
    assert third.returncode == 0, third.stderr
    assert "No change." in (out / "org.md").read_text()
    assert CANARY not in "".join(p.read_text() for p in (out / "history").glob("*.json"))


def _run(server: GitHubServer, tmp_path: Path, **settings: object) -> dict:
    return org.run(org.OrgSettings("acme", tmp_path / "out", tmp_path / "cache", workers=2,
                                   **settings),  # type: ignore[arg-type]
                   github.Client(f"{server.url}/api", CANARY, sleep=lambda s: None),
                   github.Filters(), log=lambda s: None,
                   outputs=org.Outputs(files=org_report.FILES))


def _fleet(server: GitHubServer) -> None:
    server.add_repo("acme", "infra", {"README.md": README, "infra/main.tf": TF,
                                      ".github/CODEOWNERS": "* @acme/platform\n"})
    server.add_repo("acme", "api", {"README.md": README, "src/app.py": "print(1)\n",
                                    ".github/workflows/ci.yml": WF,
                                    "CODEOWNERS": "*  @acme/platform @acme/api # both\n"
                                                  "/docs/ @acme/docs\n"})
    server.add_repo("acme", "web", {"README.md": README, "docs/CODEOWNERS": "/web @acme/web\n"})


def test_levels_per_github_team(server: GitHubServer, tmp_path: Path) -> None:
    _fleet(server)
    server.state.teams["acme"] = {"platform": ["infra", "api"], "frontend": ["web"],
                                  "nobody": []}
    summary = _run(server, tmp_path, teams=True)
    assert "/api/orgs/acme/teams" in server.state.api_calls
    assert "/api/orgs/acme/teams/platform/repos" in server.state.api_calls
    levels = {r["repository"]: r["levels"] for r in summary["repositories"]}
    rows = {t["team"]: t for t in summary["teams"]}
    assert summary["teams_source"] == "team" and set(rows) == {"platform", "frontend", "nobody"}
    assert rows["platform"]["members"] == ["acme/api", "acme/infra"]
    assert rows["platform"]["mean"]["iac"] == round(
        (levels["acme/infra"]["iac"] + levels["acme/api"]["iac"]) / 2, 2)
    assert rows["frontend"]["mean"] == levels["acme/web"]
    assert rows["nobody"]["repositories"] == 0 and set(rows["nobody"]["mean"].values()) == {None}
    md = (tmp_path / "out" / "org.md").read_text()
    assert "## Per team" in md and "| platform | 2 |" in md
    assert ">Per team</h2>" in (tmp_path / "out" / "org.html").read_text()


def test_codeowners_owners_when_there_are_no_teams(server: GitHubServer,
                                                   tmp_path: Path) -> None:
    _fleet(server)  # no teams: /orgs/acme/teams answers 404
    summary = _run(server, tmp_path, teams=True)
    assert summary["teams_source"] == "CODEOWNERS owner"
    rows = {t["team"]: t["members"] for t in summary["teams"]}
    # the catch-all rule's owners; without one, every owner named
    assert rows == {"@acme/api": ["acme/api"], "@acme/platform": ["acme/api", "acme/infra"],
                    "@acme/web": ["acme/web"]}
    # a re-run keeps the owners of unchanged repositories
    again = _run(server, tmp_path, teams=True)
    assert again["counts"] == {"unchanged": 3}
    assert {t["team"]: t["members"] for t in again["teams"]} == rows


def test_fix_first_ranks_requirements_by_the_levels_they_unlock(server: GitHubServer,
                                                                tmp_path: Path) -> None:
    _fleet(server)
    summary = _run(server, tmp_path)
    # the same ranking computed from the reports themselves
    score: dict[str, float] = {}
    alone: dict[str, int] = {}
    lifts: dict[str, set[str]] = {}
    for path in (tmp_path / "out" / "repos").glob("*.json"):
        if path.name.endswith(".key.json"):
            continue
        report = json.loads(path.read_text())
        name = {"acme_infra": "acme/infra", "acme_api": "acme/api", "acme_web": "acme/web"}[
            path.stem]
        for d in report["dimensions"]:
            missing = {m["requirement"] for m in (d.get("next") or {}).get("missing", [])}
            if d["level"] is None:
                continue
            for rid in missing:
                score[rid] = score.get(rid, 0) + 1 / len(missing)
                alone[rid] = alone.get(rid, 0) + (len(missing) == 1)
                lifts.setdefault(rid, set()).add(name)
    ranked = sorted(score, key=lambda rid: (-score[rid], -alone[rid], rid))[:10]
    fix = summary["fix_first"]
    assert [f["requirement"] for f in fix] == ranked
    for f in fix:
        assert f["score"] == round(score[f["requirement"]], 2)
        assert f["alone"] == alone[f["requirement"]]
        assert set(f["repositories"]) == lifts[f["requirement"]]
    assert fix[0]["score"] >= fix[-1]["score"] and any(f["alone"] for f in fix)
    md = (tmp_path / "out" / "org.md").read_text()
    assert "## Fix first" in md and f"`{fix[0]['requirement']}`" in md
    assert fix[0]["requirement"] in (tmp_path / "out" / "org.html").read_text()
