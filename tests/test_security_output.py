"""Hostile output and slow readers (issue 16): names from the scanned repository are shown,
never interpreted (undecodable bytes, terminal escapes, Markdown); CI readers take linear time
on hostile files; the GitHub Action never hands its base input to git as an option."""
from __future__ import annotations

import json
import os
import random
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from maturity_scan import api, reporters
from maturity_scan.cli.options import emit
from maturity_scan.engine import registry
from maturity_scan.engine.analysis import analyze
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource
from maturity_scan.reporters import explain, html, markdown, text
from maturity_scan.sdk import ci, shell
from maturity_scan.sdk.document import Document
from maturity_scan.sdk.globs import compile_globs
from tests.gitrepo import commit, init

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = (b"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
            b"      - run: pytest\n")
MANIFEST = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n"
FORMATS = ("json", "text", "html", "markdown", "sarif")


def _write(root: Path, name: bytes, data: bytes) -> None:
    """A file whose name may not be UTF-8 (os.walk and git then give surrogate escapes)."""
    path = os.path.join(os.fsencode(root), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _scan(source: Any) -> dict[str, Any]:
    return api.scan_report(source, options=ScanOptions(jobs=1))


def _undecodable_repo(root: Path) -> Path:
    init(root)
    _write(root, b".github/workflows/bad\xff.yml", WORKFLOW)
    _write(root, b"k8s/web\xfe.yaml", MANIFEST)
    commit(root, "undecodable names")
    return root


# --- 1. a path that is not UTF-8 -------------------------------------------------------------

@pytest.fixture(scope="module")
def undecodable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _undecodable_repo(tmp_path_factory.mktemp("undecodable"))


@pytest.mark.parametrize("kind", ["folder", "git work tree", "git revision"])
def test_undecodable_path_is_shown_escaped_in_every_format(undecodable: Path, tmp_path: Path,
                                                           kind: str) -> None:
    if kind == "folder":
        plain = tmp_path / "plain"
        _write(plain, b".github/workflows/bad\xff.yml", WORKFLOW)
        _write(plain, b"k8s/web\xfe.yaml", MANIFEST)
        source: Any = WorkTreeSource(plain)
    else:
        source = WorkTreeSource(undecodable) if kind == "git work tree" else \
            GitRevisionSource(undecodable, "HEAD")
    rep = _scan(source)
    paths = {e["path"] for s in rep["signals"] for e in s["evidence"]}
    assert ".github/workflows/bad\ufffd.yml" in paths  # one rule: the byte as U+FFFD
    for fmt in FORMATS:
        content = reporters.render(rep, fmt, pack=api.get_pack(rep["pack"]))
        content.encode("utf-8")  # strict: no lone surrogate left
        out = tmp_path / f"report.{fmt}"
        emit(content, out)  # `-o FILE`
        written = out.read_bytes().decode("utf-8")
        if fmt in ("json", "sarif"):
            json.loads(written)
        if fmt in ("json", "text", "html"):
            assert "bad\ufffd.yml" in written, fmt


@pytest.mark.parametrize("fmt, to_file", [("text", False), ("json", True), ("sarif", False)])
def test_undecodable_path_through_the_command(undecodable: Path, tmp_path: Path, fmt: str,
                                              to_file: bool) -> None:
    out = tmp_path / "report"
    args = [sys.executable, "-m", "maturity_scan", "scan", str(undecodable), "--format", fmt]
    done = subprocess.run(args + (["-o", str(out)] if to_file else []), capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"}, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    written = (out.read_bytes() if to_file else done.stdout).decode("utf-8")
    if fmt != "text":
        written = json.dumps(json.loads(written), ensure_ascii=False)
    assert "bad\ufffd.yml" in written


# --- 2. terminal escapes and Markdown from the repository ------------------------------------

CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]")
RED = "\x1b[31mred.yml"
TITLE = "\x1b]0;owned\x07.yml"


@pytest.fixture(scope="module")
def escapes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("escapes")
    # A job name (a fact of the repository) with a screen-clearing escape and a bidi override.
    _write(root, f".github/workflows/{RED}".encode(), WORKFLOW.replace(
        b"  test:", b'  "\\e[2J\\u202eevil":'))
    _write(root, f".github/workflows/{TITLE}".encode(), WORKFLOW)
    # Unit tests and a linter: quality reaches level 3, whose evidence is that job's line.
    _write(root, b"tests/test_app.py", b"def test_app():\n    assert True\n")
    _write(root, b"ruff.toml", b"line-length = 100\n")
    # An errors entry: a broken file whose name moves the cursor.
    _write(root, b".github/workflows/\x1b[1Abroken.yml", b"jobs: [\n")
    return _scan(WorkTreeSource(root))


def _outputs(rep: dict[str, Any]) -> dict[str, str]:
    return {"text": text.render(rep), "explain": explain.render(rep, dimension_id="quality"),
            "markdown": markdown.render(rep), "html": html.render(rep)}


def test_control_characters_are_escaped_in_text_markdown_and_html(escapes: dict[str, Any]) -> None:
    assert any(e["path"].endswith("broken.yml") for e in escapes["errors"])
    for name, out in _outputs(escapes).items():
        shown = click.unstyle(out)  # the report's own colours aside
        assert not CONTROLS.search(shown), (name, CONTROLS.findall(shown))
        assert "\x1b[31mred" not in out and "\x1b]0;" not in out and "\x1b[2J" not in out
    shown = click.unstyle(_outputs(escapes)["text"])
    assert ".github/workflows/\\x1b[31mred.yml" in shown
    assert "\\x1b]0;owned\\x07.yml" in shown
    assert "job \\x1b[2J\\u202eevil runs pytest" in shown
    assert ".github/workflows/\\x1b[1Abroken.yml:" in shown  # the errors entry
    explained = _outputs(escapes)["explain"]
    assert "\\x1b[2J\\u202eevil" in explained


def test_json_keeps_the_names_as_data(escapes: dict[str, Any]) -> None:
    paths = {e["path"] for s in escapes["signals"] for e in s["evidence"]}
    assert f".github/workflows/{RED}" in paths  # JSON escapes controls itself


def _hostile_markdown_report(rep: dict[str, Any]) -> dict[str, Any]:
    """A real report whose texts are what a repository's own rule pack and files may hold."""
    rep = json.loads(json.dumps(rep))
    rep["pack_title"] = "Pack <img src=x onerror=alert(1)>"
    dim = rep["dimensions"][0]
    dim["title"] = "CI | injected | cells *bold* [link](http://x) <script>alert(1)</script>"
    if dim["next_steps"]:
        dim["next_steps"][0]["title"] = "step `code` &amp; ~~gone~~"
    rep["errors"] = [{"path": "a`b``c|d<script>.yml", "detector": "x", "message": "m"}]
    return rep


def _outside_code(md: str) -> str:
    """Markdown without its code spans (CommonMark: a run of n backticks closes at the next
    run of exactly n), where `<`, `*`, `|` are literal anyway."""
    out, i = [], 0
    for m in re.finditer(r"`+", md):
        if m.start() < i:
            continue
        close = re.compile(r"(?<!`)" + m.group() + r"(?!`)").search(md, m.end())
        if close is None:
            continue
        out.append(md[i:m.start()])
        i = close.end()
    return "".join(out) + md[i:]


def test_markdown_shows_repository_text_literally(escapes: dict[str, Any]) -> None:
    md = markdown.render(_hostile_markdown_report(escapes))
    prose = _outside_code(md)
    assert not re.search(r"(?<!\\)[<&]", prose)  # no tag, no entity: `\<`, `\&` are literal
    row = next(line for line in md.splitlines() if "injected" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # the table's own pipes only
    assert r"CI \| injected \| cells \*bold\* \[link\](http://x) \<script\>" in row
    assert r"step \`code\` \&amp; \~\~gone\~\~" in row
    # A code span fenced by more backticks than the name holds shows it as it is.
    assert "```a`b``c|d<script>.yml```" in md


def test_markdown_diff_escapes_the_same_way(escapes: dict[str, Any]) -> None:
    rep = _hostile_markdown_report(escapes)
    dim = rep["dimensions"][0]
    diff = {"pack_title": rep["pack_title"], "base": {"revision": "-x\x1b[2J"},
            "head": {"revision": None}, "signals_lost": [], "signals_gained": [],
            "dimensions": [{"id": dim["id"], "title": dim["title"], "change": "down",
                            "before": 2, "after": 1, "requirements_gained": [],
                            "requirements_lost": [{"requirement": "r|`", "title": "<b>x</b>",
                                                   "evidence": [{"path": RED, "line": 1}]}]}]}
    md = markdown.render_diff(diff, ["gate <script>"])
    assert not re.search(r"(?<!\\)<", _outside_code(md)) and "\x1b" not in md
    assert "`-x\\x1b[2J`" in md and "`\\x1b[31mred.yml:1`" in md


# --- 3. linear CI readers --------------------------------------------------------------------

DETECTORS = registry.all_detectors()


def _analyse(path: str, data: bytes) -> float:
    detectors = [d for d in DETECTORS if compile_globs(d.patterns).match(path)]
    # CPU time of this process (the reading runs here): wall time measured the machine's load
    start = time.process_time()
    result = analyze(Document(path, data), detectors)
    took = time.process_time() - start
    assert not [e for e in result.errors if "failed" in e.message]
    return took


def jenkinsfiles(n: int) -> dict[str, bytes]:
    """Hostile Jenkinsfiles of about n bytes."""
    return {
        "newlines": b"\n" * n,
        "sh then newlines": b"pipeline {\nsh" + b"\n" * n,
        "sh then tabs": b"pipeline {\nsh" + b"\t" * n,
        "nested braces": b"pipeline {" + b"{" * n,
        "a line of quotes": b"pipeline {\n  sh '" + b"'" * n,
        "many sh ''' blocks": b"pipeline {\n" + b"sh '''make test'''\n" * (n // 19),
        "unclosed sh ''' blocks": b"pipeline {\n" + b"sh '''x\n" * (n // 8),
        "many stages": b"pipeline {\n" + b"stage('a') { sh 'make test' }\n" * (n // 30),
        "one long word": b"pipeline {\n sh '" + b"a" * n + b"'\n}",
        "one line of assignments": b"pipeline {\n sh '" + b"A=1 " * (n // 4) + b"'\n}",
        "one line of sudo": b"pipeline {\n sh '" + b"sudo " * (n // 5) + b"'\n}",
        "semicolons": b"pipeline {\n sh '" + b";" * n + b"'\n}",
    }


def _workflow(steps: str) -> bytes:
    return ("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
            + steps).encode()


def ci_files(n: int) -> dict[str, tuple[str, bytes]]:
    """Hostile GitHub and GitLab CI files of about n bytes: huge `run:` blocks, tools written
    so their name is not on any line (`t'rivy'`), many steps."""
    block = "      - run: |\n" + "          t'rivy' fs .\n" * (n // 25)
    return {
        "run block of quoted tools": (".github/workflows/ci.yml", _workflow(block)),
        "many steps of quoted tools": (".github/workflows/ci.yml",
                                       _workflow("      - run: t'rivy' fs .\n" * (n // 26))),
        "a long run line": (".github/workflows/ci.yml",
                            _workflow("      - run: " + "A=1 " * (n // 4) + "\n")),
        "docker run options": (".github/workflows/ci.yml",
                               _workflow("      - run: docker run " + "-v a " * (n // 5) + "x\n")),
        "gitlab script of quoted tools": (".gitlab-ci.yml", (
            "test:\n  script:\n" + "    - t'rivy' fs .\n" * (n // 20)).encode()),
        "gitlab jobs": (".gitlab-ci.yml", "".join(
            f"j{i}:\n  script: t'rivy' x\n" for i in range(n // 25)).encode()),
    }


def _growth(path: str, small: bytes, large: bytes, rounds: int = 3) -> tuple[float, float]:
    """The best times of reading `small` and `large`, measured in turns (the machine is shared:
    load drifts)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        times[0].append(_analyse(path, small))
        times[1].append(_analyse(path, large))
    return min(times[0]), min(times[1])


@pytest.mark.parametrize("shape", list(jenkinsfiles(1)))
def test_hostile_jenkinsfiles_are_read_in_linear_time(shape: str) -> None:
    # Before: a 64 KB newline-only Jenkinsfile took a minute (each line start re-scanned the
    # rest of the file), `sh` then whitespace backtracked quadratically.
    assert _analyse("Jenkinsfile", jenkinsfiles(64 << 10)[shape]) < 2.0
    small, large = _growth("Jenkinsfile", jenkinsfiles(8 << 10)[shape],
                           jenkinsfiles(128 << 10)[shape])
    assert large / max(small, 1e-3) < 40, (small, large)  # 16x the input, not 256x the time


@pytest.mark.parametrize("shape", list(ci_files(1)))
def test_hostile_ci_files_are_read_in_linear_time(shape: str) -> None:
    path, small_file = ci_files(4 << 10)[shape]
    small, large = _growth(path, small_file, ci_files(64 << 10)[shape][1])
    assert large < 4.0
    assert large / max(small, 1e-3) < 40, (small, large)


def test_sixteen_newline_only_jenkinsfiles_scan_quickly(tmp_path: Path) -> None:
    for i in range(16):
        (tmp_path / f"app{i}").mkdir()
        (tmp_path / f"app{i}" / "Jenkinsfile").write_bytes(b"\n" * 65_000)
    start = time.perf_counter()
    rep = _scan(WorkTreeSource(tmp_path))
    assert time.perf_counter() - start < 20  # was 163 s, every file "took longer than 20s"
    assert not rep["errors"]


def test_jenkins_reading_is_unchanged() -> None:
    doc = Document("Jenkinsfile", b"""pipeline {
  agent any
  stages {
    stage('Test') {
      steps {
        sh '''
          pip install -r requirements.txt
          pytest -q
        '''
        sh(script: "make lint", returnStatus: true)
      }
    }
    stage("Deploy") {
      steps { sh 'helm upgrade --install web ./chart' }
    }
  }
}
""")
    p = ci.pipeline(doc)
    assert p is not None
    assert [(j.id, j.line, [(s.line, s.run.split()) for s in j.steps]) for j in p.jobs] == [
        ("Test", 4, [(6, ["pip", "install", "-r", "requirements.txt", "pytest", "-q"]),
                     (10, ["make", "lint"])]),
        ("Deploy", 13, [(14, ["helm", "upgrade", "--install", "web", "./chart"])])]


def test_shell_words_are_read_as_shlex_reads_them() -> None:
    rng = random.Random(16)
    alphabet = list("ab ;&|()#'\"\\\t$=-é")
    for _ in range(5_000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        for operators, reference in ((True, lambda: list(lex)),
                                     (False, lambda: shlex.split(line, comments=True))):
            try:
                expected: Any = reference()
            except ValueError:
                expected = ValueError
            try:
                got: Any = shell.split_words(line, operators)
            except ValueError:
                got = ValueError
            assert got == expected, (line, operators)


# --- 4. the GitHub Action's base input -------------------------------------------------------

def _gate_script() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    return next(s["run"] for s in action["runs"]["steps"] if s.get("id") == "gate")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd),
                               "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}).stdout


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shallow clone of a two-commit repository (its `origin`), and a fake maturity-scan
    that records its arguments."""
    top = tmp_path_factory.mktemp("action")
    upstream = top / "upstream"
    upstream.mkdir()
    _git(upstream, "init", "-q")
    for message in ("one", "two"):
        _git(upstream, "commit", "-q", "--allow-empty", "-m", message)
    _git(top, "clone", "-q", "--depth=1", f"file://{upstream}", "work")
    (top / "bin").mkdir()
    fake = top / "bin" / "maturity-scan"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{top}/calls"\n')
    fake.chmod(0o755)
    return top


def _run_gate(top: Path, base: str) -> subprocess.CompletedProcess[str]:
    (top / "calls").unlink(missing_ok=True)
    script = top / "gate.sh"
    script.write_text(_gate_script())
    env = {"PATH": f"{top / 'bin'}:/usr/bin:/bin", "HOME": str(top), "GIT_CONFIG_NOSYSTEM": "1",
           "REPO_PATH": str(top / "work"), "BASE": base, "PACK": "", "FAIL_UNDER": "",
           "ALLOW_INCOMPLETE": "false", "SARIF": "false", "RUNNER_TEMP": str(top),
           "GITHUB_OUTPUT": str(top / "output"), "GITHUB_STEP_SUMMARY": str(top / "summary")}
    # As GitHub runs a composite step with `shell: bash`.
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          env=env, capture_output=True, text=True, cwd=top)


@pytest.mark.parametrize("base", [
    "--upload-pack=touch {canary}", "-c core.sshCommand=touch {canary}", "main..evil",
    "main:refs/heads/evil", "+main", "a b", "x\n::warning::injected", "\x1b[2J", "main^{{}}",
])
def test_action_refuses_a_base_that_is_not_a_revision(checkout: Path, base: str) -> None:
    canary = checkout / "canary"
    done = _run_gate(checkout, base.format(canary=canary))
    assert done.returncode == 2
    assert "::error::the 'base' input is not a commit SHA or a ref name" in done.stdout
    assert "injected" not in done.stdout  # the value is never echoed
    assert not canary.exists() and not (checkout / "calls").exists()


@pytest.mark.parametrize("which", ["sha only upstream", "ref name"])
def test_action_passes_a_real_base_on(checkout: Path, which: str) -> None:
    base = _git(checkout / "upstream", "rev-parse", "HEAD~1").strip() if which.startswith("sha") \
        else "main"
    done = _run_gate(checkout, base)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = (checkout / "calls").read_text()
    if base == "main":  # compared with its merge base with the checkout: HEAD itself here
        base = _git(checkout / "work", "rev-parse", "HEAD").strip()
    assert f"diff {checkout / 'work'} --base {base} -o markdown=" in calls
