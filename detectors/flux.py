"""Flux: the GitOps toolkit's resources (`*.toolkit.fluxcd.io`: Kustomization, HelmRelease,
GitRepository, OCIRepository, ImageUpdateAutomation …), and Flux v1's `helm.fluxcd.io`
HelmRelease. A Kustomize `kustomization.yaml` (`kustomize.config.k8s.io`) is not Flux.
"""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, k8s, kind, signal


def is_flux(obj: k8s.K8sObject) -> bool:
    return obj.group.endswith(".toolkit.fluxcd.io") or obj.group == "helm.fluxcd.io"


class FluxDetector:
    id = "flux"
    description = "Flux GitOps toolkit resources (*.toolkit.fluxcd.io)"
    kinds = {"flux": kind(
        "Deployments reconciled from git by Flux",
        kinds="set", kustomizations="count", helm_releases="count", image_automation="flag",
        notifications="flag",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            if not is_flux(obj):
                continue
            yield signal(
                "flux", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                kinds=[obj.kind],
                kustomizations=int(obj.kind == "Kustomization"),
                helm_releases=int(obj.kind == "HelmRelease"),
                image_automation=obj.kind == "ImageUpdateAutomation",
                notifications=obj.group.startswith("notification."),
            )


DETECTOR = FluxDetector()
