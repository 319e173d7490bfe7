"""What the accuracy benchmark (benchmarks/accuracy.py) found on real repositories, fixed in
general: unsupported CI systems are noted in the report, and the benchmark's own reading of a
scan (a kind counts only with evidence outside test data and vendored copies)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from maturity_scan import api, report
from maturity_scan.reporters import text
from maturity_scan.testing import scan_fixture

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _report(case: Path) -> dict:
    result = scan_fixture(case)
    rep = report.build(result, api.assess(result, api.get_pack(api.DEFAULT_PACK)), timings=False)
    report.validate(rep)
    return rep


def test_travis_and_other_unsupported_ci_are_listed_not_read() -> None:
    rep = _report(FIXTURES / "unsupported_ci" / "positive_travis")
    assert rep["unsupported"] == [
        {"path": ".travis.yml", "system": "Travis CI",
         "reason": "Travis CI is not supported: its pipelines are not read and count for nothing"},
        {"path": ".woodpecker/test.yaml", "system": "Woodpecker",
         "reason": "Woodpecker is not supported: its pipelines are not read and count for nothing"},
        {"path": "appveyor.yml", "system": "AppVeyor",
         "reason": "AppVeyor is not supported: its pipelines are not read and count for nothing"},
    ]
    # the pytest run in .travis.yml credits nothing: no CI kind, no CI requirement met by it
    kinds = {s["kind"] for s in rep["signals"]}
    assert not kinds & {"github_actions", "gitlab_ci", "circleci", "unit_tests"}
    met = [e for d in rep["dimensions"] for m in d["met"] for e in m["evidence"]]
    assert not any(e["path"] == ".travis.yml" for e in met)
    out = text.render(rep)
    assert "Not read (unsupported CI systems" in out
    assert "  .travis.yml  Travis CI" in out


@pytest.mark.parametrize("case", ["negative_elsewhere", "malformed_binary"])
def test_no_unsupported_entry_for_near_misses(case: str) -> None:
    rep = _report(FIXTURES / "unsupported_ci" / case)
    assert "unsupported" not in rep
    assert "Not read" not in text.render(rep)


def _benchmark():
    spec = importlib.util.spec_from_file_location("accuracy", ROOT / "benchmarks" / "accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_counts_only_the_repositorys_own_practice() -> None:
    """A library whose Deployment and HPA live in tests/fixtures/ has neither, for the benchmark
    as for the assessment; they are reported as set aside."""
    accuracy = _benchmark()
    result = scan_fixture(FIXTURES / "scope" / "library_test_fixtures")
    own, aside = accuracy.own_kinds(result)
    assert {"kubernetes_manifests", "autoscaling"} <= aside
    assert not {"kubernetes_manifests", "autoscaling"} & own
    assert "unit_tests" in own


def test_benchmark_truth_gives_a_reason_for_every_call() -> None:
    import yaml

    accuracy = _benchmark()
    truth = yaml.safe_load((ROOT / "benchmarks" / "accuracy_truth.yaml").read_text())
    repos = truth["repositories"]
    assert len(repos) >= 30 and len({r["repo"] for r in repos}) == len(repos)
    for entry in repos:
        present, absent = accuracy.calls(entry, "present"), accuracy.calls(entry, "absent")
        assert present and absent and not set(present) & set(absent), entry["repo"]
        assert len(entry["commit"]) == 40
    with pytest.raises(SystemExit, match="reason"):
        accuracy.calls({"repo": "a/b", "present": ["github_actions"]}, "present")


def test_a_script_deploying_into_the_jobs_own_cluster_is_an_e2e_test_not_a_deploy() -> None:
    """Found on stefanprodan/podinfo: helm/kind-action, then `./test/e2e.sh` running `helm
    upgrade --install` was "deployment is automated"."""
    result = scan_fixture(FIXTURES / "github_actions" / "positive_own_cluster_script")
    gha = result.signal("github_actions")
    deploys = {(e.path, e.line) for e in gha.evidence if "deploys" in e.supports}
    e2e = {(e.path, e.line) for e in gha.evidence if "e2e_tests" in e.supports}
    assert deploys == {(".github/workflows/e2e.yml", 18), ("scripts/deploy.sh", 2)}
    assert {(".github/workflows/e2e.yml", 12), ("test/e2e.sh", 3)} <= e2e  # 4 only waits
    assert not any(p == "test/e2e.sh" for p, _ in deploys)


@pytest.mark.parametrize("path, scope", [
    ("tests/manifests/hpa.yaml", "test"),  # kube-state-metrics: what the e2e tests apply
    ("test/manifests/np.yaml", "test"),
    ("tests/data/x.yaml", "test"),
    ("deploy/manifests/deployment.yaml", None),  # the repository's own manifests
    ("manifests/tests/x.yaml", None),  # a "tests" folder inside manifests: not a test folder
    ("tests/e2e/manifests/x.yaml", None),  # only directly inside the test folder
])
def test_manifests_a_test_applies_are_test_data(path: str, scope: str | None) -> None:
    from maturity_scan.engine.scan import path_scope

    assert path_scope(path) == scope


@pytest.mark.parametrize("path, scope", [
    ("velero-cel/block-restore/.chainsaw-test/bad-restore.yaml", "test"),  # kyverno/policies
    ("best-practices/add-np/.kyverno-test/resource.yaml", "test"),
    (".chainsaw/crds/certificates.yaml", "test"),
    ("flux-cel/verify-git/.chainsaw-test-rename-after-fix/bad.yaml", "test"),
    ("best-practices/add-np/.kyverno-test/kyverno-test.yaml", None),  # the test itself
    ("best-practices/add-np/.chainsaw-test/chainsaw-test.yaml", None),
    ("best-practices/add-np/add-network-policy.yaml", None),  # the policy
])
def test_chainsaw_and_kyverno_test_resources_are_test_data(path: str, scope: str | None) -> None:
    from maturity_scan.engine.scan import path_scope

    assert path_scope(path) == scope
