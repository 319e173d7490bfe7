"""Every detector fixture case (fixtures/<detector>/<case>/expected.yaml) in one test."""
from __future__ import annotations

from pathlib import Path

import pytest

from maturity_scan.testing import EXPECTED, check, scan_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.parent for p in FIXTURES.glob(f"*/*/{EXPECTED}"))


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture(case: Path) -> None:
    problems = check(case, scan_fixture(case))
    assert not problems, "\n".join(problems)


def _expected(case: Path) -> dict:
    import yaml

    return yaml.safe_load((case / EXPECTED).read_text()) or {}


def test_every_kind_has_positive_negative_and_malformed_cases() -> None:
    """Per detector a malformed case; per kind a positive case that finds it and a near-miss
    negative case that asserts it is not found."""
    from maturity_scan.engine import registry

    missing = []
    for det in registry.all_detectors():
        if not det.patterns:
            continue  # history-only detectors (git) are tested on repositories built in tests
        own = [c for c in CASES if c.parent.name == det.id]
        if not any(c.name.startswith("malformed_") for c in own):
            missing.append(f"{det.id}: no fixtures/{det.id}/malformed_*/ case")
        for kind in det.kinds:
            if not any(c.name.startswith("positive_") and kind in (_expected(c).get("found") or {})
                       for c in own):
                missing.append(f"{det.id}: no positive_* case that finds {kind}")
            if not any(c.name.startswith("negative_") and kind in (_expected(c).get("not_found") or [])
                       for c in own):
                missing.append(f"{det.id}: no negative_* case asserting {kind} is not found")
    assert not missing, "\n".join(missing)
