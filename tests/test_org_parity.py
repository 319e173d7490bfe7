"""An org scan tells the same truth as `maturity-scan scan` on a clone: each repository's report
in OUT/repos equals the local scan's (pack, levels, signals with their evidence and facts),
for release tags, 90-day history, the repository's config (exclude, waivers, its own rule
folder, its pack) and a missing default branch. Real git behind the loopback GitHub server."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from maturity_scan.org import github, run as org
from maturity_scan.report import safe_name
from tests.github_server import GitHubServer

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400
WF = ("on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
      "      - uses: actions/checkout@v4\n      - run: pytest -q\n      - run: docker build .\n")
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
DOCKERFILE = "FROM python:3.12-slim\nUSER 1000\nCMD [\"python\", \"-m\", \"app\"]\n"
BASE = {"README.md": "# svc\n\n## Getting started\n\nmake dev\n", "src/app.py": "print(1)\n",
        ".github/workflows/ci.yml": WF, "tests/test_app.py": "def test_ok():\n    pass\n",
        "Dockerfile": DOCKERFILE}


def build(server: GitHubServer) -> None:
    now = int(time.time())
    server.state.root.mkdir(parents=True, exist_ok=True)
    # tags every month for half a year, a commit every 10 days, two authors, PR merges
    server.add_repo("acme", "tagged", None)
    for n, age in enumerate(range(200, 0, -10)):
        server.push("acme", "tagged", {**BASE, "src/app.py": f"print({n})\n"},
                    message=f"feat: change {n} (#{n + 1})" if n % 2 else f"fix: thing {n}",
                    when=now - age * DAY, author=f"dev{n % 2}@example.com",
                    tag=f"v1.{n // 3}.0" if n % 3 == 0 else None)
    # exclude: the infra folder is not scanned
    server.add_repo("acme", "excluded", {**BASE, "infra/main.tf": TF,
                                         ".maturity-scan.yaml": "exclude: ['infra/**']\n"})
    # waivers
    server.add_repo("acme", "waived", {**BASE, "infra/main.tf": TF, ".maturity-scan.yaml":
                                       "waive:\n  iac.versions_pinned: pinned by the platform\n"})
    # the repository's own rule folder (a devops pack under another title) and its pack
    pack = (ROOT / "rules" / "devops.yaml").read_text().replace(
        "\ntitle:", "\ntitle: Acme DevOps #", 1)
    server.add_repo("acme", "ownrules", {**BASE, "ci/rules/devops.yaml": pack,
                                         ".maturity-scan.yaml": "rules: [ci/rules]\n"})
    server.add_repo("acme", "pyproj", {**BASE, "pyproject.toml":
                                       "[project]\nname = 'x'\n[tool.maturity-scan]\n"
                                       "pack = 'devex'\n"})


def local_scan(bare: Path, tmp: Path) -> dict[str, Any]:
    work = tmp / f"clone-{bare.stem}"
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True,
                   capture_output=True)
    done = subprocess.run([sys.executable, "-m", "maturity_scan", "scan", str(work), "--format",
                           "json"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "XDG_CACHE_HOME": str(tmp / "xdg")})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["target"]["revision"] is None  # a work tree: say which commit it holds
    report["target"]["revision"] = subprocess.run(
        ["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True,
        check=True).stdout.strip()
    return report


def essence(report: dict[str, Any]) -> dict[str, Any]:
    return {"pack": report["pack"], "pack_title": report["pack_title"],
            "revision": report["target"]["revision"],
            "levels": {d["id"]: d["level"] for d in report["dimensions"]},
            "statuses": {d["id"]: sorted(json.dumps(r, sort_keys=True)
                                         for r in d.get("requirements", []))
                         for d in report["dimensions"]},
            "signals": sorted(json.dumps({"kind": s["kind"], "facts": s["facts"],
                                          "paths": sorted({e["path"] for e in s["evidence"]})},
                                         sort_keys=True) for s in report["signals"]),
            "errors": sorted(e["path"] for e in report["errors"])}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("parity")
    with GitHubServer(tmp / "srv") as server:
        build(server)
        out = tmp / "out"
        summary = org.run(org.OrgSettings("acme", out, tmp / "cache", workers=2),
                          github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                          github.Filters(), log=lambda s: None)
        yield server, tmp, out, summary


@pytest.mark.parametrize("name", ["tagged", "excluded", "waived", "ownrules", "pyproj"])
def test_each_org_report_equals_a_local_scan_of_a_clone(scanned: Any, name: str) -> None:
    server, tmp, out, summary = scanned
    status = {r["repository"]: r for r in summary["repositories"]}
    assert status[f"acme/{name}"]["status"] == "scanned", status[f"acme/{name}"]
    remote = json.loads((out / "repos" / f"acme_{name}.json").read_text())
    local = local_scan(server.state.root / "acme" / f"{name}.git", tmp)
    assert essence(remote) == essence(local)


def test_each_org_report_says_when_and_which_commit(scanned: Any) -> None:
    """Like a local scan's report (cli.checks.stamp): `scanned_at` and `target.commit`."""
    server, tmp, out, summary = scanned
    for r in summary["repositories"]:
        if r["status"] != "scanned":
            continue
        rep = json.loads((out / "repos" / f"{safe_name(r['repository'])}.json").read_text())
        assert rep["target"]["commit"] == rep["target"]["revision"] == r["revision"]
        when = datetime.datetime.fromisoformat(rep["scanned_at"])
        assert when.utcoffset() == datetime.timedelta(0)
        assert abs(datetime.datetime.now(datetime.timezone.utc) - when).total_seconds() < 3600
        assert r["scanned_at"] == rep["scanned_at"]  # org.json says it per repository too
    assert summary["scanned_at"].endswith("Z")  # org.json
    # a rerun keeps each unchanged repository's report, and says when that was made
    again = org.run(org.OrgSettings("acme", out, tmp / "cache", workers=2),
                    github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                    github.Filters(), log=lambda s: None)
    before = {r["repository"]: r for r in summary["repositories"]}
    kept = [r for r in again["repositories"] if r["status"] == "unchanged"]
    assert kept and all(r["scanned_at"] == before[r["repository"]]["scanned_at"] for r in kept)


def test_history_config_and_packs_took_effect(scanned: Any) -> None:
    _, _, out, summary = scanned

    def report(name: str) -> dict[str, Any]:
        return json.loads((out / "repos" / f"acme_{name}.json").read_text())

    kinds = {s["kind"]: s["facts"] for s in report("tagged")["signals"]}
    assert kinds["release_tags"]["count"] == 7 and kinds["release_tags"]["latest"] == "v1.6.0"
    assert kinds["git_history"]["commits_90d"] == 10
    assert kinds["git_history"]["contributors_90d"] == 2
    assert not any(s["kind"].startswith("terraform") for s in report("excluded")["signals"])
    assert any(s["kind"].startswith("terraform") for s in report("waived")["signals"])
    assert report("ownrules")["pack_title"].startswith("Acme DevOps")
    assert report("pyproj")["pack"] == "devex"
    # the summary averages the run's pack only; the devex repository keeps its own levels
    pyproj = next(r for r in summary["repositories"] if r["repository"] == "acme/pyproj")
    assert pyproj["pack"] == "devex" and summary["pack"] == "devops"
