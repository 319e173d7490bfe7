"""Not applicable: what a repository is (fixtures/archetype/<case>) decides which dimensions and
requirements apply to it (`applies_to` in the packs). A dimension that does not apply has no
level, says why, and stays out of the road ahead, the gate and the aggregates; a requirement
that does not apply neither blocks a level nor earns one, and is never advice."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from maturity_scan import api, config, report
from maturity_scan.engine.scan import ScanResult
from maturity_scan.gate import policy
from maturity_scan.reporters import text
from maturity_scan.testing import scan_fixture

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "archetype"
DEPLOYMENT = ("deploy", "rollout", "argo", "terraform", "alembic", "prometheus", "helm",
              "kubernetes", "canary", "migration")
_scans: dict[str, ScanResult] = {}


def scanned(case: str) -> ScanResult:
    if case not in _scans:
        _scans[case] = scan_fixture(CASES / case)
    return _scans[case]


def build(case: str, pack: str = "devops", archetypes: list[str] | None = None) -> dict[str, Any]:
    result = scanned(case)
    rep = report.build(result, api.assess(result, api.get_pack(pack), None, archetypes),
                       timings=False)
    report.validate(rep)
    return rep


def dims(rep: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in rep["dimensions"]}


# per archetype and pack: the dimensions that must be n/a, and some that must still apply
EXPECTED = {
    "positive_library": {"devops": ({"iac", "architecture", "observability", "data"},
                                    {"delivery", "quality", "security", "devex"}),
                         "kmm": ({"architecture", "scalability"}, {"culture", "automation"}),
                         "cnmm": ({"infrastructure", "runtime"}, {"release", "testing"}),
                         "gitops": ({"gitops"}, set())},
    "positive_cli": {"devops": ({"iac", "architecture", "observability", "data"}, {"quality"}),
                     "gitops": ({"gitops"}, set())},
    "positive_service": {"devops": (set(), {"iac", "architecture", "observability", "data"}),
                         "cnmm": (set(), {"infrastructure", "runtime"})},
    "positive_operator": {"devops": ({"iac", "data"}, {"architecture", "observability"}),
                          "kmm": (set(), {"architecture", "scalability"})},
    "positive_gitops": {"devops": ({"data", "iac"}, {"architecture", "observability",
                                                     "quality"}),
                        "gitops": (set(), {"gitops"})},
    "positive_examples": {"devops": ({"iac", "architecture", "observability", "data"},
                                     {"quality"}),
                          "gitops": ({"gitops"}, set())},
    "positive_infrastructure": {"devops": ({"architecture", "data"}, {"iac", "observability"})},
    "negative_scripts": {"devops": (set(), {"iac", "architecture", "observability", "data"})},
}
PARAMS = [(case, pack) for case, packs in EXPECTED.items() for pack in packs]


@pytest.mark.parametrize("case,pack", PARAMS, ids=[f"{c}-{p}" for c, p in PARAMS])
def test_dimensions_that_do_not_apply_are_not_applicable(case: str, pack: str) -> None:
    na, applies = EXPECTED[case][pack]
    got = dims(build(case, pack))
    assert {d for d, v in got.items() if v["level"] is None} == na
    for d in na:
        assert got[d]["status"] == "not_applicable"
        assert "this repository is" in got[d]["reason"]
        assert got[d]["next"] is None and got[d]["next_steps"] == [] and got[d]["met"] == []
        assert {r["status"] for r in got[d]["requirements"]} == {"not_applicable"}
    for d in applies:
        assert got[d]["level"] is not None and got[d]["status"] == "assessed"


def test_a_library_gets_no_deployment_advice() -> None:
    for pack in ("devops", "kmm", "devex", "cnmm", "gitops"):
        rep = build("positive_library", pack)
        advice = [s for d in rep["dimensions"] for s in d["next_steps"]]
        for step in advice:
            words = f"{step['title']} {step['hint']}".lower()
            assert not any(w in words for w in DEPLOYMENT), (pack, step["requirement"], words)


def test_not_applicable_never_earns_a_level() -> None:
    # kmm security 2 needs network policies and RBAC, which do not apply to a library: the
    # library does not reach level 2 on them (it misses the rest of level 3 too)
    security = dims(build("positive_library", "kmm"))["security"]
    assert security["level"] == 1
    rungs = {r["id"]: r["status"] for r in security["requirements"]}
    assert rungs["security.network_policies"] == "not_applicable"
    assert rungs["security.compliance_in_ci"] == "missing"


def test_text_shows_na_and_why() -> None:
    shown = click.unstyle(text.render(build("positive_library")))
    assert "Infrastructure as code (iac)        n/a / 5  not applicable" in shown
    assert "Infrastructure as code (iac): n/a\n  not applicable: applies to service, " \
           "infrastructure; this repository is a library (inferred from its files)" in shown
    assert "n/a: delivery.automated_deploy" in shown


def test_config_overrides_the_archetype() -> None:
    cfg = config.from_text("archetype: service\n", "test config", ROOT)
    assert cfg.archetypes == ("service",)
    got = dims(build("positive_library", "devops", list(cfg.archetypes)))
    assert all(d["level"] is not None for d in got.values())
    as_cli = dims(build("positive_service", "devops", ["cli"]))
    assert as_cli["iac"]["level"] is None
    assert "as configured (archetype:)" in as_cli["iac"]["reason"]
    with pytest.raises(Exception, match="unknown archetype website"):
        config.from_text("archetype: [website]\n", "test config", ROOT)


def test_gates_and_baselines_leave_not_applicable_out(tmp_path: Path) -> None:
    rep = build("positive_library")
    pack = api.get_pack("devops")
    verdict = policy.judge(rep, pack, fail_under={"iac": 3, "quality": 1},
                           baseline={"pack": "devops", "levels": {"iac": 4, "quality": 1}},
                           allow_incomplete=True)
    assert verdict.failures == []
    base = tmp_path / "baseline.json"
    policy.write_baseline(rep, base)
    assert "iac" not in json.loads(base.read_text())["levels"]


def test_org_aggregate_leaves_not_applicable_out(tmp_path: Path) -> None:
    from maturity_scan.org import run

    lib = run._summary(build("positive_library"))
    svc = run._summary(build("positive_service"))
    assert "iac" not in lib["levels"] and "iac" in svc["levels"]
    settings = run.OrgSettings(owner="acme", out=tmp_path / "out", cache=tmp_path / "cache",
                              pack="devops")
    results = [{"repository": "acme/lib", "status": "scanned", **lib},
               {"repository": "acme/svc", "status": "scanned", **svc}]
    agg = run.aggregate(settings, results, 0.0)
    assert agg["mean"]["iac"] == svc["levels"]["iac"]
    assert agg["mean"]["quality"] == (lib["levels"]["quality"] + svc["levels"]["quality"]) / 2


def test_scan_command_reads_archetype_from_config(tmp_path: Path) -> None:
    import shutil

    repo = tmp_path / "lib"
    shutil.copytree(CASES / "positive_library", repo,
                    ignore=lambda d, names: ["expected.yaml"])
    (repo / ".maturity-scan.yaml").write_text("archetype: service\n")
    out = subprocess.run([sys.executable, "-m", "maturity_scan", "scan", str(repo), "--format",
                          "json", "-j", "0"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert all(d["level"] is not None for d in json.loads(out.stdout)["dimensions"])


def test_hints_are_tailored_to_the_stack_found() -> None:
    go = [s for d in build("positive_cli")["dimensions"] for s in d["next_steps"]]
    words = " ".join(s["hint"] for s in go)
    assert "pytest" not in words and "ruff" not in words
    linting = next(s for s in go if s["requirement"] == "quality.linting")
    assert "golangci-lint" in linting["hint"]
    py = [s for d in build("positive_library")["dimensions"] for s in d["next_steps"]]
    assert "ruff" in next(s for s in py if s["requirement"] == "quality.linting")["hint"]
    # several stacks: one sentence each; a stack without its own hint: the general one
    from maturity_scan.assess.graph import hint_for

    req = api.get_pack("devops").requirements["quality.unit_tests"]
    assert "pytest" in hint_for(req, ["python", "go"]) and "go test" in hint_for(req, ["python", "go"])
    assert hint_for(req, ["python", "ruby"]) == req.hint == hint_for(req, [])
