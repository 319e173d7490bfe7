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
        reqs = [r for r in api.get_pack(pack).requirements.values()
                if not r.id.startswith("shared.")]  # building blocks, not rungs
        assert all(r.ref for r in reqs), [r.id for r in reqs if not r.ref]


def test_every_rung_is_reported_with_its_status_those_above_the_level_too() -> None:
    import click

    from maturity_scan import report
    from maturity_scan.reporters import text

    repo = ROOT / "fixtures" / "repos" / "platform-service"
    pack = api.get_pack("devops")
    rep = report.build(scanned(repo), api.assess(scanned(repo), pack), timings=False)
    report.validate(rep)
    security = next(d for d in rep["dimensions"] if d["id"] == "security")
    assert security["level"] == 2 and security["status"] == "assessed"
    rungs = {r["id"]: r for r in security["requirements"]}
    # every requirement of the dimension, once, at the lowest level that needs it
    wanted = {rid for lv in pack.dimension("security").levels for rid in lv.requires}
    assert set(rungs) == wanted
    assert rungs["security.hygiene"]["status"] == "met" and rungs["security.hygiene"]["level"] == 2
    above = rungs["security.workflow_hardening"]
    assert above["level"] == 4 and above["status"] == "met" and above["evidence"]
    assert all(r["status"] in ("met", "missing") for r in rungs.values())
    assert all(not r["evidence"] for r in rungs.values() if r["status"] == "missing")
    shown = click.unstyle(text.render(rep))
    block = shown.split("Security and compliance (security): level 2")[1].split("\n\n")[0]
    assert "also met above: L4 security.workflow_hardening" in block
    assert block.count("also met above") == 1


def test_a_waived_rung_says_so_and_why() -> None:
    from maturity_scan import report

    repo = ROOT / "fixtures" / "repos" / "bare-library"
    rep = report.build(scanned(repo), api.assess(scanned(repo), api.get_pack("devops"),
                                                 {"security.hygiene": "an internal sandbox"}),
                       timings=False)
    report.validate(rep)
    security = next(d for d in rep["dimensions"] if d["id"] == "security")
    rung = next(r for r in security["requirements"] if r["id"] == "security.hygiene")
    assert rung["status"] == "waived" and rung["reason"] == "an internal sandbox"


def rungs(case: str, pack: str, archetype: str = "service") -> dict[str, str]:
    """Every requirement's status in `pack` for fixtures/packs/<case> (as `archetype`)."""
    from maturity_scan.assess.graph import evaluate

    result = scanned(ROOT / "fixtures" / ("packs/" + case if "/" not in case else case))
    return {r.id: r.status for d in evaluate(api.get_pack(pack), result.signals, None,
                                               [archetype]).dimensions
            for lv in d.levels for r in lv.requirements}


REMEDIATION = [("cnmm", "security.automated_remediation")]
IAC_POLICY = [("devops", "security.policy_as_code"), ("kmm", "security.compliance_in_ci"),
              ("devops", "iac.checked_in_ci"), ("cnmm", "infrastructure.checked_in_ci"),
              ("devops", "iac.policy_scanning")]
CONTAINERIZED = [("devops", "architecture.containerized"), ("kmm", "architecture.containerized"),
                 ("cnmm", "runtime.containers")]


@pytest.mark.parametrize("case, wanted, met", [
    # a bot opens the fix pull requests and a scanner that runs finds what to fix (pip-audit)
    ("remediation_scanner_in_ci", REMEDIATION, True),
    # the same bot with CodeQL / Trivy / Snyk configs nothing runs, and an echo that names them
    ("remediation_configs_only", REMEDIATION, False),
    # tflint and `trivy config` run in a pull-request workflow
    ("iac_scanned_in_ci", IAC_POLICY, True),
    # a checkov config and a tflint config nothing runs
    ("iac_configs_only", IAC_POLICY, False),
    # workloads deployed from images with no Dockerfile in the repository
    ("deployed_from_images", CONTAINERIZED, True),
    ("flux_helm_release", CONTAINERIZED, True),
    ("argocd_helm_application", CONTAINERIZED, True),
    # a ConfigMap, a Deployment with an empty image, an Application of a plain folder, a
    # HelmRepository nothing installs from
    ("no_images", CONTAINERIZED, False),
])
def test_packs_read_the_shared_practices(case: str, wanted: list[tuple[str, str]],
                                         met: bool) -> None:
    """Issue 10 item 4/5: scanners, IaC checks and workloads deployed from images count the same
    in every pack that judges them (through rules/_conditions.yaml)."""
    got = {(pack, rid): rungs(case, pack)[rid] for pack, rid in wanted}
    assert got == {w: "met" if met else "missing" for w in wanted}


