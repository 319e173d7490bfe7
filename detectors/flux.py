"""Flux: the GitOps toolkit's resources (`*.toolkit.fluxcd.io`: Kustomization, HelmRelease,
GitRepository, OCIRepository, ImageUpdateAutomation …), and Flux v1's `helm.fluxcd.io`
HelmRelease. A Kustomize `kustomization.yaml` (`kustomize.config.k8s.io`) is not Flux.

A Kustomization or HelmRelease with an `interval` is synced automatically (`automated_sync`);
a Kustomization that also has `prune: true` reverts drift and removes what left git
(`self_heal`), as Argo CD's `selfHeal` does. `suspend: true` is neither.

`clusters`: the cluster folders (`clusters/<name>/`, Flux's bootstrap layout) that hold Flux
resources, one name each: how many clusters this repository reconciles.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

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
        notifications="flag", automated_sync="flag", self_heal="flag", clusters="set",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        m = _CLUSTER_DIR.match(doc.path)
        for obj in _objects(doc):
            if not is_flux(obj):
                continue
            yield signal(
                "flux", doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                kinds=[obj.kind], clusters=[m.group(1)] if m else [],
                kustomizations=int(obj.kind == "Kustomization"),
                helm_releases=int(obj.kind == "HelmRelease"),
                image_automation=obj.kind == "ImageUpdateAutomation",
                notifications=obj.group.startswith("notification."),
            )
            if obj.kind in ("Kustomization", "HelmRelease") and \
                    obj.group.startswith(("kustomize.", "helm.")):
                yield from _sync(obj, doc)


_CLUSTER_DIR = re.compile(r"^(?:.*/)?clusters/([^/]+)/")


def _sync(obj: k8s.K8sObject, doc: Document) -> Iterable[Signal]:
    spec: Any = obj.body.get("spec")
    if not isinstance(spec, dict) or spec.get("suspend") is True:
        return
    interval = spec.get("interval")
    if not isinstance(interval, str) or not interval.strip():
        return
    heal = obj.kind == "Kustomization" and spec.get("prune") is True
    line_of = getattr(spec, "line_of", lambda key: obj.line)
    yield signal("flux", doc.path, line_of("prune" if heal else "interval"),
                 f"{obj.kind} {obj.name}: synced every {interval}".strip() +
                 (" with prune" if heal else ""), automated_sync=True, self_heal=heal)


DETECTOR = FluxDetector()
