"""Azure and Bitbucket Pipelines narrowed to the services they are for (issue 15), as GitHub
`paths:` filters are: Azure `trigger:` and `pr:` `paths:` (include, exclude; a missing `pr:`
runs on any change, `pr: none` never), Bitbucket steps' `condition: changesets:`
(`includePaths`, `excludePaths`)."""
from __future__ import annotations

from pathlib import Path

from maturity_scan.assess.components import discover, divide
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _seen(case: str, kind: str = "azure_pipelines") -> dict[str, set[tuple[str, int]]]:
    result = scan_source(WorkTreeSource(FIXTURES / kind / case),
                         ScanOptions(jobs=0, cache=False, components=True))
    assert not result.errors
    found = discover(result.signals, result.dirs)
    shares = divide(found, result.parts)
    return {c.id: {(e.path, e.line) for s in shares[c.id] if s.kind == kind
                   for e in s.evidence} for c in found}


def test_trigger_and_pr_paths_assign_pipelines_to_the_right_services() -> None:
    seen = _seen("positive_monorepo_paths")
    root = {("azure-pipelines.yml", 1), ("azure-pipelines.yml", 8)}  # all but services/web
    assert seen == {
        "orders": root | {(".azure-pipelines/orders.yml", 1), (".azure-pipelines/orders.yml", 11)},
        "payments": root,
        "web": {(".azure-pipelines/web.yml", 1), (".azure-pipelines/web.yml", 6)}}


def test_paths_of_no_service_or_a_pr_on_any_change_cover_every_service() -> None:
    seen = _seen("negative_paths_no_component")
    assert seen["orders"] == seen["payments"] == {
        ("azure-pipelines.yml", 1), ("azure-pipelines.yml", 6),
        (".azure-pipelines/orders.yml", 1), (".azure-pipelines/orders.yml", 5)}


def test_malformed_path_filters_narrow_nothing() -> None:
    seen = _seen("malformed_paths")
    assert seen["orders"] == seen["payments"] and len(seen["orders"]) == 4


def _lines(case: str) -> dict[str, set[int]]:
    return {cid: {line for _, line in seen}
            for cid, seen in _seen(case, "bitbucket_pipelines").items()}


def test_bitbucket_changesets_assign_steps_to_the_right_services() -> None:
    # 1 the pipeline, 8 orders tests, 16 payments tests, 23 all but web (excludePaths),
    # 30 everything (no condition), 36 deploy orders (its environment and its helm deploy)
    assert _lines("positive_monorepo_changesets") == {
        "orders": {1, 8, 23, 30, 36}, "payments": {1, 16, 23, 30}, "web": {1, 30}}


def test_bitbucket_changesets_of_no_service_and_malformed_ones_narrow_nothing() -> None:
    assert _lines("negative_changesets_no_component") == {"orders": {1, 5, 12},
                                                          "payments": {1, 5, 12}}
    assert _lines("malformed_changesets") == {"orders": {1, 4, 10, 14},
                                              "payments": {1, 4, 10, 14}}


def test_jenkins_changeset_stages_go_to_the_right_services() -> None:
    lines = {cid: {line for _, line in seen}
             for cid, seen in _seen("positive_monorepo_changeset", "jenkins").items()}
    # 7 orders' stage, 18 payments' (allOf branch + anyOf changesets), 23 a stage without when
    assert lines == {"orders": {1, 7, 23}, "payments": {1, 18, 23}, "web": {1, 23}}
    nested = {cid: {line for _, line in seen}
              for cid, seen in _seen("positive_nested_changeset", "jenkins").items()}
    assert nested == {"orders": {1, 8, 11, 16}, "web": {1, 16}}  # unit, lint: orders' stages
    for case in ("negative_changeset_no_component", "malformed_changeset"):
        seen = _seen(case, "jenkins")
        assert seen["orders"] == seen["payments"], case


def test_a_hostile_when_block_stays_fast(tmp_path: Path) -> None:
    import time

    from maturity_scan.testing import scan_fixture
    root = tmp_path / "repo"
    root.mkdir()
    stage = "stage('s') { when { " + "anyOf { " * 300 + "changeset 'a/**' " + "} " * 300 + \
        "}\n steps { sh 'pytest' } }\n"
    noise = "{ // '\" /* " * 20_000  # unclosed braces, comments and quotes
    (root / "Jenkinsfile").write_text("pipeline { stages {\n" + stage * 200 + noise + "} }\n")
    started = time.monotonic()
    result = scan_fixture(root)
    assert time.monotonic() - started < 10
    assert result.signal("jenkins").facts.get("filters") is None


def test_paths_filter_jobs_go_to_the_services_their_filters_reach() -> None:
    def lines(case: str) -> dict[str, set[int]]:
        return {cid: {line for _, line in seen}
                for cid, seen in _seen(case, "github_actions").items()}

    # 25 orders (its filter), 31 money (payments' or orders' filter), 35 a job without an if,
    # 45 a step of the filtering job run for web's filter, 47 the next step (any change)
    assert lines("positive_paths_filter_jobs") == {
        "orders": {1, 25, 31, 35, 47}, "payments": {1, 31, 35, 47}, "web": {1, 35, 45, 47}}
    assert lines("negative_paths_filter_jobs") == {"orders": {1, 28, 34, 40, 46},
                                                   "payments": {1, 28, 34, 40, 46}}
    assert lines("malformed_paths_filter") == {"orders": {1, 23, 29}, "payments": {1, 23, 29}}