DEPLOYS = [("devops", "delivery.automated_deploy"), ("devops", "delivery.gated_continuous_delivery"),
           ("devex", "devex.automated_deploys"), ("cnmm", "release.automated_deploy"),
           ("cnmm", "release.operator_approval"), ("kmm", "automation.kubernetes_deploys")]


@pytest.mark.parametrize("case, met", [
    ("github_actions/negative_environment_only", False), ("gitlab_ci/negative_environment_only", False),
    ("github_actions/positive_environment_deploys", True), ("gitlab_ci/positive_environment_script", True),
])
def test_an_environment_alone_is_no_deployment(case: str, met: bool) -> None:
    """Issue 11 (audit top 1): `environment: ci` on a test job met automated deploy, gated
    delivery, operator approval and Kubernetes deploys in every pack; a job deploys when it
    runs a deploy command or action, and its environment counts then."""
    got = {(pack, rid): rungs(case, pack)[rid] for pack, rid in DEPLOYS}
    assert got == {w: "met" if met else "missing" for w in DEPLOYS}


CONFTEST = [("devops", "security.policy_as_code"), ("devops", "iac.policy_scanning"),
            ("kmm", "security.compliance_in_ci")]


@pytest.mark.parametrize("case, met", [("opa/positive_conftest", True),
                                       ("opa/negative_conftest_config_only", False)])
def test_conftest_counts_when_it_runs_in_ci(case: str, met: bool) -> None:
    """A `conftest.toml` alone met devops policy as code (4) and kmm compliance in CI (4);
    conftest counts when a CI step runs `conftest test` (opa.conftest_in_ci, shared.iac_checked)."""
    got = {(pack, rid): rungs(case, pack)[rid] for pack, rid in CONFTEST}
    assert got == {w: "met" if met else "missing" for w in CONFTEST}


ON_CHANGE = [("devops", "delivery.tests_on_pull_requests"), ("kmm", "automation.automated_testing")]


@pytest.mark.parametrize("case, met", [
    ("gitlab_ci/positive_tests_before_merge", True), ("gitlab_ci/negative_tests_after_merge", False),
    ("bitbucket_pipelines/positive_pull_requests", True),
    ("bitbucket_pipelines/negative_tests_on_main", False),
    ("circleci/negative_tests_on_main", False), ("azure_pipelines/negative_pr_none", False),
])
def test_tests_before_merge_in_every_ci(case: str, met: bool) -> None:
    """Tests on every pull request, for the CIs other than GitHub too: a test job kept to the
    default branch, tags or schedules does not test a change before it merges."""
    got = {(pack, rid): rungs(case, pack)[rid] for pack, rid in ON_CHANGE}
    assert got == {w: "met" if met else "missing" for w in ON_CHANGE}


@pytest.mark.parametrize("case, wanted", [
    # ApplicationSets over every registered cluster: the seed's fleet
    ("argocd/positive_cluster_generators", {"gitops.fleet": "met"}),
    # three clusters bootstrapped from clusters/<name>/: several environments, not yet a fleet
    ("flux/positive_fleet_clusters", {"gitops.fleet": "missing",
                                      "gitops.per_environment_state": "met"}),
    # two Kustomize overlays that no controller reconciles
    ("two_overlays", {"gitops.per_environment_state": "missing", "gitops.fleet": "missing"}),
])
def test_gitops_fleets_and_environments(case: str, wanted: dict[str, str]) -> None:
    """003: "managing large scale deployments of hundreds or even thousands of clusters" is
    judged (gitops.fleet, level 5), and per-environment state needs a controller."""
    got = rungs(case, "gitops", "gitops")
    assert {rid: got[rid] for rid in wanted} == wanted


@pytest.mark.parametrize("case, kubernetes", [("terraform_apply_deploy", False),
                                              ("github_actions/positive_environment_deploys", True),
                                              ("gitlab_ci/positive_environment_script", True)])
def test_full_ci_cd_with_kubernetes_needs_a_kubernetes_deploy(case: str, kubernetes: bool) -> None:
    """004 "Full integration of CI/CD with Kubernetes": `terraform apply` and `serverless
    deploy` are automated deploys (devops 3) but not to Kubernetes (kmm automation 3 reads
    the CI's deploy_tools)."""
    assert rungs(case, "devops")["delivery.automated_deploy"] == "met"
    assert rungs(case, "kmm")["automation.kubernetes_deploys"] == ("met" if kubernetes
                                                                   else "missing")


