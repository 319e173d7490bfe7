"""The CI gate: the pre-commit hook at both stages, the merge base, and the Action's shell."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from maturity_scan.cli import main
from maturity_scan.gate import diff as gate_diff
from tests.gitrepo import commit, git, init

ROOT = Path(__file__).resolve().parent.parent
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
README = "# target\n"
HOOK = ("--pre-commit", "-j", "0", "--format", "json")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pushed(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository whose last commit (what is pushed) drops the IaC; the working tree is clean."""
    repo = init(tmp_path / "repo")
    base = commit(repo, "infra", {"infra/main.tf": TF, "README.md": README})
    head = commit(repo, "drop infra", remove=("infra/main.tf",))
    return repo, base, head


def test_hook_entry_uses_the_pre_commit_mode() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["entry"] == "maturity-scan diff --pre-commit"
    assert "pre-push" in hooks[0]["stages"]


def test_pre_push_judges_what_is_pushed(pushed: tuple[Path, str, str],
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    repo, base, head = pushed
    # at the pre-commit stage the clean working tree equals HEAD: nothing to judge
    code, _, err = cli(capsys, "diff", str(repo), *HOOK)
    assert code == 0, err
    # at pre-push the pushed range is judged: the regression is caught
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    code, out, err = cli(capsys, "diff", str(repo), *HOOK)
    assert code == 1
    assert "iac: level dropped from 2 to 1" in err
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "0" * 40)  # a new branch: no base
    code, _, err = cli(capsys, "diff", str(repo), *HOOK)
    assert code == 0 and "new branch" in err


def test_pre_commit_in_a_repository_without_commits(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    repo = init(tmp_path / "fresh")
    (repo / "README.md").write_text(README)
    code, _, err = cli(capsys, "diff", str(repo), "--pre-commit")
    assert code == 0  # the first commit is not blocked
    assert "no commit yet, nothing to compare with" in err and "fetch" not in err
    code, _, err = cli(capsys, "diff", str(repo), "--base", "HEAD")
    assert code == 2 and "has no commit yet" in err


def test_merge_base_ignores_what_landed_on_the_base_since(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "start", {"README.md": README})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feature work", {"docs/x.md": "x\n"})
    git(repo, "checkout", "-q", "main")
    commit(repo, "infra on main", {"infra/main.tf": TF})  # main moved on, feature lacks it
    # against the base tip the branch looks like it dropped the IaC ...
    code, _, err = cli(capsys, "diff", str(repo), "--base", "main", "--head", "feature",
                       "--format", "json",
                       "-j", "0")
    assert code == 1 and "iac: level dropped" in err
    # ... against the merge base it changed nothing
    code, _, err = cli(capsys, "diff", str(repo), "--base", "main", "--head", "feature",
                       "--format", "json",
                       "--merge-base", "-j", "0")
    assert code == 0, err


def test_diff_without_base_says_which_option_is_missing(pushed: tuple[Path, str, str],
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    code, _, err = cli(capsys, "diff", str(pushed[0]))
    assert code == 2 and "missing option --base" in err


# --- the Action's gate step, run as GitHub runs it --------------------------------------------

def gate_step(top: Path, repo: Path, base: str) -> tuple[subprocess.CompletedProcess[str],
                                                          dict[str, str]]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    script = top / "gate.sh"
    script.write_text(next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "gate"))
    output = top / "output"
    output.write_text("")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(top),
           "GIT_CONFIG_NOSYSTEM": "1", "REPO_PATH": str(repo), "BASE": base, "PACK": "",
           "FAIL_UNDER": "", "ALLOW_INCOMPLETE": "false", "SARIF": "true",
           "RUNNER_TEMP": str(top), "GITHUB_OUTPUT": str(output),
           "GITHUB_STEP_SUMMARY": str(top / "summary")}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          env=env, capture_output=True, text=True, cwd=top, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done, outputs


def test_action_base_on_every_event() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    base = step["env"]["BASE"]
    for field in ("inputs.base", "github.event.pull_request.base.sha",
                  "github.event.merge_group.base_sha", "github.event.before"):
        assert field in base
    for name in ("path", "base", "pack", "fail-under", "allow-incomplete", "sarif", "comment",
                 "python-version"):
        assert name in action["inputs"]
    assert {"report", "sarif", "base", "status"} <= set(action["outputs"])


def test_action_on_push_fails_a_regression_and_writes_every_output(
        pushed: tuple[Path, str, str], tmp_path: Path) -> None:
    repo, base, head = pushed
    done, outputs = gate_step(tmp_path, repo, base)  # github.event.before on push
    assert done.returncode == 1, done.stdout + done.stderr
    assert outputs["status"] == "1" and outputs["base"] == base
    assert "Infrastructure as code" in (tmp_path / "summary").read_text()
    log = json.loads(Path(outputs["sarif"]).read_text())
    assert any(r["level"] == "error" for r in log["runs"][0]["results"])


