"""Kustomize: `kustomization.yaml` files, and overlays (kustomizations that build on another
kustomization folder, typically one per environment)."""
from __future__ import annotations

import posixpath
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KEYS = {"resources", "bases", "components", "patches", "patchesStrategicMerge",
        "patchesJson6902", "configMapGenerator", "secretGenerator", "images", "namespace",
        "namePrefix", "nameSuffix", "commonLabels", "labels", "helmCharts", "replicas",
        "generators", "transformers", "crds"}


class KustomizeDetector:
    id = "kustomize"
    description = "Kustomize bases, overlays and components"
    kinds = {"kustomize": kind("Manifests composed with Kustomize", kustomizations="count",
                               overlays="count", components="count")}
    patterns = NAMES

    def analyze(self, doc: Document) -> Iterable[Signal]:
        data = doc.yaml
        if not isinstance(data, dict) or not KEYS & set(data):
            return
        api = str(data.get("apiVersion") or "kustomize.config.k8s.io/")
        if not api.startswith("kustomize.config.k8s.io/"):
            return  # e.g. a Flux Kustomization that happens to use this file name
        refs = [r for key in ("resources", "bases", "components")
                for r in (data.get(key) if isinstance(data.get(key), list) else [])
                if isinstance(r, str) and "://" not in r]
        bases = [r for r in refs if r.startswith("..") and any(
            doc.repo.exists(posixpath.normpath(posixpath.join(doc.dir, r, n))) for n in NAMES)]
        component = data.get("kind") == "Component"
        detail = "component" if component else (f"overlay of {bases[0]}" if bases else "base")
        yield signal("kustomize", doc.path, 1, f"kustomization ({detail})", kustomizations=1,
                     overlays=int(bool(bases)), components=int(component))


DETECTOR = KustomizeDetector()
