"""Software installed through GitOps counts as that software (issue 10, item 5): a Flux
HelmRelease / HelmRepository, an Argo CD Application(Set) helm chart or path, and kustomize
`helmCharts:` are evidence of the tool they install, located at the release; Flux
Kustomizations with `interval` and `prune: true` sync automatically and heal drift; workloads
deployed from images are counted (`kubernetes_manifests.images`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from maturity_scan import api
from maturity_scan.assess.results import Assessment, RequirementResult
from maturity_scan.testing import scan_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _requirements(assessment: Assessment) -> dict[str, RequirementResult]:
    return {r.id: r for d in assessment.dimensions for lv in d.levels for r in lv.requirements}


@pytest.fixture(scope="module")
def fleet():  # type: ignore[no-untyped-def]
    return scan_fixture(FIXTURES / "flux" / "positive_gitops_tools")


def test_releases_are_evidence_of_the_tools_they_install(fleet) -> None:  # type: ignore[no-untyped-def]
    where = {s.kind: [(e.path, e.line) for e in s.evidence] for s in fleet.signals}
    releases = "infrastructure/releases.yaml"
    assert where["velero"] == [(releases, 1), ("infrastructure/sources.yaml", 1)]
    assert where["prometheus"] == [(releases, 14)]
    assert where["opentelemetry"] == [(releases, 26)]
    assert where["logging"] == [(releases, 38)]
    assert where["opa"] == [(releases, 50)]
    assert where["service_mesh"] == [(releases, 62)]
    assert where["autoscaling"] == [(releases, 73)]
    assert "grafana" not in where  # grafana's repository holds loki too: not grafana itself
    assert "dockerfile" not in where


def test_releases_satisfy_the_tools_requirements(fleet) -> None:  # type: ignore[no-untyped-def]
    reqs = _requirements(api.assess(fleet, api.get_pack("devops")))
    for rid, line in (("data.backups_automated", 1), ("observability.tracing", 26),
                      ("security.policy_as_code", 50), ("architecture.stateful_or_mesh", 62)):
        assert reqs[rid].met, rid
        assert ("infrastructure/releases.yaml", line) in [(e.path, e.line)
                                                          for e in reqs[rid].evidence], rid
    devops = api.assess(fleet, api.get_pack("devops"))
    assert devops.dimension("observability").level >= 2  # type: ignore[union-attr]


def test_flux_sync_facts(fleet) -> None:  # type: ignore[no-untyped-def]
    flux = fleet.signal("flux")
    assert flux.facts["automated_sync"] is True and flux.facts["self_heal"] is True
    heal = [e for e in flux.evidence if "self_heal" in e.supports]
    assert [(e.path, e.line) for e in heal] == [("clusters/prod/infrastructure.yaml", 9)]
    k8s = fleet.signal("kubernetes_manifests")
    assert k8s.facts["images"] == 1 and k8s.facts["workloads"] == 1


def test_argo_and_kustomize_installs() -> None:
    result = scan_fixture(FIXTURES / "argocd" / "positive_tool_applications")
    details = {s.kind: sorted(e.detail for e in s.evidence) for s in result.signals}
    assert details["velero"] == ["Application velero: installs velero"]
    assert details["prometheus"] == ["Application monitoring: installs kube-prometheus-stack",
                                     "kustomize helmCharts: installs kube-prometheus-stack"]
    assert details["argo_rollouts"] == ["ApplicationSet argo-rollouts: installs argo-rollouts"]
    assert details["kyverno"] == ["ApplicationSet argo-rollouts: installs kyverno"]
    assert details["grafana"] == ["kustomize helmCharts: installs grafana"]
    assert result.signal("prometheus").facts == {"operator": True}  # type: ignore[union-attr]
    reqs = _requirements(api.assess(result, api.get_pack("devops")))
    assert reqs["data.backups_automated"].met


@pytest.mark.parametrize("case", ["negative_tool_lookalikes", "malformed_tool_release"])
def test_near_misses_install_nothing(case: str) -> None:
    result = scan_fixture(FIXTURES / "flux" / case)
    tools = {"velero", "prometheus", "logging", "grafana", "opentelemetry", "kyverno", "opa",
             "service_mesh", "autoscaling", "argo_rollouts", "flagger"}
    assert not tools & {s.kind for s in result.signals}
    flux = result.signal("flux")
    assert flux is not None and not flux.facts.get("automated_sync")
    reqs = _requirements(api.assess(result, api.get_pack("devops")))
    assert not reqs["data.backups_automated"].met
