"""`maturity-scan history` over tagged releases: table, CSV, JSON and an SVG chart."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import commit, git, init

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ("on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: pytest\n")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_scan", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def tagged(tmp_path: Path) -> Path:
    repo = init(tmp_path / "repo")
    commit(repo, "start", {"README.md": "# x\n"}, date="2026-01-01T00:00:00")
    git(repo, "tag", "v0.1.0")
    commit(repo, "ci", {".github/workflows/ci.yml": WORKFLOW}, date="2026-02-01T00:00:00")
    git(repo, "tag", "v0.2.0")
    commit(repo, "infra", {"main.tf": 'terraform {\n  backend "s3" {}\n}\n'},
           date="2026-03-01T00:00:00")
    git(repo, "tag", "v1.0.0")
    return repo


def test_history_at_tags(tmp_path: Path) -> None:
    repo = tagged(tmp_path)
    done = run("history", str(repo), "--tags", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["label"] for r in rows] == ["v0.1.0", "v0.2.0", "v1.0.0"]
    assert [r["delivery"] for r in rows] == ["1", "2", "2"]
    assert [r["iac"] for r in rows] == ["1", "1", "2"]
    table = run("history", str(repo), "--tags")
    assert table.stdout.splitlines()[0].split()[:3] == ["revision", "date", "iac"]
    assert "v1.0.0" in table.stdout and "2026-03-01" in table.stdout
    body = json.loads(run("history", str(repo), "--last", "2", "--format", "json").stdout)
    assert len(body["rows"]) == 2 and body["pack"] == "devops"


def test_history_chart_has_axes_and_one_series_per_dimension(tmp_path: Path) -> None:
    repo = tagged(tmp_path)
    svg = tmp_path / "levels.svg"
    done = run("history", str(repo), "--tags", "--chart", str(svg))
    assert done.returncode == 0, done.stderr
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    series = set(re.findall(r'id="series-([a-z_]+)"', text))
    assert series == {"iac", "delivery", "quality", "security", "architecture",
                      "observability", "devex", "data"}
    for label in ("revision", "level", "v0.1.0", "v1.0.0"):
        assert label in text or _glyphs(text, label)


def _glyphs(svg: str, label: str) -> bool:
    """matplotlib writes text as paths with the string in a comment."""
    return f"<!-- {label} -->" in svg


def test_history_usage_errors(tmp_path: Path) -> None:
    repo = tagged(tmp_path)
    assert run("history", str(repo), "--tags", "--last", "3").returncode == 2
    plain = tmp_path / "plain"
    plain.mkdir()
    done = run("history", str(plain))
    assert done.returncode == 2 and "not a git repository" in done.stderr
