"""The CI model that follows calls (issue 10): when a job runs (`ci.job_events`), what a step
stands for (`ci.action_command`), what a script hands over to (`shell.calls`), recipes read as
text (`recipes.read`), and whole scans asserting evidence on both sides of each indirection."""
from __future__ import annotations

from pathlib import Path

import pytest

from maturity_scan.sdk import ci, recipes, shell
from maturity_scan.sdk.document import Document, RepoView
from maturity_scan.testing import scan_fixture


@pytest.mark.parametrize("triggers, condition, events", [
    (["push", "pull_request"], "github.event_name == 'push'", ["push"]),
    (["push", "pull_request"], "${{ github.event_name != 'pull_request' }}", ["push"]),
    (["push", "pull_request", "schedule"], "startsWith(github.ref, 'refs/tags/')", ["push"]),
    (["push", "pull_request"], "github.ref == 'refs/heads/main' && github.repository == 'a/b'",
     ["push"]),
    (["push", "pull_request_target"], "github.ref == 'refs/heads/main'",
     ["pull_request_target", "push"]),
    (["push", "pull_request", "schedule"],
     "github.event_name == 'schedule' || github.event_name == 'pull_request'",
     ["pull_request", "schedule"]),
    (["push", "pull_request"], "github.event_name == 'push' || always()",
     ["pull_request", "push"]),
    (["push", "pull_request"], """contains(fromJSON('["push"]'), github.event_name)""", ["push"]),
    (["push", "pull_request"], "success()", ["pull_request", "push"]),
    (["push", "pull_request"], "", ["pull_request", "push"]),
])
def test_job_events(triggers: list[str], condition: str, events: list[str]) -> None:
    assert list(ci.job_events(triggers, condition)) == events


@pytest.mark.parametrize("uses, inputs, command", [
    ("nick-invision/retry@v3", {"command": "npm run test:server"}, "npm run test:server"),
    ("cypress-io/github-action@v6", {"start": "npm start"}, "cypress run"),
    ("aquasecurity/trivy-action@0.28.0", {"args": "--exit-code 1"}, "trivy --exit-code 1"),
    ("snyk/actions/node@master", {}, "snyk test"),
    ("helm/kind-action@v1", {}, "kind create cluster"),
    ("actions/checkout@v4", {"command": 5}, ""),
    ("actions/setup-node@v4", {"node-version": "20"}, ""),
])
def test_action_command(uses: str, inputs: dict, command: str) -> None:
    assert ci.action_command(ci.Step(1, uses=uses, inputs=inputs)) == command


def test_local_target() -> None:
    assert ci.local_target("./.github/actions/trivy") == ".github/actions/trivy"
    assert ci.local_target("./.github/workflows/_t.yml") == ".github/workflows/_t.yml"
    assert ci.local_target("./../outside") == ""
    assert ci.local_target("actions/checkout@v4") == ""


@pytest.mark.parametrize("script, calls", [
    ("make test lint", [("make", "test"), ("make", "lint")]),
    ("make -j4 ci V=1", [("make", "ci")]),
    ("make -C app test", []),  # another folder's Makefile: not followed
    ("make test-${target}", []),
    ("just check", [("just", "check")]),
    ("task ci", [("task", "ci")]),
    ("npm run test:server", [("npm", "test:server")]),
    ("npm test", [("npm", "test")]),
    ("yarn lint", [("npm", "lint")]),
    ("yarn install --frozen-lockfile", []),
    ("pnpm --filter web test", []),
    ("tox -e py311,lint", [("tox", "py311"), ("tox", "lint")]),
    ("tox", [("tox", "")]),
    ("uv run tox run -p auto", [("tox", "")]),
    ("tox --version", []),
    ("tox list", []),
    ("nox -s tests", [("nox", "tests")]),
    ("./scripts/test.sh --fast", [("script", "scripts/test.sh")]),
    ("bash ci/run.sh", [("script", "ci/run.sh")]),
    ("bash -c 'pytest'", []),
    ("echo make test", []),
    ("sh ../x.sh", []),
])
def test_calls(script: str, calls: list[tuple[str, str]]) -> None:
    assert [(c.runner, c.name) for c in shell.calls(script)] == calls


