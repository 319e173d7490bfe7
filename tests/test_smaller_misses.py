"""Smaller misses of issue 10 (item 7) that need real git: release tags named after a chart."""
from __future__ import annotations

from pathlib import Path

from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource
from tests.gitrepo import commit, git, init


def test_chart_release_tags(tmp_path: Path) -> None:
    repo = init(tmp_path / "charts")
    commit(repo, "first", {"a.txt": "1"}, date="2026-01-05T10:00:00")
    git(repo, "tag", "my-chart-0.1.0")
    commit(repo, "second", {"a.txt": "2"}, date="2026-02-04T10:00:00")
    git(repo, "tag", "-a", "my-chart-0.2.0", "-m", "release", date="2026-02-04T10:00:00")
    for near_miss in ("nightly-build", "build-2024.01.05", "my-chart-1.2", "chart-latest"):
        git(repo, "tag", near_miss)
    result = scan_source(WorkTreeSource(repo), ScanOptions(jobs=0))
    sig = result.signal("release_tags")
    assert sig is not None
    assert dict(sig.facts) == {"count": 2, "latest": "my-chart-0.2.0",
                               "median_days_between": 30.0}
    assert sig.evidence[0].detail == "2 version tags, latest my-chart-0.2.0"


def test_no_version_like_tag_no_release_tags(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "first", {"a.txt": "1"}, date="2026-01-05T10:00:00")
    for near_miss in ("nightly-build", "build-2024.01.05", "chart-latest", "deploy-12.0.1x"):
        git(repo, "tag", near_miss)
    result = scan_source(WorkTreeSource(repo), ScanOptions(jobs=0))
    assert result.signal("release_tags") is None
