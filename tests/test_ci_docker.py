"""Tests run inside an image the job builds (truth-review finding 5): a GitHub Actions job's
`docker build -t NAME CONTEXT` (or docker/build-push-action) linked to its later `docker run
NAME`, the Dockerfile read as a recipe (text only: never built or run)."""
from __future__ import annotations

from pathlib import Path

import pytest

from maturity_scan.sdk import ci, recipes
from maturity_scan.sdk.document import Document, RepoView
from maturity_scan.testing import scan_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github_actions"


def _read(path: str, text: str) -> dict[str, list[tuple[int, str]]]:
    doc = Document(path, text.encode(), RepoView(frozenset({path})))
    return {r.runner: list(r.body) for r in recipes.read(doc)}


@pytest.mark.parametrize("text, run", [
    ('FROM x\nCMD ["pytest", "-q"]\n', [(2, "pytest -q")]),
    ("FROM x\nCMD pytest -q\n", [(2, "pytest -q")]),  # shell form
    ('FROM x\nCMD ["sh", "-c", "npm test && echo ok"]\n', [(2, "npm test && echo ok")]),
    ('FROM x\nENTRYPOINT ["go", "test"]\nCMD ["./..."]\n', [(3, "go test ./...")]),
    ('FROM x\nCMD ["pytest"]\nENTRYPOINT ["/srv"]\n', [(3, "/srv")]),  # ENTRYPOINT resets CMD
    ('FROM x AS t\nCMD ["pytest"]\nFROM x\nCMD ["server"]\n', [(4, "server")]),  # last stage
    ('FROM x\nCMD ["pytest", "-q"\n', []),  # unterminated exec form: nothing it runs
    ("FROM x\n# CMD pytest\n", []),
])
def test_what_an_image_runs(text: str, run: list[tuple[int, str]]) -> None:
    assert _read("test/Dockerfile", text).get("docker", []) == run


def test_what_building_an_image_runs() -> None:
    body = _read("Dockerfile", "FROM x\nRUN --mount=type=cache,target=/c \\\n    go test ./...\n"
                               "RUN pip install -r r.txt\n# RUN pytest\n")["docker-build"]
    assert body == [(2, "go test ./..."), (4, "pip install -r r.txt")]


def test_dockerfile_calls_are_not_followed_to_the_root() -> None:
    """`CMD make test` runs the image's own copy, not the root Makefile's recipe."""
    doc = Document("test/Dockerfile", b"FROM x\nCMD make test\n",
                   RepoView(frozenset({"test/Dockerfile"})))
    assert not [r for r in ci.recipe_links(doc, lambda *a: iter(())) if r["k"] == "call"]


def test_tests_in_a_built_image_count_with_both_places() -> None:
    gha = scan_fixture(FIXTURES / "positive_docker_tests").signal("github_actions")
    assert gha.facts["runs_tests"] and gha.facts["tests_on_pull_request"]
    chains = {(e.path, e.line) for e in gha.evidence if "runs_tests" in e.supports}
    assert chains == {(".github/workflows/ci.yml", 10), ("test/Dockerfile", 6),
                      (".github/workflows/ci.yml", 20), ("tracetest/Dockerfile", 9),
                      (".github/workflows/ci.yml", 24), ("buildtest/Dockerfile", 4)}
    # the first stage's server CMD is not what the image runs
    assert not any(e.path == "tracetest/Dockerfile" and e.line == 3 for e in gha.evidence)


@pytest.mark.parametrize("case", ["negative_docker_app_image", "malformed_dockerfile"])
def test_near_misses_and_broken_dockerfiles_run_no_tests(case: str) -> None:
    result = scan_fixture(FIXTURES / case)
    gha = result.signal("github_actions")
    assert not gha.facts.get("runs_tests")
    assert not any(e.path.endswith("Dockerfile") for e in gha.evidence)
    assert not result.errors