def test_compose_run_is_the_command_in_the_service() -> None:
    assert list(shell.commands("docker compose run --rm app pytest -q")) == [
        ["docker", "compose", "run", "--rm", "app", "pytest", "-q"], ["pytest", "-q"]]
    assert shell.runs("docker-compose -f ci.yml exec -T web python -m pytest", shell.TESTS) == \
        "pytest"
    assert shell.runs("docker compose up -d", shell.TESTS) == ""
    assert shell.runs("sh -c 'make test-${target}'", shell.TESTS) == ""
    assert shell.runs("make test-${target}", shell.TESTS) == "make test-${target}"


def _doc(path: str, text: str | bytes) -> Document:
    data = text.encode() if isinstance(text, str) else text
    return Document(path, data, RepoView(frozenset({path})))


def _read(path: str, text: str | bytes) -> dict[str, list[tuple[int, str]]]:
    return {r.name: list(r.body) for r in recipes.read(_doc(path, text))}


def test_recipes_makefile() -> None:
    got = _read("Makefile", "X := 1\n.PHONY: ci\nci: lint test\n\n"
                            "test:\n\t@$(MAKE) unit\n\t# comment\n\n\t-pytest -q\n"
                            "%.o: %.c\n\tcc $<\nlint: ; ruff check .\n")
    assert got["ci"] == [(3, "make lint test")]
    assert got["test"] == [(6, "make unit"), (9, "pytest -q")]
    assert got["lint"] == [(12, "ruff check .")]
    assert "X" not in got and "%.o" not in got


def test_recipes_justfile_taskfile_package_json() -> None:
    assert _read("justfile", "set shell := ['bash']\ncheck: lint\n  cargo test\n") == \
        {"check": [(2, "just lint"), (3, "cargo test")]}
    tasks = _read("Taskfile.yml", "version: '3'\ntasks:\n  ci:\n    deps: [lint]\n    cmds:\n"
                                  "      - go test ./...\n      - task: e2e\n")
    assert tasks["ci"][0] == (3, "task lint")
    assert (6, "go test ./...") in tasks["ci"] and any(t == "task e2e" for _, t in tasks["ci"])
    assert _read("package.json", '{\n "scripts": {\n  "test:unit": "vitest run"\n }\n}') == \
        {"test:unit": [(3, "vitest run")]}
    assert _read("package.json", '{"scripts": ') == {}  # not JSON: nothing, no error


def test_recipes_tox_nox_script() -> None:
    tox = _read("tox.ini", "[tox]\nenvlist = py\n[testenv]\ncommands =\n    pytest {posargs}\n"
                           "[testenv:lint]\ncommands = ruff check .\n")
    assert tox == {"": [(5, "pytest {posargs}")], "lint": [(7, "ruff check .")]}
    nox = _read("noxfile.py", "import nox\n\n@nox.session(python=['3.12'])\ndef tests(session):\n"
                              "    session.install('.')\n    session.run('pytest', '-q')\n\n"
                              "@nox.session(name='audit')\ndef _audit(session):\n"
                              "    session.run(\"pip-audit\")\n")
    assert nox == {"tests": [(6, "pytest -q")], "audit": [(10, "pip-audit")]}
    assert _read("scripts/t.sh", "#!/bin/sh\n# x\nset -e\npytest\n") == \
        {"scripts/t.sh": [(3, "set -e"), (4, "pytest")]}
    assert _read("scripts/t.sh", b"\x00\x01binary") == {}
    assert _read("docs/Makefile", "test:\n\tpytest\n") == {}  # only the root's task files


def _write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def _evidence(root: Path, kind: str = "github_actions") -> tuple[dict, set[tuple[str, int, str]]]:
    result = scan_fixture(root)
    sig = next(s for s in result.signals if s.kind == kind)
    return dict(sig.facts), {(e.path, e.line or 0, e.detail) for e in sig.evidence}


WORKFLOW = "on: [pull_request]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: {}\n"


