"""Reading shell steps structurally: what a CI script runs, not what it mentions."""
from __future__ import annotations

import pytest

from maturity_scan.sdk import shell


@pytest.mark.parametrize("script, first", [
    ('echo "helm upgrade later; docker build never"', ["echo", "helm upgrade later; docker build never"]),
    ("docker run --rm -v $PWD:/src aquasec/trivy:0.50 fs /src", ["trivy", "fs", "/src"]),
    ("npx semantic-release@25.0.1 # pytest", ["semantic-release"]),
    ("python -m pytest -q", ["pytest", "-q"]),
    ("uv run --locked --group dev tox run", ["tox", "run"]),
    ("FOO=1 sudo -u app make test", ["make", "test"]),
    ("cd app && \\\n  go test ./...", ["cd", "app"]),
])
def test_commands(script: str, first: list[str]) -> None:
    assert next(iter(shell.commands(script))) == first


@pytest.mark.parametrize("script, tests, deploys", [
    ("pnpm --filter web test", "pnpm test", ""),
    ("make -C app test", "make test", ""),
    ("kubectl -n prod apply -f k8s/", "", "kubectl apply"),
    ("mvn -B -DskipTests package", "", ""),
    ("npm run test:unit", "npm run test:unit", ""),
    ("echo pytest && helm lint charts/x", "", ""),
    ("x=$(go test ./...)", "go test", ""),
])
def test_runs(script: str, tests: str, deploys: str) -> None:
    assert shell.runs(script, shell.TESTS) == tests
    assert shell.runs(script, shell.DEPLOYS) == deploys