def test_a_recipe_that_builds_and_runs_the_test_image() -> None:
    """opentelemetry-demo: `make run-telemetry-tests` starts compose, builds and runs the
    telemetry test image (ENTRYPOINT pytest): a full-environment test on every change."""
    gha = scan_fixture(FIXTURES / "positive_docker_tests_in_recipe").signal("github_actions")
    assert gha.facts["full_env_test_triggers"] == ["pull_request", "push"]
    assert gha.facts["full_env_test_stacks"] == ["compose"]
    full = [(e.path, e.line) for e in gha.evidence if "full_env_test_stacks" in e.supports]
    assert set(full) == {(".github/workflows/telemetry.yml", 11), ("Makefile", 7),
                         ("test/telemetry/Dockerfile", 5)}


@pytest.mark.parametrize("script, calls", [
    ("docker build -t t ./test\ndocker run --rm t", ["docker-build:test/Dockerfile",
                                                      "docker:test/Dockerfile"]),
    ("docker buildx build --load --tag=reg.io/o/t:1 -f docker/T.Dockerfile .\ndocker run t",
     ["docker-build:docker/T.Dockerfile", "docker:docker/T.Dockerfile"]),
    ("docker build -t t .\ndocker run t pytest", ["docker-build:Dockerfile"]),  # own command
    ("docker compose build t\ndocker run t", []),  # compose's build: not a `docker build`
    ("docker build -t t ../other\ndocker run t", []),  # outside the root
    ("docker build -t t $CTX\ndocker run t", []),
    ("docker run t", []),
])
def test_which_runs_are_linked_to_a_dockerfile(script: str, calls: list[str]) -> None:
    images: dict[str, str] = {}
    assert [t for t, _ in ci.docker_calls(ci.Step(1, run=script), images)] == calls


@pytest.mark.parametrize("script, calls", [
    ("docker compose -f t.yml run --rm tests", ["compose:t.yml#tests"]),
    ("docker-compose run -e A=1 tests", [f"compose:{f}#tests" for f in ci.COMPOSE_DEFAULTS]),
    ("docker compose run tests pytest", []),  # a command of its own: read as that command
    ("docker compose run --entrypoint sh tests", []),
    ("docker compose -f ../x.yml run tests", []),
    ("docker compose up -d", []),
])
def test_which_compose_runs_are_linked_to_a_service(script: str, calls: list[str]) -> None:
    assert [t for t, _ in ci.docker_calls(ci.Step(1, run=script), {})] == calls


def test_compose_run_of_a_test_service_counts() -> None:
    gha = scan_fixture(FIXTURES / "positive_compose_run_tests").signal("github_actions")
    assert {(e.path, e.line) for e in gha.evidence if "runs_tests" in e.supports} == {
        (".github/workflows/ci.yml", 8), ("docker-compose-tests.yml", 5)}


def test_a_continued_makefile_command_is_one_command() -> None:
    """opentelemetry-demo's `run-telemetry-tests`: `docker run --rm \\` continued over lines
    (options starting with `-` kept, `$(DOCKER_CMD)` read as docker) ending in the image."""
    text = ("DOCKER_CMD ?= docker\nt:\n\t@set +e; \\\n\t$(DOCKER_CMD) run --rm \\\n"
            "\t\t-e A=1 \\\n\t\timg; \\\n\trc=$$?\n")
    doc = Document("Makefile", text.encode(), RepoView(frozenset({"Makefile"})))
    [recipe] = recipes.read(doc)
    assert list(recipe.body) == [(3, "set +e; docker run --rm -e A=1 img; rc=$$?")]


def test_shell_keywords_on_one_line_are_not_programs() -> None:
    from maturity_scan.sdk import shell

    assert [w[0] for w in shell.commands(
        "if true; then echo a; else kind create cluster; fi")] == ["true", "echo", "kind", "fi"]
    assert shell.runs('for o in overlays/*; do kustomize build "$o"; done',
                      {"kustomize": ("build",)}) == "kustomize build"
