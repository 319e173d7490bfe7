"""Service meshes: Istio, Linkerd, Consul and SMI resources (manifests and chart templates);
whether mutual TLS is strict and whether traffic is split between versions."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors._families import FAMILY_PATTERNS, family
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, Signal, kind
from maturity_scan.sdk.k8s import K8sObject

MEMBERS = {("networking.istio.io", k): "istio" for k in
           ("VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar")}
MEMBERS |= {("security.istio.io", k): "istio" for k in
            ("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication")}
MEMBERS |= {("linkerd.io", "ServiceProfile"): "linkerd", ("policy.linkerd.io", "Server"): "linkerd",
            ("policy.linkerd.io", "AuthorizationPolicy"): "linkerd",
            ("policy.linkerd.io", "MeshTLSAuthentication"): "linkerd"}
MEMBERS |= {("consul.hashicorp.com", k): "consul" for k in
            ("ServiceIntentions", "ServiceRouter", "ServiceSplitter", "ServiceResolver",
             "ServiceDefaults", "Mesh")}
MEMBERS |= {("split.smi-spec.io", "TrafficSplit"): "smi"}


def _facts(obj: K8sObject) -> dict[str, Any]:
    spec = obj.body.get("spec") if isinstance(obj.body.get("spec"), dict) else {}
    mtls = spec.get("mtls") if isinstance(spec.get("mtls"), dict) else {}
    split = obj.kind in ("TrafficSplit", "ServiceSplitter")
    if obj.kind == "VirtualService":
        for route in spec.get("http") or []:
            dests = route.get("route") if isinstance(route, dict) else None
            if isinstance(dests, list) and sum(isinstance(d, dict) and "weight" in d
                                               for d in dests) > 1:
                split = True
    return {"meshes": [MEMBERS.get((obj.group, obj.kind), "istio")],
            "mtls_strict": obj.kind == "PeerAuthentication" and mtls.get("mode") == "STRICT",
            "traffic_splitting": split}


class ServiceMeshDetector:
    id = "service_mesh"
    description = "Istio, Linkerd, Consul and SMI mesh resources"
    kinds = {"service_mesh": kind("Service-to-service traffic managed by a mesh",
                                  meshes="set", mtls_strict="flag", traffic_splitting="flag")}
    patterns = FAMILY_PATTERNS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        yield from family(doc, "service_mesh", MEMBERS, _facts)
        yield from release_signals(doc, "service_mesh", {"istio": {"meshes": ["istio"]},
                                                         "linkerd": {"meshes": ["linkerd"]}})


DETECTOR = ServiceMeshDetector()
