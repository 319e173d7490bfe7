"""The CI gate on real git repositories: diffs between revisions, baselines, floors, the
incomplete-scan policy, policy taken from the base, Markdown and SARIF output."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.gitrepo import commit, git, init

ROOT = Path(__file__).resolve().parent.parent
TF = ('terraform {\n  required_version = ">= 1.6"\n  backend "s3" {\n    bucket = "state"\n  }\n}\n'
      'resource "aws_s3_bucket" "logs" {}\n')
TF_NO_BACKEND = 'terraform {\n  required_version = ">= 1.6"\n}\nresource "aws_s3_bucket" "logs" {}\n'
TRIVY = """      - uses: aquasecurity/trivy-action@0.16.1
        with:
          scan-type: fs
"""
WORKFLOW = """name: ci
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: terraform fmt -check && terraform validate
      - run: pytest -q
{trivy}      - uses: github/codeql-action/init@v3
        with:
          languages: python
      - uses: github/codeql-action/analyze@v3
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: helm upgrade --install app charts/app
"""
BASE_FILES = {
    "infra/main.tf": TF, "infra/.terraform.lock.hcl": "# lock\n",
    ".github/workflows/ci.yml": WORKFLOW.format(trivy=TRIVY),
    "SECURITY.md": "# Security\n\nReport vulnerabilities to security@example.com.\n",
    "release-please-config.json": '{"packages": {".": {}}}\n',
    "tests/test_app.py": "def test_ok():\n    assert True\n",
    "README.md": "# app\n",
}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_scan", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=300)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = init(tmp_path / "repo")
    commit(r, "base", BASE_FILES)
    return r


def levels(done: subprocess.CompletedProcess[str]) -> dict[str, tuple[float, float]]:
    body = json.loads(done.stdout)
    return {d["id"]: (d["before"], d["after"]) for d in body["dimensions"]}


def test_no_change_passes(repo: Path) -> None:
    commit(repo, "docs", {"README.md": "# app\n\nMore words.\n"})
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["regressions"] == [] and body["gate"]["passed"]
    assert levels(done)["iac"] == (3, 3)


def test_dropping_the_terraform_backend_fails_with_what_was_lost(repo: Path) -> None:
    commit(repo, "drop backend", {"infra/main.tf": TF_NO_BACKEND})
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert done.returncode == 1
    body = json.loads(done.stdout)
    assert body["regressions"] == ["iac"]
    iac = next(d for d in body["dimensions"] if d["id"] == "iac")
    assert (iac["before"], iac["after"]) == (3, 2)
    lost = {r["requirement"]: r for r in iac["requirements_lost"]}
    assert {"path": "infra/main.tf", "line": 3, "detail": "backend s3"} in \
        lost["iac.remote_state"]["evidence"]
    assert "iac: level dropped from 3 to 2" in done.stderr


def test_deleting_the_workflow_fails_and_names_the_removed_evidence(repo: Path) -> None:
    commit(repo, "drop ci", remove=(".github/workflows/ci.yml",))
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD")
    assert done.returncode == 1
    assert "delivery" in done.stdout and "REGRESSED" in done.stdout
    assert "evidence removed: github_actions (.github/workflows/ci.yml)" in done.stdout


def test_removing_the_trivy_step_drops_security(repo: Path) -> None:
    commit(repo, "no trivy", {".github/workflows/ci.yml": WORKFLOW.format(trivy="")})
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--format", "markdown")
    assert done.returncode == 1
    md = done.stdout
    assert "❌ maturity regressed" in md
    assert "| Security and compliance | 3 | 2 | 🔻 |" in md
    assert "`.github/workflows/ci.yml:" in md  # where the lost evidence was


def test_working_tree_is_the_default_head(repo: Path) -> None:
    (repo / "infra" / "main.tf").write_text(TF_NO_BACKEND)
    done = run("diff", str(repo), "--base", "HEAD", "--format", "json")
    assert done.returncode == 1 and json.loads(done.stdout)["head"]["revision"] is None


def test_policy_comes_from_the_base_not_the_change(repo: Path) -> None:
    commit(repo, "policy", {".maturity-scan.yaml": "gate:\n  fail_under: {security: 3}\n"})
    commit(repo, "lower the bar and drop trivy", {
        ".maturity-scan.yaml": "gate:\n  fail_under: {security: 1}\nwaive:\n"
                               "  security.dependency_or_image_scanning: not needed\n",
        ".github/workflows/ci.yml": WORKFLOW.format(trivy="")})
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD")
    assert done.returncode == 1
    assert "security: level 2 is below the floor 3" in done.stderr


def test_missing_base_says_what_to_fetch(repo: Path) -> None:
    done = run("diff", str(repo), "--base", "0" * 40)
    assert done.returncode == 2
    assert "git fetch --no-tags --depth=1 origin" in done.stderr


def test_incomplete_scan_fails_unless_allowed(repo: Path) -> None:
    commit(repo, "broken", {".github/workflows/ci.yml": WORKFLOW.format(trivy=TRIVY) + "  : [\n"})
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD")
    assert done.returncode == 1
    assert "incomplete scan" in done.stderr and ".github/workflows/ci.yml" in done.stderr
    relaxed = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--allow-incomplete")
    assert "incomplete scan" not in relaxed.stderr


def test_sarif_is_valid_and_locates_the_regression(repo: Path) -> None:
    commit(repo, "drop backend", {"infra/main.tf": TF_NO_BACKEND})
    done = run("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--format", "sarif")
    assert done.returncode == 1
    log = json.loads(done.stdout)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    errors = [r for r in log["runs"][0]["results"] if r["level"] == "error"]
    assert errors[0]["ruleId"] == "iac.remote_state"
    where = errors[0]["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "infra/main.tf" and where["region"]["startLine"] >= 1
    rules = {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert "iac.remote_state" in rules and "delivery.ci_pipeline" in rules


def test_baseline_and_fail_under(repo: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    done = run("scan", str(repo), "--write-baseline", str(baseline), "--format", "json")
    assert done.returncode == 0, done.stderr
    saved = json.loads(baseline.read_text())
    assert saved["pack"] == "devops" and saved["levels"]["iac"] == 3
    (repo / "infra" / "main.tf").write_text(TF_NO_BACKEND)
    below = run("scan", str(repo), "--baseline", str(baseline))
    assert below.returncode == 1 and "iac: level 2 is below the baseline 3" in below.stderr
    floor = run("scan", str(repo), "--fail-under", "iac=2,security=4")
    assert floor.returncode == 1
    assert "security: level 3 is below the floor 4" in floor.stderr
    assert "iac" not in floor.stderr.split("gate failed")[1]
    bad = run("scan", str(repo), "--fail-under", "nope=2")
    assert bad.returncode == 2 and "--fail-under: nope: unknown dimension" in bad.stderr


def test_markdown_scan_report(repo: Path) -> None:
    done = run("scan", str(repo), "--format", "markdown")
    assert done.returncode == 0
    assert "| Infrastructure as code | 3 / 5" in done.stdout