@pytest.mark.parametrize("case, met", [("supply_chain/positive_pypi_attestations", True),
                                       ("supply_chain/negative_pypi_token", False)])
def test_pypi_trusted_publishing_attestations_are_provenance(case: str, met: bool) -> None:
    """PEP 740 attestations that pypa/gh-action-pypi-publish uploads with trusted publishing
    (default since v1.11) are build provenance in devops and cnmm (found on pypa/pip-audit)."""
    want = "met" if met else "missing"
    assert rungs(case, "devops")["security.supply_chain"] == want
    assert rungs(case, "cnmm")["security.supply_chain"] == want


def test_a_gitops_configuration_repository_is_judged_on_what_it_can_have() -> None:
    """A pure GitOps configuration repository (found on fluxcd/flux2-multi-tenancy) has no code
    to unit-test and no cloud IaC: its manifests validated in CI (kubeconform) stand for unit
    tests, its fleet reconciled in a throwaway cluster in CI for tests in CI; devops iac does
    not apply."""
    result = scanned(ROOT / "fixtures" / "packs" / "gitops_config_repo")
    dims = {d.id: d for d in api.assess(result, api.get_pack("devops")).dimensions}
    assert not dims["iac"].applicable
    assert dims["quality"].level == 3
    got = rungs("gitops_config_repo", "devops", "gitops")
    assert got["quality.unit_tests"] == got["quality.tests_in_ci"] == "met"
    # a GitOps repository with neither stays at 1; a service with the same validation does
    # not pass for unit tests
    bare = api.assess(scanned(ROOT / "fixtures" / "archetype" / "positive_gitops"),
                      api.get_pack("devops"))
    assert next(d for d in bare.dimensions if d.id == "quality").level == 1
    assert rungs("iac_scanned_in_ci", "devops")["quality.unit_tests"] == "missing"


@pytest.mark.parametrize("case, met", [("bots_only", False), ("remediation_scanner_in_ci", True)])
def test_a_ci_pipeline_runs_on_changes(case: str, met: bool) -> None:
    """"A CI pipeline runs on every change": workflows on push / pull_request count (their
    headers are the evidence), an issue-labelling bot and a nightly stale-issue job do not."""
    got = {pack: rungs(case, pack)[rid] for pack, rid in (
        ("devops", "delivery.ci_pipeline"), ("devex", "devex.ci_pipeline"),
        ("cnmm", "release.ci_pipeline"))}
    assert set(got.values()) == {"met" if met else "missing"}


@pytest.mark.parametrize("case, met", [("gitlab_ci/positive_nightly_regression", True),
                                       ("gitlab_ci/negative_nightly_lookalikes", False)])
def test_gitlab_nightly_regression_and_alerting(case: str, met: bool) -> None:
    """000 3.5 on GitLab: a scheduled job that starts the stack then tests, and a job that
    notifies when the pipeline fails (`when: on_failure`)."""
    got = rungs(case, "devex")
    want = "met" if met else "missing"
    assert (got["devex.scheduled_regression"], got["devex.alerting"]) == (want, want)
    assert rungs(case, "devops")["quality.full_regression"] == want


@pytest.mark.parametrize("case, gated", [
    ("github_actions/positive_environment_deploys", True),  # production
    ("gitlab_ci/positive_manual_production", True),  # when: manual
    ("argocd/positive_manual_sync", True),  # synced by hand
    ("gitlab_ci/positive_environment_script", True),  # production
    ("github_actions/negative_environment_only", False),  # ci, staging, preview: no deploy
    ("gitlab_ci/negative_environment_only", False),  # production named, nothing deployed
    ("flux/positive_fleet_clusters", False),  # GitOps syncing by itself
])
def test_a_production_gate_is_a_gate(case: str, gated: bool) -> None:
    """002 "a gate to production that requires operator approval" (cnmm 4): a production
    environment deployed to, a manual GitLab job or a manual Argo CD sync; other environment
    names, or production named by a job that deploys nothing, are none."""
    assert rungs(case, "cnmm")["release.operator_approval"] == ("met" if gated else "missing")


