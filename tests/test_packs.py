"""The five packs judged on whole fixture repositories: each `fixtures/repos/<repo>/levels.yaml`
gives, per pack, the level every listed dimension must reach (no more, no less)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from maturity_scan import api
from maturity_scan.engine.scan import ScanResult
from maturity_scan.testing import scan_fixture

ROOT = Path(__file__).resolve().parent.parent
REPOS = sorted(p for p in (ROOT / "fixtures" / "repos").iterdir() if (p / "levels.yaml").exists())
PACKS = ("devops", "kmm", "devex", "cnmm", "gitops")
_scans: dict[Path, ScanResult] = {}


def scanned(repo: Path) -> ScanResult:
    if repo not in _scans:
        _scans[repo] = scan_fixture(repo)
    return _scans[repo]


CASES = [(repo, pack) for repo in REPOS
         for pack in (yaml.safe_load((repo / "levels.yaml").read_text()) or {})]


@pytest.mark.parametrize("repo,pack", CASES, ids=[f"{r.name}-{p}" for r, p in CASES])
def test_levels(repo: Path, pack: str) -> None:
    want = yaml.safe_load((repo / "levels.yaml").read_text())[pack]
    assessment = api.assess(scanned(repo), api.get_pack(pack))
    got = {d.id: d.level for d in assessment.dimensions}
    assert set(want) <= set(got), f"unknown dimensions {set(want) - set(got)} in {pack}"
    wrong = {dim: f"expected {level:g}, got {got[dim]:g}" for dim, level in want.items()
             if got[dim] != level}
    detail = {d.id: [r.id for r in d.next.missing] for d in assessment.dimensions
              if d.id in wrong and d.next}
    assert not wrong, f"{wrong}; next level misses {detail}"


def test_every_pack_ships_and_has_fixture_levels() -> None:
    assert set(PACKS) <= set(api.packs())
    covered = {pack for _, pack in CASES}
    assert set(PACKS) <= covered


def test_one_repository_is_at_the_bottom_of_every_pack() -> None:
    bottom = ROOT / "fixtures" / "repos" / "bare-library"
    result = scanned(bottom)
    for pack in PACKS:
        assessment = api.assess(result, api.get_pack(pack))
        assert all(d.level == 1 for d in assessment.dimensions), pack


def test_requirements_cite_the_seed_where_the_model_says_so() -> None:
    for pack in ("kmm", "devex"):
        reqs = api.get_pack(pack).requirements.values()
        assert all(r.ref for r in reqs), [r.id for r in reqs if not r.ref]
