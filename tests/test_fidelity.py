"""Packs faithful to their models and to each other.

- Every requirement of every pack cites the words of its seed that support it (the seeds are the
  user's documents, `../shared/seeds/NNN_*.txt` beside the repository), or says `ours` where the
  seed is silent; a quote must be the seed's words (fragments joined by "..." each verbatim).
- A practice is defined once (rules/_conditions.yaml): the requirements of different packs that
  stand for one practice agree on every fixture repository. Packs differ in the level they put
  a practice at, never in what the practice is.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from maturity_scan import api
from maturity_scan.assess.graph import evaluate
from maturity_scan.assess.packs import shared_conditions
from maturity_scan.engine import registry
from maturity_scan.engine.scan import ScanResult
from maturity_scan.testing import scan_fixture

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
PACKS = ("devops", "kmm", "devex", "cnmm", "gitops")
REPOS = sorted([*(p for p in (ROOT / "fixtures" / "repos").iterdir() if p.is_dir()),
                *(p for p in (ROOT / "fixtures" / "archetype").iterdir()
                  if p.is_dir() and not p.name.startswith("malformed")),
                *(p for p in (ROOT / "fixtures" / "packs").iterdir() if p.is_dir())])

# One practice, one definition: the requirements (pack, id) that stand for the same shared
# condition. Each must be exactly `{requirement: <condition>}`.
PRACTICES = {
    "shared.sast": [("devops", "security.sast")],
    "shared.ci_pipeline": [("devops", "delivery.ci_pipeline"), ("devex", "devex.ci_pipeline"),
                           ("cnmm", "release.ci_pipeline")],
    "shared.security_hygiene": [("devops", "security.hygiene"), ("cnmm", "security.hygiene")],
    "shared.image_scanning": [("kmm", "security.image_scanning")],
    "shared.tests_in_ci": [("devops", "quality.tests_in_ci"), ("devex", "devex.tests_in_ci"),
                           ("cnmm", "testing.tests_in_ci")],
    "shared.tests_on_pull_requests": [("devops", "delivery.tests_on_pull_requests"),
                                      ("kmm", "automation.automated_testing")],
    "shared.deploy_automated": [("devops", "delivery.automated_deploy"),
                                ("devex", "devex.automated_deploys"),
                                ("cnmm", "release.automated_deploy")],
    "shared.progressive_delivery": [("devops", "delivery.progressive_delivery"),
                                    ("cnmm", "release.progressive_delivery")],
    "shared.containerized": [("devops", "architecture.containerized"),
                             ("kmm", "architecture.containerized"), ("cnmm", "runtime.containers")],
    "shared.full_environment_regression": [("devops", "quality.full_regression"),
                                           ("cnmm", "testing.continuous_regression")],
    "shared.migrations_automated": [("devops", "data.migrations_automated"),
                                    ("devex", "devex.migrations_automated")],
    "shared.full_local_infra": [("devops", "devex.local_like_cloud"),
                                ("devex", "devex.full_local_infra")],
    "shared.workstation_onboarding": [("devex", "devex.workstation_onboarding")],
    "shared.production_gate": [("cnmm", "release.operator_approval")],
    "shared.versioned_releases": [("devops", "delivery.versioned_releases"),
                                  ("devex", "devex.versioned_releases"),
                                  ("cnmm", "release.versioned")],
    "shared.runs_on_kubernetes": [("kmm", "culture.experimenting"), ("cnmm", "runtime.orchestrated"),
                                  ("gitops", "gitops.declarative_config")],
    "shared.several_services": [("devops", "architecture.several_services"),
                                ("kmm", "architecture.microservices")],
    "shared.stateful_services": [("kmm", "architecture.stateful_services")],
    "shared.disruption_budgets": [("kmm", "scalability.disruption_budgets")],
    "shared.rbac": [("kmm", "security.rbac")],
    "shared.supply_chain": [("devops", "security.supply_chain"), ("cnmm", "security.supply_chain")],
    "shared.iac_defined": [("devops", "iac.defined_as_code"), ("cnmm", "infrastructure.as_code"),
                           ("devex", "devex.cloud_as_code")],
    "shared.backups_automated": [("devops", "data.backups_automated"),
                                 ("devex", "devex.backup_restore")],
    "shared.admission_policy": [("cnmm", "security.policy_in_production")],
    "shared.tests_against_real_services": [("devops", "quality.real_services_in_tests")],
    "shared.iac_validated": [("devops", "iac.checked_in_ci"),
                             ("cnmm", "infrastructure.checked_in_ci")],
}
# Requirements that are the union of the same shared conditions in several packs.
UNIONS = {
    ("shared.sast", "shared.dependency_scanning", "shared.image_scanning"): [
        ("cnmm", "security.scanning_in_ci")],
    ("shared.dependency_scanning", "shared.image_scanning"): [
        ("devops", "security.dependency_or_image_scanning")],
}
_scans: dict[Path, ScanResult] = {}


def scanned(repo: Path) -> ScanResult:
    if repo not in _scans:
        _scans[repo] = scan_fixture(repo)
    return _scans[repo]


def _norm(text: str) -> str:
    """Whitespace, case and Markdown code marks (the seeds are Markdown) do not count."""
    return re.sub(r"\s+", " ", text.replace("`", "")).strip().lower()


def _seed(number: str) -> str | None:
    found = sorted(SEEDS.glob(f"{number}_*.txt")) if SEEDS.is_dir() else []
    return _norm(found[0].read_text(encoding="utf-8")) if found else None


def test_every_requirement_cites_its_seed_or_says_ours() -> None:
    bad = []
    for name in PACKS:
        for req in api.get_pack(name).requirements.values():
            if req.id.startswith("shared."):
                continue
            if not req.ref:
                bad.append(f"{name} {req.id}: no ref (quote the seed, or say ours)")
            elif not (req.ref.startswith("ours") or re.match(r"^\d{3}\b", req.ref)):
                bad.append(f"{name} {req.id}: ref {req.ref!r} names no seed and is not ours")
    assert not bad, "\n".join(bad)


def test_quotes_are_the_seeds_words() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"no seeds at {SEEDS}")
    bad = []
    for name in PACKS:
        for req in api.get_pack(name).requirements.values():
            m = re.match(r"^(\d{3})[^:]*: (.+)$", req.ref or "")
            if not m:
                continue
            seed = _seed(m.group(1))
            if seed is None:
                bad.append(f"{name} {req.id}: no seed {m.group(1)}")
                continue
            for fragment in re.split(r"\s*(?:\.\.\.|…)\s*", m.group(2)):
                # a quote may stop mid-sentence with a full stop of its own
                if fragment and _norm(fragment).rstrip(".") not in seed:
                    bad.append(f"{name} {req.id}: {fragment!r} is not in seed {m.group(1)}")
    assert not bad, "\n".join(bad)


def test_shared_conditions_all_load_with_the_built_in_detectors() -> None:
    kinds = registry.kind_specs(registry.all_detectors())
    names = set(shared_conditions(kinds))
    assert {*PRACTICES, *(c for u in UNIONS for c in u), "shared.secret_scanning",
            "shared.iac_checked"} <= names


def test_packs_use_the_shared_definition_of_each_practice() -> None:
    for cond, users in PRACTICES.items():
        for pack, rid in users:
            assert api.get_pack(pack).requirements[rid].when == {"requirement": cond}, (pack, rid)
    for conds, users in UNIONS.items():
        for pack, rid in users:
            want = {"any": [{"requirement": c} for c in conds]}
            assert api.get_pack(pack).requirements[rid].when == want, (pack, rid)


def disagreements(signals, packs) -> dict[str, dict[str, bool]]:  # type: ignore[no-untyped-def]
    """Per shared practice, the verdicts of the packs' requirements that stand for it, where
    they differ (requirements that do not apply are left out)."""
    verdicts: dict[str, dict[str, bool]] = {}
    for pack in packs:
        assessment = evaluate(pack, signals)
        held = {r.id: r.status == "met" for d in assessment.dimensions for lv in d.levels
                for r in lv.requirements if r.status != "not_applicable"}
        for cond, users in PRACTICES.items():
            for name, rid in users:
                if name == pack.id and rid in held:
                    verdicts.setdefault(cond, {})[f"{name} {rid}"] = held[rid]
    return {c: v for c, v in verdicts.items() if len(set(v.values())) > 1}


@pytest.mark.parametrize("repo", REPOS, ids=[f"{r.parent.name}/{r.name}" for r in REPOS])
def test_packs_agree_on_every_shared_practice(repo: Path) -> None:
    disagree = disagreements(scanned(repo).signals, [api.get_pack(p) for p in PACKS])
    assert not disagree, f"packs disagree on {repo.name}: {disagree}"


def test_a_pack_that_redefines_a_practice_is_caught() -> None:
    import dataclasses

    cnmm = api.get_pack("cnmm")
    odd = dataclasses.replace(cnmm.requirements["testing.tests_in_ci"],
                              when={"not": {"requirement": "shared.tests_in_ci"}})
    changed = dataclasses.replace(cnmm, requirements={**cnmm.requirements,
                                                      "testing.tests_in_ci": odd})
    repo = ROOT / "fixtures" / "repos" / "platform-service"
    got = disagreements(scanned(repo).signals, [api.get_pack("devops"), changed])
    assert set(got) == {"shared.tests_in_ci"}


def test_dast_in_the_pipeline_is_read(tmp_path: Path) -> None:
    """001: "Automating security scans (DAST) against deployed applications, often integrated
    into CD pipelines": a ZAP scan in a workflow meets devops security.dast (shared.dast)."""
    wf = tmp_path / "svc" / ".github" / "workflows" / "dast.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text("name: dast\non: [deployment_status]\njobs:\n  zap:\n    runs-on: ubuntu-latest\n"
                  "    steps:\n      - uses: zaproxy/action-baseline@v0.12.0\n"
                  "        with: {target: 'https://staging.example.com'}\n")
    result = scan_fixture(tmp_path / "svc")
    pack = api.get_pack("devops")
    met = {r.id: r.status for d in evaluate(pack, result.signals, None, ["service"]).dimensions
           for lv in d.levels for r in lv.requirements}
    assert met["security.dast"] == "met"
    wf.write_text(wf.read_text().replace("zaproxy/action-baseline@v0.12.0", "actions/checkout@v4"))
    signals = scan_fixture(tmp_path / "svc").signals

    def status(archetype: str) -> str:
        return {r.id: r.status for d in evaluate(pack, signals, None, [archetype]).dimensions
                for lv in d.levels for r in lv.requirements}["security.dast"]

    assert status("service") == "missing" and status("library") == "not_applicable"