@pytest.mark.parametrize("run, file, text, recipe_line, detail", [
    ("just check", "justfile", "check:\n  cargo test --all\n", 2, "just check runs cargo test"),
    ("task ci", "Taskfile.yml", "version: '3'\ntasks:\n  ci:\n    cmds:\n      - go test ./...\n",
     5, "task ci runs go test"),
    ("tox -e lint", "tox.ini", "[testenv:lint]\ncommands =\n  bandit -r src\n", 3,
     "tox -e lint scans with bandit"),
    ("tox", "tox.ini", "[tox]\nenvlist = py\n[testenv]\ncommands = pip-audit\n  bandit -r s\n",
     5, "tox [testenv] scans with bandit"),
    ("nox -s audit", "noxfile.py", "@nox.session\ndef audit(session):\n"
     "    session.run('semgrep', 'ci')\n", 3, "nox -s audit scans with semgrep"),
    ("make ci", "Makefile", "ci: unit\nunit:\n\tpytest -q\n", 3, "make unit runs pytest -q"),
])
def test_scan_follows_recipes(tmp_path: Path, run: str, file: str, text: str,
                              recipe_line: int, detail: str) -> None:
    root = _write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format(run), file: text})
    facts, evidence = _evidence(root)
    label = next(iter(shell.calls(run))).label
    assert (".github/workflows/ci.yml", 6, f"job t -> {label}") in evidence
    assert (file, recipe_line, detail) in evidence


def test_scan_cycle_and_depth_are_bounded(tmp_path: Path) -> None:
    chain = "".join(f"t{i}: t{i + 1}\n" for i in range(12)) + "t12:\n\tpytest\n"
    root = _write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format("make a t0"),
                             "Makefile": "a: b\nb: a\n\tsemgrep ci\n" + chain})
    facts, evidence = _evidence(root)
    assert facts["scanners"] == ["semgrep"]  # a -> b runs semgrep; b -> a is not walked again
    assert not any(path == "Makefile" and "pytest" in detail for path, _, detail in evidence)


def test_reusable_workflow_inherits_the_callers_events_and_if(tmp_path: Path) -> None:
    callee = ("on:\n  workflow_call:\njobs:\n  u:\n    runs-on: x\n    steps:\n"
              "      - run: pytest\n")
    caller = ("on: [push, pull_request]\njobs:\n  a:\n    if: github.event_name == 'push'\n"
              "    uses: ./.github/workflows/_t.yml\n")
    root = _write(tmp_path, {".github/workflows/_t.yml": callee,
                             ".github/workflows/ci.yml": caller})
    facts, evidence = _evidence(root)
    assert facts["runs_tests"] and not facts["tests_on_pull_request"]
    root2 = _write(tmp_path / "b", {".github/workflows/_t.yml": callee,
                                    ".github/workflows/ci.yml": caller.replace(
                                        "    if: github.event_name == 'push'\n", "")})
    facts, evidence = _evidence(root2)
    assert facts["tests_on_pull_request"]
    assert (".github/workflows/_t.yml", 7, "job u runs pytest") in evidence
    assert (".github/workflows/ci.yml", 3, "job a -> .github/workflows/_t.yml") in evidence


def test_no_workflows_no_github_actions(tmp_path: Path) -> None:
    root = _write(tmp_path, {"Makefile": "test:\n\tpytest\n", "package.json": "{}",
                             ".github/actions/x/action.yml": "runs: {using: composite, steps: []}"})
    assert not any(s.kind == "github_actions" for s in scan_fixture(root).signals)


def test_follow_is_linear_in_a_dense_recipe_graph(tmp_path: Path) -> None:
    """Every target depending on every other: each is expanded once per job call, not once
    per path (which would be n**depth)."""
    n = 300
    names = " ".join(f"t{i}" for i in range(n))
    makefile = "".join(f"t{i}: {names}\n\techo {i}\n" for i in range(n)) + "ci: t0\n\tsemgrep ci\n"
    root = _write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format("make ci t1"),
                             "Makefile": makefile})
    import time

    start = time.monotonic()
    facts, evidence = _evidence(root)
    assert facts["scanners"] == ["semgrep"]
    assert time.monotonic() - start < 10


def test_tool_detectors_read_local_composite_actions(tmp_path: Path) -> None:
    """`ci.CI_FILES` holds local composite actions: a tool run in one counts as run in CI."""
    root = _write(tmp_path, {
        ".github/workflows/ci.yml": "on: [pull_request]\njobs:\n  s:\n    runs-on: x\n"
                                    "    steps:\n      - uses: ./.github/actions/trivy\n",
        ".github/actions/trivy/action.yml": "runs:\n  using: composite\n  steps:\n"
                                            "    - uses: aquasecurity/setup-trivy@v0.2.2\n"
                                            "    - shell: bash\n"
                                            "      run: trivy image --exit-code 1 app:latest\n",
        "tools/action.yml": "runs:\n  using: composite\n  steps:\n    - run: semgrep ci\n"})
    facts, evidence = _evidence(root, "trivy")
    assert facts["in_ci"]
    assert (".github/actions/trivy/action.yml", 6, "job action runs trivy image") in evidence
    assert not any(s.kind == "semgrep" for s in scan_fixture(root).signals)  # not under .github