def test_shared_building_blocks_refuse_their_near_misses() -> None:
    """A lone PrometheusRule is not a workload on Kubernetes, a lone ServiceAccount is not RBAC
    (docs/models-audit.md kmm b7, b8), an SBOM alone is no verifiable supply chain (devops and
    cnmm now agree), in every pack that judges them."""
    for pack, rid in (("kmm", "culture.experimenting"), ("kmm", "architecture.on_kubernetes"),
                      ("cnmm", "runtime.orchestrated"), ("gitops", "gitops.declarative_config"),
                      ("kmm", "security.rbac")):
        assert rungs("custom_resources_only", pack)[rid] == "missing", (pack, rid)
    for pack in ("devops", "cnmm"):
        assert rungs("sbom_only", pack)["security.supply_chain"] == "missing", pack
    assert rungs("deployed_from_images", "kmm")["culture.experimenting"] == "met"


@pytest.mark.parametrize("count, gap, met", [(6, 14.0, True), (6, 90.0, False), (2, 7.0, False)])
def test_release_cadence_is_measured_at_cnmm_level_4(count: int, gap: float, met: bool) -> None:
    """002 Level 4 "You will measure your release velocity and cadence": four or more releases
    a month or less apart (thresholds ours); versioned releases stay at 3 with one tag."""
    from maturity_scan.assess.graph import evaluate
    from maturity_scan.sdk import signal

    tags = signal("release_tags", "(git tags)", None, f"{count} release tags", count=count,
                  median_days_between=gap)
    got = {r.id: r.status for d in evaluate(api.get_pack("cnmm"), [tags], None,
                                            ["service"]).dimensions
           for lv in d.levels for r in lv.requirements}
    assert got["release.versioned"] == "met"
    assert got["release.cadence_measured"] == ("met" if met else "missing")


@pytest.mark.parametrize("case", ["serverless/positive_service", "ansible/positive_playbook"])
def test_one_list_of_iac_tools(case: str) -> None:
    """Infrastructure defined as code means the same tools in devops, cnmm and devex
    (shared.iac_defined): a Serverless or Ansible repository defines infrastructure in all."""
    for pack, rid in (("devops", "iac.defined_as_code"), ("cnmm", "infrastructure.as_code"),
                      ("devex", "devex.cloud_as_code")):
        assert rungs(case, pack, "infrastructure")[rid] == "met", (pack, rid)


@pytest.mark.parametrize("case, rid, met", [
    ("repos/platform-service", "security.best_practices", True),  # non-root USER
    ("deployed_from_images", "security.best_practices", False),  # no securityContext, no USER
    ("repos/k8s-platform", "culture.sre_practices", True),  # SLO and alert rules
    ("custom_resources_only", "culture.sre_practices", False),  # one alert rule, no objective
])
def test_kmm_reads_the_rest_of_its_criteria(case: str, rid: str, met: bool) -> None:
    """004 level 3 "container image scanning and security best practices": the second half is
    read (non-root images, securityContext); level 4 SRE practice needs objectives and alerts."""
    assert rungs(case, "kmm")[rid] == ("met" if met else "missing")


@pytest.mark.parametrize("case, met", [("velero/positive_schedules", True),
                                       ("one_off_backup", False)])
def test_backups_that_run_by_themselves(case: str, met: bool) -> None:
    """000 4.5 "Deployed environment down/up backs up the DBs ... restores the real data on up"
    (devex 4.5, devops data 5): a schedule or Kubify's backup; a one-off Velero Backup and a
    restore page are not automation."""
    want = "met" if met else "missing"
    assert rungs(case, "devops")["data.backups_automated"] == want
    assert rungs(case, "devex")["devex.backup_restore"] == want


def test_iac_checks_in_every_ci() -> None:
    """devops iac 3 / cnmm infrastructure 3 "validate infrastructure changes quickly through
    automated checks": GitLab (and the other CIs) count as GitHub Actions does."""
    assert rungs("gitlab_ci/positive_iac_checks", "devops", "infrastructure")[
        "iac.checked_in_ci"] == "met"
    assert rungs("gitlab_ci/positive_iac_checks", "cnmm", "infrastructure")[
        "infrastructure.checked_in_ci"] == "met"


