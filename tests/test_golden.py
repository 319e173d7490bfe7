"""Whole fixture repositories against reviewed golden reports (tests/golden/<repo>.json).

Regenerate with `python -m pytest tests/test_golden.py --update-golden` and review the diff."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from maturity_scan import api, report
from maturity_scan.testing import scan_fixture

ROOT = Path(__file__).resolve().parent.parent
REPOS = sorted(p for p in (ROOT / "fixtures" / "repos").iterdir() if p.is_dir())
GOLDEN = ROOT / "tests" / "golden"


def stable_report(repo: Path) -> str:
    result = scan_fixture(repo)
    rep = report.build(result, api.assess(result, api.get_pack(api.DEFAULT_PACK)),
                       timings=False)
    rep["target"]["path"] = f"fixtures/repos/{repo.name}"
    rep["tool"]["version"] = "(any)"
    return report.dumps(rep)


@pytest.mark.parametrize("repo", REPOS, ids=[r.name for r in REPOS])
def test_golden_report(repo: Path, update_golden: bool) -> None:
    golden = GOLDEN / f"{repo.name}.json"
    actual = stable_report(repo)
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden report: run pytest {__file__} --update-golden"
    assert json.loads(actual) == json.loads(golden.read_text())
    assert actual == golden.read_text()  # byte-stable: sorted keys, no timings


def test_at_least_three_golden_repositories() -> None:
    assert len(REPOS) >= 3
