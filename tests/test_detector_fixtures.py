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


def test_every_detector_has_positive_negative_and_malformed_cases() -> None:
    from maturity_scan import registry

    missing = []
    for det in registry.all_detectors():
        if not det.patterns:
            continue  # history-only detectors (git) are tested on repositories built in tests
        cases = {c.name.split("_", 1)[0] for c in CASES if c.parent.name == det.id}
        for needed in ("positive", "negative", "malformed"):
            if needed not in cases:
                missing.append(f"{det.id}: no fixtures/{det.id}/{needed}_*/ case")
    assert not missing, "\n".join(missing)
