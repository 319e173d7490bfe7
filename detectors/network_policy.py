"""Network policies: Kubernetes NetworkPolicy, Cilium and Calico policies, in manifests or
chart templates; whether one denies all traffic by default."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors._families import FAMILY_PATTERNS, family
from maturity_scan.sdk import Document, Signal, kind
from maturity_scan.sdk.k8s import K8sObject

MEMBERS = {("networking.k8s.io", "NetworkPolicy"): "kubernetes",
           ("cilium.io", "CiliumNetworkPolicy"): "cilium",
           ("cilium.io", "CiliumClusterwideNetworkPolicy"): "cilium",
           ("crd.projectcalico.org", "NetworkPolicy"): "calico",
           ("crd.projectcalico.org", "GlobalNetworkPolicy"): "calico",
           ("projectcalico.org", "NetworkPolicy"): "calico",
           ("projectcalico.org", "GlobalNetworkPolicy"): "calico"}


def _default_deny(obj: K8sObject) -> bool:
    spec = obj.body.get("spec") if isinstance(obj.body.get("spec"), dict) else {}
    if obj.group != "networking.k8s.io":
        return False
    selector = spec.get("podSelector")
    if selector not in ({}, None) or "podSelector" not in spec:
        return False
    types = spec.get("policyTypes") or ["Ingress"]
    return all(not spec.get(t.lower()) for t in types if isinstance(t, str))


def _facts(obj: K8sObject) -> dict[str, Any]:
    return {"policies": 1, "engines": [MEMBERS.get((obj.group, obj.kind), "kubernetes")],
            "default_deny": _default_deny(obj)}


class NetworkPolicyDetector:
    id = "network_policy"
    description = "NetworkPolicy / Cilium / Calico policies (manifests and chart templates)"
    kinds = {"network_policy": kind("Network traffic restricted by policy", policies="count",
                                    engines="set", default_deny="flag")}
    patterns = FAMILY_PATTERNS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        return family(doc, "network_policy", MEMBERS, _facts)


DETECTOR = NetworkPolicyDetector()
