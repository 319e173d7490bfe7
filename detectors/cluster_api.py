"""Cluster API: clusters declared as resources of the `cluster.x-k8s.io` groups (Cluster,
MachineDeployment, the infrastructure / bootstrap / control-plane providers' kinds)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, kind, signal

GROUP = "cluster.x-k8s.io"



class ClusterAPIDetector:
    id = "cluster_api"
    description = "Cluster API resources (cluster.x-k8s.io groups)"
    kinds = {"cluster_api": kind(
        "Kubernetes clusters declared with Cluster API",
        clusters="count", kinds="set", cluster_classes="count",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            if obj.group != GROUP and not obj.group.endswith("." + GROUP):
                continue
            yield signal("cluster_api", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                         clusters=int(obj.kind == "Cluster" and obj.group == GROUP),
                         cluster_classes=int(obj.kind == "ClusterClass"),
                         kinds=[obj.kind])


DETECTOR = ClusterAPIDetector()