@pytest.mark.parametrize("case, pack, rid, met", [
    ("policies_not_enforced", "cnmm", "infrastructure.control_plane_policy", False),
    ("policies_not_enforced", "cnmm", "security.policy_in_production", False),
    ("iac_scanned_in_ci", "cnmm", "infrastructure.control_plane_policy", True),
    ("argocd_helm_application", "kmm", "automation.gitops", False),  # one Application, no heal
    ("flux/positive_fleet_clusters", "kmm", "automation.gitops", True),  # prune: self-heal
    ("custom_resources_only", "kmm", "automation.observability", False),  # alert, no telemetry
    ("repos/k8s-platform", "kmm", "automation.observability", True),
    ("custom_resources_only", "cnmm", "testing.issue_detection", False),  # one alert rule
])
def test_policy_gitops_and_observability_need_the_practice(case: str, pack: str, rid: str,
                                                           met: bool) -> None:
    """A lone .rego or an Audit-mode Kyverno policy enforces nothing (cnmm b9); one Argo CD
    Application is not "advanced GitOps" (kmm b11); observability "for proactive operations"
    and issue detection across applications need alerts on telemetry (kmm b12, cnmm b10)."""
    assert rungs(case, pack)[rid] == ("met" if met else "missing")


def test_a_scanner_in_the_pre_commit_hook_is_a_security_scanner_tool() -> None:
    """000 2.5 "security scanner tools": bandit run by every commit (a pre-commit hook) counts,
    as gitleaks and checkov hooks already did; a bandit config nothing runs does not."""
    assert rungs("scanner_hooks_only", "devex")["devex.security_scanners"] == "met"
    assert rungs("remediation_configs_only", "devex")["devex.security_scanners"] == "missing"


@pytest.mark.parametrize("case, met", [("compose_for_build_only", False),
                                       ("repos/platform-service", True),
                                       ("github_actions/positive_full_env_nightly", True)])
def test_tests_against_real_services_are_in_one_job(case: str, met: bool) -> None:
    """devops quality 4 "perform integration testing": unit tests in one job and a compose
    stack started in another are not tests against real services (audit devops b5)."""
    assert rungs(case, "devops")["quality.real_services_in_tests"] == ("met" if met
                                                                       else "missing")


@pytest.mark.parametrize("case, met", [("jenkins/positive_failure_notification", True),
                                       ("jenkins/negative_notification_lookalikes", False)])
def test_jenkins_failure_notifications_are_alerting(case: str, met: bool) -> None:
    """000 3.5 on Jenkins: `post { failure { slackSend … } }` is alerting in CI/CD, and a
    `triggers { cron(…) }` pipeline whose stage starts compose then tests is the nightly
    regression across the infrastructure."""
    want = "met" if met else "missing"
    got = rungs(case, "devex")
    assert (got["devex.alerting"], got["devex.scheduled_regression"]) == (want, want)


@pytest.mark.parametrize("case, met, evidence", [
    # an ExternalSecret pulls the database password from AWS Secrets Manager
    ("secrets_from_a_store", True, ("deploy/secrets.yaml", 2)),
    # a plain Secret checked in, and a SecretStore nothing reads from
    ("plain_kubernetes_secret", False, None),
    # an Ingress that asks cert-manager's issuer for its certificate
    ("certificates_by_cert_manager", True, ("deploy/ingress.yaml", 2)),
    # a TLS Secret renewed by hand (the issuer annotation commented out), an unused ClusterIssuer
    ("tls_secret_by_hand", False, None),
])
def test_secrets_from_a_store_and_automated_certificates_are_hygiene(
        case: str, met: bool, evidence: tuple[str, int] | None) -> None:
    """Security basics (ours): secrets pulled from a secret manager (external_secrets) and
    certificates cert-manager issues and renews (cert_manager), in devops and cnmm."""
    from maturity_scan.assess.graph import evaluate

    result = scanned(ROOT / "fixtures" / "packs" / case)
    for pack in ("devops", "cnmm"):
        security = evaluate(api.get_pack(pack), result.signals, None,
                            ["service"]).dimension("security")
        assert security is not None
        rung = next(r for _, r in security.requirements if r.id == "security.hygiene")
        assert rung.status == ("met" if met else "missing"), pack
        assert [(e.path, e.line) for e in rung.evidence] == ([evidence] if evidence else [])
        assert security.level == (2 if met else 1), pack


@pytest.mark.parametrize("case, met", [("gitlab_kubify_regression", True),
                                       ("gitlab_kubify_after_tests", False)])
def test_kubify_regression_in_gitlab(case: str, met: bool) -> None:
    """000 4.5 "Regression tests use Kubify" in a GitLab job: `kubify up`, then the tests (not
    tests first, nor a `kubify status`)."""
    assert rungs(case, "devex")["devex.regression_uses_kubify"] == ("met" if met else "missing")
