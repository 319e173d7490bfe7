"""This project's own checkout: its `fixtures/` folder is test data, so nothing under it may
raise a level in any pack (issue 10). Compared with a scan that excludes `fixtures/**`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from maturity_scan import api
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource

ROOT = Path(__file__).resolve().parent.parent


def _summary(rep: dict[str, Any]) -> dict[str, Any]:
    return {d["id"]: (d["level"], sorted(m["requirement"] for m in d["met"]))
            for d in rep["dimensions"]}


def test_fixtures_raise_no_level() -> None:
    packs = sorted(api.packs())
    source = WorkTreeSource(ROOT)
    full = scan_source(source, ScanOptions(jobs=0))
    bare = scan_source(source, ScanOptions(jobs=0, exclude=("fixtures/**",)))
    assert full.stats.set_aside.get("test", 0) > 100  # the fixtures were read, and set aside
    assert any(e.path.startswith("fixtures/") for s in full.signals for e in s.evidence)
    for name in packs:
        pack = api.get_pack(name)
        with_fixtures = api.report.build(full, api.assess(full, pack), timings=False)
        without = api.report.build(bare, api.assess(bare, pack), timings=False)
        assert _summary(with_fixtures) == _summary(without), name
        cited = [e["path"] for d in with_fixtures["dimensions"] for m in d["met"]
                 for e in m["evidence"]]
        cited += [e["path"] for d in with_fixtures["dimensions"] for lv in d["road"]
                  for r in lv["missing"] for e in r.get("have", [])]
        assert not [p for p in cited if p.startswith("fixtures/")], name
