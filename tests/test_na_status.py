"""Not applicable wins over met: a rung whose `applies_to` leaves the repository's archetype out
is `not_applicable` in the rung list even when its condition happens to hold (a library that
starts a database with docker compose has no "local testing" rung to meet), carries no
evidence, is not listed as met and earns no level."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from maturity_scan import api, report
from maturity_scan.assess.graph import evaluate
from maturity_scan.assess.packs import load_pack
from maturity_scan.model import Evidence, Signal
from maturity_scan.testing import scan_fixture
from tests.test_rules import BASE, KINDS

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "fixtures" / "archetype" / "positive_library_with_compose"


def devex(case: Path, archetypes: list[str] | None = None) -> dict[str, Any]:
    result = scan_fixture(case)
    rep = report.build(result, api.assess(result, api.get_pack("devex"), None, archetypes),
                       timings=False)
    report.validate(rep)
    return next(d for d in rep["dimensions"] if d["id"] == "devex")


def test_a_not_applicable_rung_whose_condition_holds_is_not_applicable() -> None:
    dim = devex(LIBRARY)
    rungs = {r["id"]: r for r in dim["requirements"]}
    local = rungs["devex.local_testing"]  # its condition (a docker-compose file) holds
    assert local["status"] == "not_applicable"
    assert local["evidence"] == []
    assert local["reason"].startswith("applies to service, operator; this repository is "
                                      "a library")
    assert "devex.local_testing" not in {r["requirement"] for r in dim["met"]}
    # the rungs that apply still read the same files: process documented, unit tests
    assert rungs["devex.process_documented"]["status"] == "met"
    assert rungs["devex.unit_tests"]["status"] == "met"
    assert dim["level"] == 1.5  # 2 still needs versioned releases and a CI pipeline


def test_the_near_miss_a_service_meets_it() -> None:
    # the same rung on a repository it applies to: met, with the compose file as evidence
    result = scan_fixture(LIBRARY)
    rep = report.build(result, api.assess(result, api.get_pack("devex"), None, ["service"]),
                       timings=False)
    rungs = {r["id"]: r for r in rep["dimensions"][0]["requirements"]}
    assert rungs["devex.local_testing"]["status"] == "met"
    assert {e["path"] for e in rungs["devex.local_testing"]["evidence"]} == {"docker-compose.yml"}


def test_configured_archetype_makes_a_held_rung_not_applicable() -> None:
    # the library scanned as a service, then configured as a library (archetype:): none of
    # the service rungs it meets as a service is reported as met
    pack = api.get_pack("devex")
    as_service = {r["id"]: r["status"] for r in devex(LIBRARY, ["service"])["requirements"]}
    as_library = {r["id"]: r for r in devex(LIBRARY, ["library"])["requirements"]}
    held = [rid for rid, status in as_service.items()
            if status == "met" and pack.requirements[rid].applies_to
            and "library" not in pack.requirements[rid].applies_to]
    assert held == ["devex.local_testing"]
    for rid in held:
        assert as_library[rid]["status"] == "not_applicable", rid
        assert as_library[rid]["evidence"] == [], rid
        assert "(as configured (archetype:))" in as_library[rid]["reason"], rid


# the demo pack of tests/test_rules.py with its level-3 rung limited to infrastructure
PACK = BASE.replace("  - id: iac.remote\n", "  - id: iac.remote\n    applies_to: [infrastructure]\n")


def test_a_level_of_held_but_not_applicable_rungs_earns_nothing(tmp_path: Path) -> None:
    assert PACK != BASE
    (tmp_path / "demo.yaml").write_text(PACK)
    pack = load_pack(tmp_path / "demo.yaml", KINDS)
    ev = Evidence("main.tf", 1, "backend s3", supports=frozenset({"remote_state"}))
    signals = [Signal("terraform", (ev,), {"remote_state": True})]
    # an infrastructure repository: level 3 on its own evidence
    infra = evaluate(pack, signals, archetypes=["infrastructure"]).dimensions[0]
    assert infra.level == 3
    assert [r.status for _, r in infra.requirements] == ["met", "met", "missing"]
    # a library with the same files: level 3 held only by a rung that does not apply is not
    # reached, the rung is not_applicable (not met) and shows no evidence
    lib = evaluate(pack, signals, archetypes=["library"]).dimensions[0]
    assert lib.level == 2
    remote = {r.id: r for _, r in lib.requirements}["iac.remote"]
    assert remote.status == "not_applicable" and remote.evidence == ()
    assert lib.also_met_above == ()
