"""Kubernetes manifests: YAML documents with `apiVersion` and `kind` of real Kubernetes
resources (built-in groups, or custom resources of a dotted API group), outside Helm chart
templates. Configuration files that borrow the shape (kubeconfig, Kustomize, kind cluster
configs, kubeadm, Kubify, Skaffold) are not cluster resources. `images` counts the containers
of workloads that run a named image: a service deployed from images is containerized even when
its Dockerfile lives elsewhere.

A file of only CustomResourceDefinitions of well-known third-party projects (a copy of
cert-manager's or the Prometheus operator's CRD bundle) is a vendored copy: reported with
`"scope": "vendored"`, it adds no facts (README, "What counts as evidence"). A project's own
CRDs (kubebuilder's `config/crd/`, or any other API group) count."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import dataclasses

from maturity_scan.sdk import Document, ParseError, Signal, k8s, kind, signal

BUILTIN_GROUPS = {"apps", "batch", "networking.k8s.io", "policy", "autoscaling",
                  "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io",
                  "admissionregistration.k8s.io", "scheduling.k8s.io", "coordination.k8s.io",
                  "discovery.k8s.io", "node.k8s.io", "certificates.k8s.io", "events.k8s.io",
                  "gateway.networking.k8s.io", "flowcontrol.apiserver.k8s.io", "extensions",
                  "apiregistration.k8s.io", "resource.k8s.io", "snapshot.storage.k8s.io"}
CORE_KINDS = {"Pod", "Service", "ConfigMap", "Secret", "Namespace", "ServiceAccount",
              "PersistentVolumeClaim", "PersistentVolume", "Endpoints", "LimitRange",
              "ResourceQuota", "ReplicationController", "Node", "Event", "PodTemplate"}
NOT_RESOURCES = {"kustomize.config.k8s.io", "kind.x-k8s.io", "kubeadm.k8s.io",
                 "kubelet.config.k8s.io", "kubeproxy.config.k8s.io", "apiserver.config.k8s.io",
                 "audit.k8s.io", "config.kubernetes.io", "kpt.dev", "k8.kubify.local",
                 "kubify.kubify.local", "kubescheduler.config.k8s.io", "ctlptl.dev",
                 "k3d.io", "clientauthentication.k8s.io", "skaffold"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod",
             "Rollout", "DeploymentConfig"}
# API groups (and their subdomains) of projects whose CRD bundles are copied into repositories
UPSTREAM_GROUPS = ("monitoring.coreos.com", "cert-manager.io", "argoproj.io", "fluxcd.io",
                   "velero.io", "kyverno.io", "gatekeeper.sh", "istio.io", "linkerd.io",
                   "keda.sh", "karpenter.sh", "external-secrets.io", "gateway.networking.k8s.io",
                   "snapshot.storage.k8s.io", "traefik.io", "traefik.containo.us",
                   "projectcalico.org", "cilium.io", "opentelemetry.io", "jaegertracing.io",
                   "bitnami.com", "cnpg.io", "grafana.integreatly.org", "tekton.dev",
                   "knative.dev", "metallb.io", "longhorn.io", "ceph.rook.io", "kubevirt.io")
INGRESS = {"Ingress", "Gateway", "HTTPRoute", "GRPCRoute", "IngressRoute", "VirtualService"}


def is_resource(obj: k8s.K8sObject) -> bool:
    group = obj.group
    if group in NOT_RESOURCES or group.endswith(".config.k8s.io"):
        return False
    if group == "":
        return obj.api_version == "v1" and obj.kind in CORE_KINDS
    return group in BUILTIN_GROUPS or "." in group


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def pod_spec(obj: k8s.K8sObject) -> dict[str, Any]:
    spec = _map(obj.body.get("spec"))
    if obj.kind == "Pod":
        return spec
    if obj.kind == "CronJob":
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    return _map(_map(spec.get("template")).get("spec"))


def containers(obj: k8s.K8sObject) -> Iterator[dict[str, Any]]:
    spec = pod_spec(obj)
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                yield c


class KubernetesManifestsDetector:
    id = "kubernetes_manifests"
    description = "Kubernetes resources in YAML (outside Helm templates): kinds, probes, requests"
    kinds = {"kubernetes_manifests": kind(
        "Workloads and resources described as Kubernetes manifests",
        objects="count", kinds="set", workloads="count", probes="flag",
        resource_requests="flag", stateful="flag", pdb="flag", crds="flag", ingress="flag",
        security_context="flag", images="count")}
    patterns = ("*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if "apiVersion" not in doc.text or "kind" not in doc.text:
            return
        try:
            objs = k8s.objects(doc)
        except ParseError:
            return  # a generic YAML claim: a broken random file is not ours to report
        vendored = _upstream_bundle(doc.path, objs)
        for obj in objs:
            if not is_resource(obj):
                continue
            if vendored:
                sig = signal("kubernetes_manifests", doc.path, obj.line,
                             f"{obj.kind} {obj.name} (upstream CRD bundle)".strip(),
                             objects=1, kinds=[obj.kind], crds=True)
                yield dataclasses.replace(sig, evidence=tuple(
                    dataclasses.replace(e, scope="vendored") for e in sig.evidence))
                continue
            cs = list(containers(obj)) if obj.kind in WORKLOADS else []
            spec = pod_spec(obj) if obj.kind in WORKLOADS else {}
            yield signal(
                "kubernetes_manifests", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                objects=1, kinds=[obj.kind], workloads=int(obj.kind in WORKLOADS),
                images=sum(isinstance(c.get("image"), str) and bool(c["image"].strip())
                           for c in cs),
                probes=any(k in c for c in cs for k in ("livenessProbe", "readinessProbe",
                                                         "startupProbe")),
                resource_requests=any(isinstance(c.get("resources"), dict) and
                                      "requests" in c["resources"] for c in cs),
                stateful=obj.kind in ("StatefulSet", "PersistentVolumeClaim"),
                pdb=obj.kind == "PodDisruptionBudget",
                crds=obj.kind == "CustomResourceDefinition",
                ingress=obj.kind in INGRESS and obj.kind != "VirtualService",
                security_context="securityContext" in spec or any("securityContext" in c
                                                                   for c in cs))


def _crd_group(obj: k8s.K8sObject) -> str:
    spec = obj.body.get("spec")
    group = spec.get("group") if isinstance(spec, dict) else None
    return group if isinstance(group, str) else obj.name.partition(".")[2]


def _upstream_bundle(path: str, objs: list[k8s.K8sObject]) -> bool:
    """Only CRDs, all of well-known third-party API groups, outside kubebuilder's own
    `config/crd/` layout."""
    if not objs or "config/crd/" in f"/{path}" or \
            any(o.kind != "CustomResourceDefinition" for o in objs):
        return False
    return all(any(g == u or g.endswith("." + u) for u in UPSTREAM_GROUPS)
               for g in map(_crd_group, objs))


DETECTOR = KubernetesManifestsDetector()
