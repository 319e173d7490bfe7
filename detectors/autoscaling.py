"""Autoscaling: HorizontalPodAutoscaler, VerticalPodAutoscaler, KEDA ScaledObject/ScaledJob and
Karpenter NodePool/Provisioner (manifests and chart templates)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._families import FAMILY_PATTERNS, family
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, Signal, kind

MEMBERS = {("autoscaling", "HorizontalPodAutoscaler"): "hpa",
           ("autoscaling.k8s.io", "VerticalPodAutoscaler"): "vpa",
           ("keda.sh", "ScaledObject"): "keda", ("keda.sh", "ScaledJob"): "keda",
           ("karpenter.sh", "NodePool"): "karpenter", ("karpenter.sh", "Provisioner"): "karpenter"}


class AutoscalingDetector:
    id = "autoscaling"
    description = "HPA, VPA, KEDA and Karpenter resources"
    kinds = {"autoscaling": kind("Capacity follows load automatically", kinds="set",
                                 autoscalers="count")}
    patterns = FAMILY_PATTERNS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        yield from family(doc, "autoscaling", MEMBERS,
                          lambda obj: {"kinds": [obj.kind], "autoscalers": 1})
        yield from release_signals(doc, "autoscaling", {"keda": {}, "karpenter": {},
                                                        "cluster-autoscaler": {}})


DETECTOR = AutoscalingDetector()
