"""Test data and vendored copies are detected but set aside: their evidence carries a `scope`,
adds no facts, satisfies no requirement, and the report counts the files (issue 10, item 6)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maturity_scan import api, config, report
from maturity_scan.engine.merge import merge_signals
from maturity_scan.engine.scan import (ScanOptions, chart_dependencies, path_scope,
                                       scan_source)
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.errors import UsageError
from maturity_scan.model import Evidence, Signal, kind
from maturity_scan.testing import EXPECTED

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "scope"


@pytest.mark.parametrize("path, scope", [
    ("fixtures/repos/app/deploy.yaml", "test"),  # this project's own top-level fixtures/
    ("tests/unit/fixtures/k8s/hpa.yaml", "test"),
    ("pkg/scan/testdata/Dockerfile", "test"),
    ("test/data/chart/Chart.yaml", "test"),
    ("tests/data/compose.yaml", "test"),
    ("spec/fixtures/app.yml", "test"),
    ("src/__fixtures__/a.json", "test"),
    ("ui/__snapshots__/x.snap", "test"),
    ("third_party/prom/alerts.yaml", "vendored"),
    ("lib/third-party/x/Dockerfile", "vendored"),
    ("examples/k8s/hpa.yaml", None),  # examples keep counting
    ("tests/e2e/deploy.yaml", None),  # tests themselves are the repository's practice
    ("data/schema.yaml", None),
    ("fixtures.yaml", None),  # a file, not a folder
    ("src/testdata.go", None),
])
def test_path_scope(path: str, scope: str | None) -> None:
    assert path_scope(path) == scope


def test_subchart_scope_needs_a_remote_dependency() -> None:
    vendored = frozenset({"deploy/app/charts/redis"})
    assert path_scope("deploy/app/charts/redis/templates/np.yaml", vendored) == "vendored"
    assert path_scope("deploy/app/charts/common/templates/pdb.yaml", vendored) is None
    assert path_scope("charts/redis/Chart.yaml", vendored) is None


def test_chart_dependencies_reads_remote_ones_only() -> None:
    text = ("apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
            "  - name: redis\n    version: 18.1.0\n    repository: https://charts.bitnami.com/x\n"
            "  - name: postgresql\n    alias: db\n    repository: oci://registry-1.docker.io/b\n"
            "  - name: common\n    repository: \"file://charts/common\"\n"
            "  - name: local\n"
            "# dependencies: commented\nmaintainers:\n  - name: someone\n"
            "    repository: https://not-a-dependency\n")
    assert chart_dependencies(text) == {"redis", "postgresql", "db"}
    assert chart_dependencies("dependencies: [ {{{\n  - name: : :\n\t- x\n") == set()
    flow = ("name: app\ndependencies:\n  - {name: redis, repository: 'https://charts.x/y'}\n"
            "  - {name: common, repository: \"file://../common\"}\n")
    assert chart_dependencies(flow) == {"redis"}
    assert chart_dependencies("dependencies: [{name: pg, alias: db, repository: oci://r/x}, "
                              "{name: lib, repository: file://lib}]\nversion: 1.0.0\n") == \
        {"pg", "db"}
    assert chart_dependencies("") == set()


def _scan(case: str, tmp_path: Path, **opts: object):  # type: ignore[no-untyped-def]
    root = tmp_path / case
    shutil.copytree(CASES / case, root, ignore=shutil.ignore_patterns(EXPECTED))
    return scan_source(WorkTreeSource(root), ScanOptions(jobs=0, **opts))  # type: ignore[arg-type]


def _levels(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Levels with every dimension applicable (as a service): a library's architecture would
    otherwise be not applicable, and so level 1 whatever its evidence."""
    assessment = api.assess(result, api.get_pack("devops"), archetypes=["service"])
    return {d.id: d.level for d in assessment.dimensions}


