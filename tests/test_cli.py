"""The command line contract: formats, exit codes, one clear line on stderr."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from maturity_scan import report
from maturity_scan.cli import main
from tests.gitrepo import commit, init
from tests.terminal import on_a_terminal

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "fixtures" / "repos" / "platform-service"
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_scan", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT)


def test_json_report_names_files_and_lines(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["scan", str(PLATFORM), "--format", "json", "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    report.validate(rep)
    dims = {d["id"]: d for d in rep["dimensions"]}
    assert dims["iac"]["level"] >= 3 and dims["delivery"]["level"] >= 3
    remote = next(m for m in dims["iac"]["met"] if m["requirement"] == "iac.remote_state")
    assert {"path": "infra/main.tf", "line": 4, "detail": "backend s3"} in remote["evidence"]
    tests_on_pr = next(m for m in dims["delivery"]["met"]
                       if m["requirement"] == "delivery.tests_on_pull_requests")
    assert any(e["path"] == ".github/workflows/ci.yml" and e.get("line")
               for e in tests_on_pr["evidence"])


def test_text_report_has_levels_evidence_and_next_steps() -> None:
    done = run("scan", str(PLATFORM))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Infrastructure as code (iac)" in out
    assert "infra/main.tf:4  backend s3" in out
    assert "next: level" in out and "→ " in out
    assert "\x1b[" not in out  # no colour when not a terminal


def test_colour_only_on_a_terminal() -> None:
    assert b"\x1b[" in on_a_terminal("scan", str(PLATFORM))


@pytest.mark.parametrize("args, message", [
    (["scan", "/nonexistent/repo"], "maturity-scan: /nonexistent/repo: no such file or directory"),
    (["scan", str(PLATFORM / "README.md")], f"maturity-scan: {PLATFORM}/README.md: not a directory"),
    (["scan", str(PLATFORM), "--pack", "nope"], "maturity-scan: --pack nope: unknown pack"),
])
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / ".maturity-scan.yaml").write_text("pack: devops\nwaivers: {}\n")
    done = run("scan", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"maturity-scan: {tmp_path}/.maturity-scan.yaml: waivers: "
                                   "unknown key (known: archetype, components, exclude, "
                                   "gate, include_set_aside, pack, rules, waive)")


def test_config_waiver_is_shown(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF)
    (tmp_path / ".terraform.lock.hcl").write_text("# lock\n")
    (tmp_path / ".maturity-scan.yaml").write_text(
        "waive:\n  iac.checked_in_ci: checked by the platform team's pipeline\n")
    out = tmp_path / "r.json"
    assert main(["scan", str(tmp_path), "--format", "json", "-o", str(out)]) == 0
    met = {m["requirement"]: m for d in json.loads(out.read_text())["dimensions"]
           for m in d["met"]}
    assert met["iac.checked_in_ci"]["waived"] == "checked by the platform team's pipeline"


def test_scan_a_revision(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    first = commit(repo, "infra", {"main.tf": TF})
    commit(repo, "drop infra", {"README.md": "# r\n"}, remove=("main.tf",))
    out = tmp_path / "r.json"
    assert main(["scan", str(repo), "--rev", "HEAD~1", "--format", "json", "-o", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["target"]["revision"] == first
    # (the archetype signal says what the files make of the repository: infrastructure)
    assert [s["kind"] for s in rep["signals"]] == ["archetype", "git_history", "terraform"]
    assert main(["scan", str(repo), "--format", "json", "-o", str(out)]) == 0
    assert "terraform" not in [s["kind"] for s in json.loads(out.read_text())["signals"]]


def test_detectors_list_shows_every_kind() -> None:
    done = run("detectors", "list", "--format", "json")
    assert done.returncode == 0
    kinds = {k for d in json.loads(done.stdout) for k in d["kinds"]}
    assert {"terraform", "github_actions", "helm_chart", "kubify"} <= kinds


def test_rules_validate_reports_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("pack: x\ntitle: X\ndimensions: []\nrequirements: []\n")
    done = run("rules", "validate", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"maturity-scan: {tmp_path}/x.yaml")


def test_rules_validate_builtin_packs() -> None:
    done = run("rules", "validate")
    assert done.returncode == 0, done.stderr
    assert "pack devops, 8 dimensions" in done.stdout


def test_rules_graph_mermaid() -> None:
    done = run("rules", "graph", "--format", "mermaid")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart LR")
    assert "signal_terraform --> requirement_shared_iac_defined" in done.stdout


def test_pack_all_reports_every_pack(tmp_path: Path) -> None:
    out = tmp_path / "all.json"
    assert main(["scan", str(PLATFORM), "--pack", "all", "--format", "json", "-o", str(out)]) == 0
    body = json.loads(out.read_text())
    assert body["schema_version"] == 1  # one document (tests/test_cli_usage.py: its schema)
    reps = body["reports"]
    assert [r["pack"] for r in reps] == ["cnmm", "devex", "devops", "gitops", "kmm"]
    for rep in reps:
        report.validate(rep)


def test_html_report_is_self_contained_and_escaped(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["scan", str(PLATFORM), "--format", "html", "-o", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page and "http" not in page
    assert "infra/main.tf:4" in page and "Road ahead" in page


def test_explain_names_files_and_next_actions() -> None:
    done = run("explain", str(PLATFORM), "iac")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Why level" in out and "infra/main.tf:4  backend s3" in out
    assert "Road ahead" in out and "do: " in out
    js = run("explain", str(PLATFORM), "iac", "--format", "json")
    body = json.loads(js.stdout)
    assert body["id"] == "iac" and body["next_steps"][0]["unlocks"] == body["level"] + 1
    bad = run("explain", str(PLATFORM), "nope")
    assert bad.returncode == 2 and "no such dimension" in bad.stderr