def test_step_if_narrows_too(tmp_path: Path) -> None:
    action = ("runs:\n  using: composite\n  steps:\n"
              "    - if: github.event_name == 'push'\n      shell: bash\n      run: pytest\n")
    steps = ("on: [push, pull_request]\njobs:\n  t:\n    runs-on: x\n    steps:\n"
             "      - if: ${{ github.event_name != 'pull_request' }}\n        run: go test ./...\n"
             "      - uses: ./.github/actions/t\n")
    root = _write(tmp_path, {".github/workflows/ci.yml": steps,
                             ".github/actions/t/action.yml": action})
    facts, evidence = _evidence(root)
    assert facts["runs_tests"] and not facts["tests_on_pull_request"]
    assert (".github/actions/t/action.yml", 4, "action ./.github/actions/t runs pytest") in evidence
    facts, _ = _evidence(_write(tmp_path / "b", {
        ".github/workflows/ci.yml": steps.replace("!=", "=="),
        ".github/actions/t/action.yml": action.replace("'push'", "'pull_request'")}))
    assert facts["tests_on_pull_request"]


@pytest.mark.parametrize("script, deploys, e2e", [
    ("[kind create cluster, kubectl apply -f k8s/]", False, True),
    ("[kubectl apply -f k8s/]", True, None),
    ("[kind create cluster, terraform apply -auto-approve]", True, None),
])
def test_gitlab_deploy_into_own_cluster(tmp_path: Path, script: str, deploys: bool,
                                        e2e: bool | None) -> None:
    root = _write(tmp_path, {".gitlab-ci.yml": f"e2e:\n  script: {script}\n"})
    facts, _ = _evidence(root, "gitlab_ci")
    assert facts["deploys"] is deploys and facts.get("e2e_tests") is e2e


@pytest.mark.parametrize("path, text", [
    ("Makefile", "a " * 100_000 + "\n"),
    ("Makefile", "t:" + " d" * 100_000 + "\n\tpytest\n"),
    ("justfile", "r" + " x" * 100_000 + "\n"),
    ("justfile", "r " + "y" * 200_000 + "\n"),
    ("noxfile.py", "@nox.session\ndef s(session):\n    session.run(" + "'a', " * 50_000 + "\n"),
    ("tox.ini", "[testenv]\ncommands = " + "x " * 100_000 + "\n"),
    ("package.json", "[" * 100_000),
])
def test_hostile_recipes_are_read_in_linear_time(path: str, text: str) -> None:
    import time

    start = time.process_time()  # CPU, not wall: the machine may be loaded
    recipes.read(_doc(path, text))
    assert time.process_time() - start < 2


def test_hostile_recipe_through_a_scan(tmp_path: Path) -> None:
    import time

    root = _write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format("make t"),
                             "Makefile": "t:" + "".join(f" d{i}" for i in range(50_000)) +
                                         "\n\tpytest\n" + "".join(f"d{i}:\n\tmake t\n"
                                                                  for i in range(2_000))})
    start = time.monotonic()
    facts, evidence = _evidence(root)
    assert facts["runs_tests"] and ("Makefile", 2, "make t runs pytest") in evidence
    assert time.monotonic() - start < 30


def test_recipes_of_another_folder_are_not_followed(tmp_path: Path) -> None:
    assert [c.name for c in shell.calls("cd app && make test")] == []
    assert [c.name for c in shell.calls("make lint && cd app && make test")] == ["lint"]
    assert [c.name for c in shell.calls("cd $GITHUB_WORKSPACE && make test")] == ["test"]
    wf = ("on: [pull_request]\ndefaults:\n  run:\n    working-directory: web\njobs:\n  t:\n"
          "    runs-on: x\n    steps:\n      - run: make scan\n"
          "      - working-directory: .\n        run: make lint\n")
    root = _write(tmp_path, {".github/workflows/ci.yml": wf,
                             "Makefile": "scan:\n\ttrivy fs .\nlint:\n\tsemgrep ci\n"})
    facts, evidence = _evidence(root)
    assert facts["scanners"] == ["semgrep"]
