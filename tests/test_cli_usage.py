"""The command line as a new user meets it: a mistake is exit 2 with one line naming the option
or config key, found before any work; an empty scan says so; `--pack all` is one valid
document per format; several outputs in one run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from maturity_scan import api, report
from maturity_scan.cli import main
from tests.github_server import GitHubServer
from tests.gitrepo import commit, init
from tests.terminal import on_a_terminal

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "fixtures" / "repos" / "platform-service"
README = "# demo\n\n## Getting started\n\nRun `make test`.\n"
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any scan fails the test: the mistake must be found before the work."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("scanned before checking the command line")
    monkeypatch.setattr(api, "scan_reports", refuse)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "internal error" not in err
    return lines[0]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "README.md").write_text(README)
    return root


@pytest.mark.parametrize("args, says", [
    (["-o", "/nonexistent/r.json"], "-o /nonexistent/r.json: folder /nonexistent does not exist"),
    (["-o", "{tmp}"], "is a folder"),
    (["-o", "json={tmp}"], "is a folder"),
    (["--write-baseline", "{tmp}"], "--write-baseline {tmp}: is a folder"),
    (["--write-baseline", "/nonexistent/b.json"], "folder /nonexistent does not exist"),
    (["--fail-under", "iac"], "--fail-under: 'iac': expected DIMENSION=LEVEL"),
    (["--fail-under", "bogus=2"], "--fail-under: bogus: unknown dimension in pack devops"),
    (["--fail-under", "iac=9"], "--fail-under: iac=9: above the highest level of iac"),
    (["--pack", "nope"], "--pack nope: unknown pack"),
    (["--rules", "{tmp}/empty-rules"], "--rules {tmp}/empty-rules: no rule files"),
    (["--rules", "{tmp}/missing"], "--rules {tmp}/missing: not a folder"),
    (["--bogus"], "maturity-scan scan: No such option '--bogus'"),
    (["--format", "xml"], "Invalid value for '--format'"),
])
def test_mistakes_are_exit_2_with_one_line_before_any_work(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_scan: None,
        args: list[str], says: str) -> None:
    (tmp_path / "empty-rules").mkdir()
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = cli(capsys, "scan", str(repo), *args)
    assert code == 2
    assert says.replace("{tmp}", str(tmp_path)) in one_line(err)
    assert out == ""


@pytest.mark.parametrize("config, says", [
    ("pack: nope\n", ".maturity-scan.yaml: pack: nope: unknown pack (available: "),
    ("waive:\n  iac.defined_as_cod: not ours\n",
     ".maturity-scan.yaml: waive.iac.defined_as_cod: no such requirement in any pack"),
    ("gate:\n  fail_under: {iac: 7}\n", ".maturity-scan.yaml: gate.fail_under: iac=7: above"),
])
def test_config_mistakes_name_the_file_and_key(repo: Path, capsys: pytest.CaptureFixture[str],
                                               no_scan: None, config: str, says: str) -> None:
    (repo / ".maturity-scan.yaml").write_text(config)
    code, _, err = cli(capsys, "scan", str(repo))
    assert code == 2
    assert says in one_line(err)


def test_a_waiver_of_another_pack_is_not_a_misspelling(repo: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    other = next(p for p in api.packs().values() if p.id != "devops")
    rid = sorted(other.requirements)[0]
    (repo / ".maturity-scan.yaml").write_text(f"waive:\n  {rid}: not ours\n")
    code, _, err = cli(capsys, "scan", str(repo), "-j", "0")
    assert code == 0, err


def test_explain_without_a_dimension_says_which_argument_is_missing(
        repo: Path, capsys: pytest.CaptureFixture[str], no_scan: None) -> None:
    code, _, err = cli(capsys, "explain", str(repo))
    assert code == 2
    assert "missing argument DIMENSION" in one_line(err)
    code, _, err = cli(capsys, "explain")
    assert code == 2 and "Missing argument" in one_line(err)


def test_org_out_that_cannot_be_created_is_refused_first(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli(capsys, "org", "acme", "--out", str(blocker / "x"),
                       "--api-url", "http://127.0.0.1:9")
    assert code == 2
    assert f"--out {blocker / 'x'}: cannot create the folder" in one_line(err)


def test_rev_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = init(tmp_path / "r")
    commit(root, "one", {"README.md": README})
    code, _, err = cli(capsys, "scan", str(root), "--rev", "v9.9.9")
    assert code == 2
    line = one_line(err)
    assert "v9.9.9: not a revision" in line and "BadName" not in line


def test_diff_outside_git_and_without_commits(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain").mkdir()
    code, _, err = cli(capsys, "diff", str(tmp_path / "plain"), "--base", "HEAD")
    assert code == 2 and "not a git repository" in one_line(err)
    assert "fetch" not in err
    fresh = init(tmp_path / "fresh")
    code, _, err = cli(capsys, "diff", str(fresh), "--base", "HEAD")
    assert code == 2 and "has no commit yet" in one_line(err)


def test_jobs_are_capped_at_the_cores(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    seen = {}
    scan_reports = api.scan_reports

    def spy(source, packs, options, **kw):  # type: ignore[no-untyped-def]
        seen["jobs"] = options.jobs
        return scan_reports(source, packs, options, **kw)
    monkeypatch.setattr(api, "scan_reports", spy)
    code, _, err = cli(capsys, "scan", str(repo), "-j", "100000")
    assert code == 0, err
    assert 1 <= seen["jobs"] <= (os.cpu_count() or 1)


# --- nothing to scan, unreadable folders ------------------------------------------------------

def test_an_empty_folder_warns_nothing_to_scan(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "deps" / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "deps" / "node_modules" / "x" / "index.js").write_text("x\n")
    for name in ("empty", "deps"):
        code, _, err = cli(capsys, "scan", str(tmp_path / name), "-j", "0")
        assert code == 0
        assert "warning: nothing to scan" in err
    code, _, err = cli(capsys, "scan", str(PLATFORM), "-j", "0")
    assert "nothing to scan" not in err


def test_an_unreadable_folder_is_an_error_and_fails_the_gate(tmp_path: Path) -> None:
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("needs setpriv to drop root's permission override")
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "README.md").write_text(README)
    (root / "infra" / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    (root / "infra").chmod(0)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] \
        if os.geteuid() == 0 else []
    try:
        done = subprocess.run([*drop, sys.executable, "-m", "maturity_scan", "scan", str(root),
                               "--format", "json", "--fail-under", "devex=1", "-j", "0"],
                              capture_output=True, text=True, cwd=ROOT, timeout=120,
                              stdin=subprocess.DEVNULL)
    finally:
        (root / "infra").chmod(0o755)
    assert done.returncode == 1, done.stderr  # incomplete: the gate fails
    rep = json.loads(done.stdout)
    assert {"path": "infra", "detector": "listing",
            "message": "folder could not be listed (Permission denied)"} in rep["errors"]
    assert "incomplete scan" in done.stderr and "infra" in done.stderr


# --- several outputs, --pack all ----------------------------------------------------------------

def test_several_outputs_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "scan", str(PLATFORM), "-o", f"sarif={tmp_path}/r.sarif",
                         "-o", f"json={tmp_path}/r.json", "-o", f"{tmp_path}/r.txt", "-j", "0")
    assert code == 0, err
    assert out == ""
    report.validate(json.loads((tmp_path / "r.json").read_text()))
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert "Infrastructure as code (iac)" in (tmp_path / "r.txt").read_text()


def test_pack_all_is_one_valid_document_per_format(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "scan", str(PLATFORM), "--pack", "all", "-j", "0",
                       "-o", f"json={tmp_path}/r.json", "-o", f"sarif={tmp_path}/r.sarif",
                       "-o", f"html={tmp_path}/r.html")
    assert code == 0, err
    packs = sorted(api.packs())
    body = json.loads((tmp_path / "r.json").read_text())
    schema = report.schema()
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    jsonschema.Draft202012Validator({"$ref": schema["$id"] + "#/$defs/all_packs"},
                                    registry=registry).validate(body)
    assert body["schema_version"] == 1
    assert sorted(r["pack"] for r in body["reports"]) == packs
    log = json.loads((tmp_path / "r.sarif").read_text())
    assert log["version"] == "2.1.0"
    assert sorted(run["properties"]["pack"] for run in log["runs"]) == packs
    page = (tmp_path / "r.html").read_text()
    assert page.count("<!doctype html>") == 1 and page.count("<title>") == 1
    for p in packs:
        assert f"<section id='{p}'>" in page and f"href='#{p}-" in page


def test_history_chart_without_the_extra_says_which_extra(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    root = init(tmp_path / "r")
    commit(root, "one", {"README.md": README})
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.setattr(api, "get_pack", lambda *a, **k: pytest.fail("worked before checking"))
    code, _, err = cli(capsys, "history", str(root), "--chart", str(tmp_path / "c.svg"))
    assert code == 2
    assert "pip install 'maturity-scan[chart]'" in one_line(err)


# --- terminal conventions ---------------------------------------------------------------------

@pytest.mark.parametrize("how", ["--no-color", "NO_COLOR", "TERM=dumb", "colour"])
def test_no_colour_by_option_or_environment(how: str) -> None:
    env = {"NO_COLOR": "1"} if how == "NO_COLOR" else {"TERM": "dumb"} if how == "TERM=dumb" \
        else {}
    flags = ["--no-color"] if how == "--no-color" else []
    out = on_a_terminal(*flags, "rules", "list", env=env)
    assert b"devops" in out
    assert (b"\x1b[" in out) == (how == "colour")


def test_text_fits_columns_and_says_what_it_cut(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "infra").mkdir(parents=True)
    for n in range(6):
        (root / "infra" / f"m{n}.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    (root / "infra" / "broken.tf").write_text("resource {{{{ " + "x" * 300 + "\n")
    monkeypatch.setenv("COLUMNS", "60")
    code, out, err = cli(capsys, "scan", str(root), "-j", "0")
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 60
    assert "… +" in out and "more (--format json lists all)" in out
    monkeypatch.delenv("COLUMNS")
    code, piped, _ = cli(capsys, "scan", str(root), "-j", "0")
    assert max(len(line) for line in piped.splitlines()) > 60  # piped: lines as they are


def test_help_shows_examples_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], ["scan", "--help"], ["diff", "--help"]):
        code, out, _ = cli(capsys, *args)
        assert code == 0
        assert "Examples:" in out and "Exit codes: 0" in out and "2 a usage" in out


# --- a remote repository by URL -----------------------------------------------------------------

def test_scan_a_git_url_through_the_frugal_clone(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with GitHubServer(tmp_path / "srv") as srv:
        srv.add_repo("acme", "infra", {"infra/main.tf": TF, "README.md": README,
                                       "docs/big.bin": "x" * 10_000,
                                       ".maturity-scan.yaml": "waive:\n  iac.remote_state: "
                                                              "state lives elsewhere\n"})
        url = f"{srv.url}/git/acme/infra.git"
        out = tmp_path / "r.json"
        code, _, err = cli(capsys, "scan", url, "--format", "json", "-o", str(out), "-j", "0")
        assert code == 0, err
        rep = json.loads(out.read_text())
        assert rep["target"]["path"] == url and len(rep["target"]["revision"]) == 40
        iac = next(d for d in rep["dimensions"] if d["id"] == "iac")
        assert iac["level"] >= 2
        met = {m["requirement"]: m for m in iac["met"]}
        assert any(e["path"] == "infra/main.tf" for e in met["iac.defined_as_code"]["evidence"])
        # its committed configuration applies, as in a local scan
        assert "iac.remote_state" not in met or met["iac.remote_state"].get("waived")
        # a URL that is no repository: exit 2, one line
        code, _, err = cli(capsys, "scan", f"{srv.url}/git/acme/nope.git", "-j", "0")
        assert code == 2 and "internal error" not in one_line(err)


@pytest.mark.parametrize("url, says", [
    ("http://example.com/acme/infra.git", "only https:// git URLs"),
    ("git@github.com:acme/infra.git", "only https:// git URLs"),
    ("ext::sh -c touch% /tmp/pwned", "only https:// git URLs"),
])
def test_scan_refuses_urls_it_does_not_clone(url: str, says: str,
                                             capsys: pytest.CaptureFixture[str],
                                             no_scan: None) -> None:
    code, _, err = cli(capsys, "scan", url)
    assert code == 2
    assert says in one_line(err) or "no such file" in err


def test_every_report_says_when_and_which_commit(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = init(tmp_path / "r")
    head = commit(root, "one", {"README.md": README})
    out = tmp_path / "r.json"
    code, _, err = cli(capsys, "scan", str(root), "--format", "json", "-o", str(out), "-j", "0")
    assert code == 0, err
    rep = json.loads(out.read_text())
    report.validate(rep)
    assert rep["target"]["commit"] == head and rep["target"]["revision"] is None
    assert rep["scanned_at"].endswith("+00:00") and rep["scanned_at"][:4].isdigit()
    code, out_text, err = cli(capsys, "explain", str(root), "devex", "--format", "json", "-j", "0")
    assert code == 0, err
    body = json.loads(out_text)
    assert body["schema_version"] == 1 and body["target"]["commit"] == head
    assert "scanned_at" in body and body["tool"]["name"] == "maturity-scan"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "README.md").write_text(README)
    code, _, _ = cli(capsys, "scan", str(plain), "--format", "json", "-o", str(out), "-j", "0")
    assert "commit" not in json.loads(out.read_text())["target"]  # outside git: none


def test_the_text_report_heads_with_commit_and_date(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = init(tmp_path / "r")
    head = commit(root, "one", {"README.md": README})
    code, out, _ = cli(capsys, "scan", str(root), "-j", "0")
    assert code == 0
    first = out.splitlines()[0]
    assert f"@ {head[:12]}" in first and first.rstrip().endswith("Z")
