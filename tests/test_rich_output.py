"""Terminal output laid out by rich: lines fit the terminal by display cells (wide characters
count two), a repository's text is never read as rich markup, styles reach a terminal only
(never a file, a pipe, --no-color, NO_COLOR or TERM=dumb), rich is not imported by a command
that prints no text for a person, and progress obeys --no-color too."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from maturity_scan.cli import main
from tests.terminal import on_a_terminal
from tests.test_progress import repo as history_repo, run_on_pty

ROOT = Path(__file__).resolve().parent.parent
TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
SGR_COLOUR = re.compile(rb"\x1b\[[0-9;]*m")


def cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    root = tmp_path / "infra"
    wide = root / "インフラストラクチャの設定ファイル群" / "本番環境のための長い名前のフォルダ"
    wide.mkdir(parents=True)
    (wide / "main.tf").write_text(TF)
    # (an errors entry: every one is listed)
    (root / "[red]boom [bold link=mailto:x]y.tf").write_text(
        "resource {{{{ " + "x" * 200 + "\n")
    return root


def test_lines_fit_the_columns_by_display_cells(infra: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for columns in (40, 80):
        monkeypatch.setenv("COLUMNS", str(columns))
        assert main(["scan", str(infra), "-j", "0"]) == 0
        out = capsys.readouterr().out
        assert "インフラ" in out
        too_wide = [line for line in out.splitlines() if cells(line) > columns]
        assert not too_wide, too_wide
        assert not any(line != line.rstrip() for line in out.splitlines())  # no padding
    monkeypatch.delenv("COLUMNS")
    assert main(["scan", str(infra), "-j", "0"]) == 0
    piped = capsys.readouterr().out
    assert any(cells(line) > 80 for line in piped.splitlines())  # piped: lines as they are
    assert "\x1b" not in piped


def test_repository_text_is_never_rich_markup(infra: Path) -> None:
    shown = on_a_terminal("scan", str(infra), "-j", "0", env={"COLUMNS": "200"})
    assert b"[red]boom [bold link=mailto:x]y.tf" in shown
    assert b"\x1b[31mboom" not in shown and b"\x1b]8;" not in shown  # no colour, no hyperlink


@pytest.mark.parametrize("how", ["colour", "--no-color", "NO_COLOR", "TERM=dumb"])
def test_styles_reach_a_terminal_only(infra: Path, tmp_path: Path, how: str) -> None:
    env = {"NO_COLOR": "1"} if how == "NO_COLOR" else {"TERM": "dumb"} if how == "TERM=dumb" \
        else {}
    flags = ["--no-color"] if how == "--no-color" else []
    out = tmp_path / "r.txt"
    on_a_terminal(*flags, "scan", str(infra), "-j", "0", "-o", f"text={out}", env=env)
    assert "DIMENSION" in out.read_text() and "\x1b" not in out.read_text()  # a file: none
    shown = on_a_terminal(*flags, "scan", str(infra), "-j", "0", env=env)
    assert b"DIMENSION" in shown
    assert bool(SGR_COLOUR.search(shown)) == (how == "colour")


def test_rich_is_imported_for_text_only(infra: Path) -> None:
    code = ("import sys\nfrom maturity_scan.cli import main\n"
            f"main(['scan', {str(infra)!r}, '-j', '0', '--format', sys.argv[1], '-o', "
            f"{os.devnull!r}])\n"
            "print('rich' in sys.modules)\n")
    for fmt, loaded in (("json", "False"), ("sarif", "False"), ("text", "True")):
        done = subprocess.run([sys.executable, "-c", code, fmt], capture_output=True,
                              text=True, cwd=ROOT, timeout=120)
        assert done.stdout.strip().splitlines()[-1:] == [loaded], (fmt, done.stderr)


def test_progress_honours_no_color_and_dumb_terminals(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = history_repo(tmp_path)
    status, _, shown = run_on_pty("history", "--tags", str(root), "--format", "json")
    assert status == 0 and "revisions scanned 2/2" in shown
    assert re.search(r"\x1b\[3[0-9]m", shown)  # coloured on a terminal
    for flags, env in ((["--no-color"], {}), ([], {"NO_COLOR": "1"})):
        with monkeypatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            status, _, shown = run_on_pty(*flags, "history", "--tags", str(root), "--format",
                                          "json")
        assert status == 0 and "revisions scanned 2/2" in shown
        assert not re.search(r"\x1b\[[0-9;]*m", shown), shown  # no colour, cursor moves only
    monkeypatch.setenv("TERM", "dumb")  # a terminal that cannot redraw a line: no progress
    status, _, shown = run_on_pty("history", "--tags", str(root), "--format", "json")
    assert status == 0 and shown == ""


def test_diff_text_escapes_names_styles_the_verdict_and_fits(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A removed workflow whose name moves the cursor: `diff` text showed it raw before."""
    from tests.gitrepo import commit, init
    from tests.test_gate import WORKFLOW
    name = ".github/workflows/\x1b[1Aci-\u202eevil.yml"
    repo = init(tmp_path / "r")
    commit(repo, "ci", {name: WORKFLOW.format(trivy=""), "README.md": "# r\n"})
    commit(repo, "drop ci", remove=(name,))
    monkeypatch.setenv("COLUMNS", "50")
    code = main(["diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "-j", "0"])
    out = capsys.readouterr().out
    assert code == 1 and "REGRESSED" in out
    assert "\x1b" not in out and "\u202e" not in out
    assert "ci-\\u202eevil.yml" in out.replace("\n", "").replace(" ", "")
    assert max(cells(line) for line in out.splitlines()) <= 50
    shown = on_a_terminal("diff", str(repo), "--base", "HEAD~1", "--head", "HEAD", "-j", "0",
                          env={"COLUMNS": "200"})
    assert b"\x1b[1;31mREGRESSED" in shown and b"\x1b[1A" not in shown


def test_pack_all_text_fits_the_columns_too(infra: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    assert main(["scan", str(infra), "-j", "0", "--pack", "all"]) == 0
    out = capsys.readouterr().out
    assert out.count("DIMENSION") >= 5
    assert max(cells(line) for line in out.splitlines()) <= 50
