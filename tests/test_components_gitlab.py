"""GitLab CI narrowed to the services a job is for (issue 15): a job whose `rules:` (every one
that can start it) or `only:` have `changes:`, `except: changes:`, a `parallel: matrix:` over
services and the pipeline's `workflow: rules: changes:` cover only the components they reach,
as GitHub `paths:` filters do; changes that reach no component leave the job the repository's."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from maturity_scan.assess.components import Component, _Coverage, discover, divide
from maturity_scan.cli import main
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.model import Evidence, Signal

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "gitlab_ci"


def _lines(root: Path) -> dict[str, set[int]]:
    """Per component, the lines of `.gitlab-ci.yml` whose evidence it gets."""
    result = scan_source(WorkTreeSource(root), ScanOptions(jobs=0, cache=False, components=True))
    assert not result.errors
    found = discover(result.signals, result.dirs)
    shares = divide(found, result.parts)
    return {c.id: {e.line for s in shares[c.id] if s.kind == "gitlab_ci" for e in s.evidence
                   if e.path == ".gitlab-ci.yml"} for c in found}


def _services(tmp_path: Path, *names: str) -> Path:
    """A repository of services (a Dockerfile each under services/)."""
    root = tmp_path / "repo"
    for name in names:
        (root / "services" / name).mkdir(parents=True)
        (root / "services" / name / "Dockerfile").write_text("FROM scratch\n")
    return root


def test_changes_rules_only_except_and_matrix_assign_ci_to_the_right_services() -> None:
    lines = _lines(CASES / "positive_monorepo_changes")
    # 1 the pipeline, 14 orders-test and 17/21 orders-deploy (rules: changes: through extends),
    # 29 payments-test (only: changes:), 37 service-tests (services/$SERVICE_NAME/**: all),
    # 44 per-service (matrix orders, payments), 50 smoke (except: changes: services/web/**),
    # 54 web-build (`cd services/web`), 58 the SAST include below the jobs (every service)
    assert lines == {"orders": {1, 14, 17, 21, 37, 44, 50, 58},
                     "payments": {1, 29, 37, 44, 50, 58},
                     "web": {1, 37, 54, 58}}


def test_changes_that_reach_no_service_or_do_not_decide_alone_cover_every_service() -> None:
    lines = _lines(CASES / "negative_changes_no_component")
    # docs/** reaches no service; orders-or-tags also runs on tags; a `when: never` changes
    # rule followed by one that always runs; a script naming a folder of no service (tools)
    assert lines["orders"] == lines["payments"] == {1, 5, 11, 18, 20, 22, 25}


def test_malformed_changes_narrow_nothing() -> None:
    lines = _lines(CASES / "malformed_changes")
    assert lines["orders"] == {1, 5, 10, 15, 19, 25, 40}
    assert lines["payments"] == lines["orders"] | {29, 35}  # the extends cycle: loop-b's rules


def test_workflow_rules_changes_narrow_the_whole_pipeline(tmp_path: Path) -> None:
    root = _services(tmp_path, "orders", "payments")
    (root / ".gitlab-ci.yml").write_text(
        "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n      when: never\n"
        "    - changes: [services/orders/**, .gitlab-ci.yml]\n"
        "test:\n  script: pytest\n")
    assert _lines(root) == {"orders": {1, 7}, "payments": set()}
    (root / ".gitlab-ci.yml").write_text(
        "workflow:\n  rules:\n    - changes: [services/orders/**]\n    - when: always\n"
        "test:\n  script: pytest\n")
    assert _lines(root) == {"orders": {1, 6}, "payments": {1, 6}}


def test_the_span_of_a_job_ends_where_the_next_top_level_key_starts() -> None:
    comps = [Component("a", "a", "services/a"), Component("b", "b", "services/b")]
    sig = Signal("gitlab_ci", (Evidence(".gitlab-ci.yml", 1),), {"filters": [
        {"workflow": ".gitlab-ci.yml", "events": {}, "jobs": [
            {"id": "a", "line": 3, "end": 8, "matrix": [], "dir": "",
             "paths": ["services/a/**"], "paths_ignore": []},
            {"id": "all", "line": 8, "end": 12, "matrix": [], "dir": ""},
            {"id": "not-b", "line": 12, "matrix": [], "dir": "", "paths": [],
             "paths_ignore": ["services/b/**"]}]}]})
    cover = _Coverage(comps, [sig])
    at = {line: cover(Evidence(".gitlab-ci.yml", line)) for line in (1, 5, 8, 10, 14, 40)}
    assert at == {1: {"a", "b"}, 5: {"a"}, 8: {"a", "b"}, 10: {"a", "b"}, 14: {"a"}, 40: {"a"}}


def _delivery(rep: dict[str, Any], cid: str) -> dict[str, Any]:
    comp = next(c for c in rep["components"] if c["id"] == cid)
    return next(d for d in comp["dimensions"] if d["id"] == "delivery")


def test_a_service_gets_only_the_gitlab_deploys_and_tests_of_its_own_jobs(
        tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(CASES / "positive_monorepo_changes", root)
    (root / "expected.yaml").unlink()
    out = tmp_path / "r.json"
    assert main(["scan", str(root), "--pack", "devops", "--components", "--format", "json",
                 "-o", str(out), "--no-cache", "-j", "0"]) == 0
    rep = json.loads(out.read_text())
    status = {cid: {r["id"]: r["status"] for r in _delivery(rep, cid)["requirements"]}
              for cid in ("orders", "payments", "web")}
    assert status["orders"]["delivery.automated_deploy"] == "met"  # orders-deploy's helm
    assert status["payments"]["delivery.automated_deploy"] == "missing"
    assert status["web"]["delivery.automated_deploy"] == "missing"
    web_tests = next(r for r in _delivery(rep, "web")["requirements"]
                     if r["id"] == "delivery.tests_on_pull_requests")
    assert {e["line"] for e in web_tests["evidence"]} == {37, 54}  # service-tests, web-build


@pytest.mark.parametrize("changes, narrowed", [
    ("[services/a/**]", True),
    ("{paths: [services/a/**], compare_to: main}", True),
    ("[\"services/${NAME}/**\"]", False),  # a variable: every service under services/
    ("[]", False),
    ("services/a/**", False),
])
def test_changes_shapes(tmp_path: Path, changes: str, narrowed: bool) -> None:
    root = _services(tmp_path, "a", "b")
    (root / ".gitlab-ci.yml").write_text(
        f"stages: [test]\ntest:\n  rules:\n    - changes: {changes}\n  script: pytest\n")
    lines = _lines(root)
    assert lines["a"] == {1, 5}
    assert lines["b"] == ({1} if narrowed else {1, 5})


def test_a_job_on_the_first_line_leaves_the_pipeline_to_every_service(tmp_path: Path) -> None:
    root = _services(tmp_path, "a", "b")
    (root / ".gitlab-ci.yml").write_text(
        "test:\n  rules:\n    - changes: [services/a/**]\n  script: pytest\n")
    assert _lines(root) == {"a": {1, 4}, "b": {1}}


def test_included_files_and_include_rules_narrow_what_they_bring() -> None:
    root = CASES / "positive_monorepo_includes"
    result = scan_source(WorkTreeSource(root), ScanOptions(jobs=0, cache=False, components=True))
    found = discover(result.signals, result.dirs)
    shares = divide(found, result.parts)
    seen = {c.id: {(e.path, e.line) for s in shares[c.id] if s.kind == "gitlab_ci"
                   for e in s.evidence} for c in found}
    everyone = {(".gitlab-ci.yml", 1), (".gitlab-ci.yml", 4), (".gitlab-ci.yml", 8),
                ("ci/all.yml", 2), ("ci/pay2.yml", 2)}  # no changes, or a rule without them
    assert seen["orders"] == everyone | {(".gitlab-ci.yml", 3), ("ci/orders.yml", 4),
                                         ("ci/orders.yml", 6), ("ci/orders.yml", 10)}
    assert seen["payments"] == everyone | {(".gitlab-ci.yml", 5), ("ci/payments.yml", 2)}