def test_action_on_a_new_branch_skips_with_a_notice(pushed: tuple[Path, str, str],
                                                     tmp_path: Path) -> None:
    done, outputs = gate_step(tmp_path, pushed[0], "0" * 40)
    assert done.returncode == 0
    assert "::notice::a new branch" in done.stdout and outputs["status"] == "0"


def test_action_compares_with_the_merge_base(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    start = commit(repo, "start", {"README.md": README})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feature work", {"docs/x.md": "x\n"})
    git(repo, "checkout", "-q", "main")
    tip = commit(repo, "infra on main", {"infra/main.tf": TF})
    git(repo, "checkout", "-q", "feature")
    done, outputs = gate_step(tmp_path, repo, tip)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs["base"] == start


# --- SARIF: where a regression is shown ---------------------------------------------------------

def sarif_results(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> list[dict]:
    code, out, err = cli(capsys, "diff", str(repo), "--format", "sarif", "-j", "0", *args)
    assert code == 1, err
    return json.loads(out)["runs"][0]["results"]


def test_a_base_line_is_mapped_to_where_it_is_in_the_head() -> None:
    base = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
    # three lines above, the backend removed: base line 2 was at head line 5
    head = '# a\n# b\n# c\nterraform {\n}\nresource "aws_s3_bucket" "b" {}\n'
    assert gate_diff.head_line(base, head, 2) == 5
    assert gate_diff.head_line(base, head, 4) == 6  # moved down by three, minus the removed one
    assert gate_diff.head_line(base, "", 3) == 1
    assert gate_diff.head_line(base, base, 3) == 3


def test_a_lost_requirement_is_shown_at_its_head_line(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "infra", {"infra/main.tf": TF, "README.md": README})
    # the file stays, holding no Terraform any more, two lines longer at the top
    commit(repo, "gone", {"infra/main.tf": "# moved to the platform repo\n#\n" + TF.replace(
        "terraform {", "# terraform {").replace("resource", "# resource")})
    results = sarif_results(capsys, repo, "--base", "HEAD~1", "--head", "HEAD")
    lost = next(r for r in results if r["ruleId"] == "iac.defined_as_code"
                and r["level"] == "error")
    where = lost["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "infra/main.tf"
    # base line 1 was replaced by head lines 1-3: shown at the first; the backend's base line 2
    # is head line 4 (shifted, test above)
    assert where["region"] == {"startLine": 1}


def test_a_requirement_lost_with_its_file_is_shown_at_the_workflow(
        pushed: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo, base, head = pushed  # infra/main.tf deleted
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/app")
    monkeypatch.setenv("GITHUB_WORKFLOW_REF", "acme/app/.github/workflows/gate.yml@refs/pull/1/merge")
    results = sarif_results(capsys, repo, "--base", base, "--head", head)
    lost = next(r for r in results if r["ruleId"] == "iac.defined_as_code"
                and r["level"] == "error")
    assert lost["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": ".github/workflows/gate.yml", "uriBaseId": "%SRCROOT%"}}
    monkeypatch.delenv("GITHUB_WORKFLOW_REF")
    results = sarif_results(capsys, repo, "--base", base, "--head", head)
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "."
               for r in results if r["level"] == "error")


def test_notes_without_evidence_are_repository_level(pushed: tuple[Path, str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo, base, head = pushed
    results = sarif_results(capsys, repo, "--base", base, "--head", head)
    notes = [r for r in results if r["level"] == "note"]
    assert notes
    for r in notes:
        where = r["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"] != "README.md" or "region" in where
        if where["artifactLocation"]["uri"] == ".":
            assert "region" not in where


def test_diff_writes_several_outputs_in_one_run(pushed: tuple[Path, str, str], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo, base, head = pushed
    code, out, err = cli(capsys, "diff", str(repo), "--base", base, "--head", head, "-j", "0",
                         "-o", f"markdown={tmp_path}/r.md", "-o", f"sarif={tmp_path}/r.sarif",
                         "-o", f"json={tmp_path}/r.json")
    assert code == 1 and out == ""
    assert "Infrastructure as code" in (tmp_path / "r.md").read_text()
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert json.loads((tmp_path / "r.json").read_text())["regressions"] == ["iac"]
    code, _, err = cli(capsys, "diff", str(repo), "--base", base, "-o", f"html={tmp_path}/r.h")
    assert code == 2 and "no HTML format" in err
