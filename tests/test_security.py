"""Unit tests for the security, supply-chain and release detectors and their CI helper."""
from __future__ import annotations

import pytest
from maturity_scan.detectors import (codeql, iac_scanning, pre_commit, release_automation, renovate,
                                     secret_scanning, semgrep, snyk, sonarqube, supply_chain, trivy)
from maturity_scan.sdk.ci import action_name, find
from maturity_scan.sdk.document import Document, ParseError

CI_DETECTORS = [trivy, codeql, semgrep, sonarqube, snyk, secret_scanning, iac_scanning,
                supply_chain, release_automation]


def wf(text: str, path: str = ".github/workflows/ci.yml") -> Document:
    return Document(path, text.encode())


@pytest.mark.parametrize("mod", CI_DETECTORS, ids=lambda m: m.DETECTOR.id)
def test_broken_workflow_is_not_blamed_on_security_detectors(mod) -> None:  # type: ignore[no-untyped-def]
    for path in (".github/workflows/ci.yml", ".gitlab-ci.yml"):
        assert list(mod.DETECTOR.analyze(wf("jobs: [\n  trivy image x\n", path))) == []


@pytest.mark.parametrize("mod", [secret_scanning, iac_scanning, semgrep],
                         ids=lambda m: m.DETECTOR.id)
def test_broken_pre_commit_config_is_reported_by_pre_commit_only(mod) -> None:  # type: ignore[no-untyped-def]
    doc = Document(".pre-commit-config.yaml", b"repos: [\n")
    assert list(mod.DETECTOR.analyze(doc)) == []
    with pytest.raises(ParseError):
        list(pre_commit.DETECTOR.analyze(Document(".pre-commit-config.yaml", b"repos: [\n")))


def test_docker_image_steps_and_action_names() -> None:
    assert action_name("docker://aquasec/trivy:0.50.0") == "docker://aquasec/trivy"
    assert action_name("Aquasecurity/Trivy-Action@master") == "aquasecurity/trivy-action"
    doc = wf("on: push\njobs:\n  s:\n    runs-on: x\n    steps:\n"
             "      - uses: docker://aquasec/trivy:0.50.0\n        with:\n          args: fs .\n")
    hits = list(find(doc, images=("aquasec/trivy",)))
    assert [(h.via, h.line) for h in hits] == [("action", 6)]


@pytest.mark.parametrize("cmd, scan", [
    (["trivy", "image", "app"], "image"), (["trivy", "fs", "."], "fs"),
    (["trivy", "--quiet", "config", "."], "config"), (["trivy", "k8s", "cluster"], "k8s"),
    (["trivy", "alpine:3.19"], "image"), (["trivy", "--version"], None),
    (["trivy", "server"], None)])
def test_trivy_scan_types(cmd: list[str], scan: str | None) -> None:
    assert trivy.cli_scan_type(cmd) == scan


def test_nested_workflow_folder_is_not_ci() -> None:
    doc = wf("on: push\njobs:\n  s:\n    steps:\n      - run: trivy fs .\n",
             "sub/.github/workflows/ci.yml")
    assert list(trivy.DETECTOR.analyze(doc)) == []


def test_json5_keeps_urls_and_line_count() -> None:
    cfg = renovate.json5("{\n // c\n url: 'https://a//b', /* x */ extends: ['a',],\n}\n")
    assert cfg == {"url": "https://a//b", "extends": ["a"]}
    with pytest.raises(ParseError):
        renovate.json5("{ extends: [ }")


@pytest.mark.parametrize("script, expected", [
    ("npm test", True), ("yarn run test:unit", True), ("go test ./...", True),
    ("poetry run pytest -q", True), ("make test", True), ("npx lint-staged", False),
    ("echo 'npm test'", False), ("go vet ./...", False)])
def test_hook_runs_tests(script: str, expected: bool) -> None:
    assert pre_commit.runs_tests(script) is expected


def test_supply_chain_run_commands() -> None:
    run = supply_chain._run
    assert run(["cosign", "sign", "--yes", "img"]) == [("signing", "cosign")]
    assert run(["cosign", "verify", "img"]) == []
    assert run(["docker", "buildx", "build", "--sbom=true", "--provenance=false", "."]) == \
        [("sbom", "buildx")]
    assert run(["trivy", "image", "--format", "cyclonedx", "x"]) == [("sbom", "trivy")]
    assert run(["trivy", "image", "--format", "sarif", "x"]) == []
    assert run(["npm", "publish", "--provenance"]) == [("provenance", "npm-provenance")]


def test_docker_run_with_volume_options_finds_the_image() -> None:
    doc = wf("on: push\njobs:\n  s:\n    steps:\n      - run: |\n"
             "          docker run --rm -v /var/run/docker.sock:/var/run/docker.sock "
             "-e X=1 aquasec/trivy:0.50.0 image --exit-code 1 app\n"
             "          echo \"docker run aquasec/trivy fs .\"\n")
    hits = list(find(doc, programs=("trivy",)))
    assert [(h.line, h.words[:2]) for h in hits] == [(6, ["trivy", "image"])]