@pytest.mark.parametrize("case, met", [("positive_ci_and_hooks", True),
                                       ("negative_mentions", False)])
def test_every_pack_credits_the_same_vulnerability_scanners(case: str, met: bool) -> None:
    """pip-audit, grype, osv-scanner, govulncheck, FOSSA (dependency/image scanning) and bandit,
    zizmor (SAST) run in CI count in every pack that judges those practices (issue 10, item 4)."""
    signals = scanned(ROOT / "fixtures" / "vuln_scanning" / case).signals
    wanted = {("devops", "security.sast"), ("devops", "security.dependency_or_image_scanning"),
              ("cnmm", "security.scanning_in_ci"), ("kmm", "security.image_scanning")}
    held = {}
    for pack in {p for p, _ in wanted}:
        for d in evaluate(api.get_pack(pack), signals).dimensions:
            for lv in d.levels:
                for r in lv.requirements:
                    if (pack, r.id) in wanted:
                        held[(pack, r.id)] = r.status == "met"
    assert held == {w: met for w in wanted}


@pytest.mark.parametrize("case, met", [("positive_gitops_tools", True),
                                       ("negative_tool_lookalikes", False),
                                       ("malformed_tool_release", False)])
def test_flux_kustomizations_that_prune_are_automated_sync(case: str, met: bool) -> None:
    """A Flux Kustomization with an `interval` and `prune: true` reconciles and reverts drift
    by itself: gitops automated sync (issue 10, item 5)."""
    signals = scanned(ROOT / "fixtures" / "flux" / case).signals
    held = {r.id: r.status for d in evaluate(api.get_pack("gitops"), signals).dimensions
            for lv in d.levels for r in lv.requirements}
    assert held["gitops.automated_sync"] == ("met" if met else "missing")


def test_cnmm_quotes_sit_at_the_level_the_seed_describes() -> None:
    """Seed 002 describes level 4 (Improve) only: a cnmm requirement quoting it is a level-4
    rung (drift, feedback to non-functional requirements, mesh policy were judged at 5 before),
    and every other rung says `ours`."""
    pack = api.get_pack("cnmm")
    level_of = {rid: lv.level for d in pack.dimensions for lv in d.levels for rid in lv.requires}
    quoted = {rid: level_of[rid] for rid, req in pack.requirements.items()
              if rid in level_of and (req.ref or "").startswith("002")}
    assert quoted and all(level == 4 for level in quoted.values()), quoted
    assert {"infrastructure.drift_reduced", "runtime.tracing_and_objectives",
            "security.mesh_policy"} <= set(quoted)