def test_library_with_kubernetes_test_fixtures_stays_at_architecture_1(tmp_path: Path) -> None:
    result = _scan("library_test_fixtures", tmp_path)
    k8s = result.signal("kubernetes_manifests")
    assert k8s is not None and k8s.facts == {}  # detected, but its facts are not the library's
    assert {e.scope for e in k8s.evidence} == {"test"}
    assert result.stats.set_aside == {"test": 3}
    assert _levels(result)["architecture"] == 1
    rep = report.build(result, api.assess(result, api.get_pack("devops")), timings=False)
    report.validate(rep)
    assert rep["stats"]["files_set_aside"] == {"test": 3}
    from maturity_scan.reporters import text
    assert "5 files read of 6 indexed, 3 set aside as test data" in text.render(rep)
    k8s_json = next(s for s in rep["signals"] if s["kind"] == "kubernetes_manifests")
    assert k8s_json["evidence"][0]["scope"] == "test"
    arch = next(d for d in rep["dimensions"] if d["id"] == "architecture")
    # Nothing set aside is offered as "what you already have" either.
    assert all("fixtures/" not in e["path"] and "testdata/" not in e["path"]
               for m in arch["road"] for r in m["missing"] for e in r.get("have", []))


def test_include_set_aside_counts_them_again(tmp_path: Path) -> None:
    result = _scan("library_test_fixtures", tmp_path, include_scopes=("test",))
    assert result.stats.set_aside == {}
    assert all(e.scope is None for s in result.signals for e in s.evidence)
    assert result.signal("kubernetes_manifests").facts["workloads"] == 1  # type: ignore[union-attr]
    assert _levels(result)["architecture"] >= 2


def test_vendored_copies_set_aside_examples_count(tmp_path: Path) -> None:
    result = _scan("vendored_subchart", tmp_path)
    assert result.stats.set_aside == {"vendored": 3}
    chart = result.signal("helm_chart")
    assert chart is not None and chart.facts["charts"] == 2  # app and its file:// subchart
    assert "NetworkPolicy" not in chart.facts["template_kinds"]
    assert result.signal("network_policy").facts == {}  # type: ignore[union-attr]
    hpa = result.signal("autoscaling")
    assert hpa is not None and hpa.facts["autoscalers"] == 1  # examples/ counts
    ev = api.assess(result, api.get_pack("devops"))
    met = {r.id for d in ev.dimensions for lv in d.met for r in lv.requirements}
    assert not any("network" in rid or "alert" in rid for rid in met), met
    # Counted again on request: the vendored subchart's NetworkPolicy is a chart fact.
    again = _scan("vendored_subchart", tmp_path / "again", include_scopes=("vendored",))
    assert "NetworkPolicy" in again.signal("helm_chart").facts["template_kinds"]  # type: ignore[union-attr]


def test_merge_keeps_set_aside_facts_out() -> None:
    specs = {"k": kind("k", n="count", tools="set")}
    own = Signal("k", (Evidence("a.yaml", 1),), {"n": 1, "tools": ["x"]})
    aside = Signal("k", (Evidence("fixtures/b.yaml", 1, scope="test"),), {"n": 5, "tools": ["y"]})
    (merged,) = merge_signals([aside, own], specs)
    assert merged.facts == {"n": 1, "tools": ["x"]}
    assert [(e.path, e.scope) for e in merged.evidence] == [("a.yaml", None),
                                                            ("fixtures/b.yaml", "test")]
    assert merged.evidence[1].to_json() == {"path": "fixtures/b.yaml", "line": 1,
                                            "scope": "test"}


def test_config_key(tmp_path: Path) -> None:
    cfg = config.from_text("include_set_aside: [test, vendored]\n", "c.yaml", tmp_path)
    assert cfg.include_set_aside == ("test", "vendored")
    with pytest.raises(UsageError, match="include_set_aside: unknown scope examples"):
        config.from_text("include_set_aside: [examples]\n", "c.yaml", tmp_path)
    with pytest.raises(UsageError, match="include_set_aside: expected a list of strings"):
        config.from_text("include_set_aside: {test: 1}\n", "c.yaml", tmp_path)
