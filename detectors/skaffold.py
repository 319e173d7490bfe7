"""Skaffold: `skaffold.yaml` / `skaffold.yml` (apiVersion `skaffold/v*`): profiles, deployers,
build artifacts. Multi-document files (several configs) are read whole."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.sdk import Document, Signal, kind, signal

DEPLOYERS = ("helm", "kubectl", "kustomize", "kpt", "docker", "cloudrun", "rawYaml")


def _deployers(section: Any) -> set[str]:
    out: set[str] = set()
    for key in ("deploy", "manifests"):
        part = section.get(key) if isinstance(section, dict) else None
        if isinstance(part, dict):
            out |= {d.lower() for d in DEPLOYERS if d in part}
    return out


class SkaffoldDetector:
    id = "skaffold"
    description = "Skaffold configs: profiles, deployers, build artifacts"
    kinds = {"skaffold": kind(
        "Build-and-deploy loop with Skaffold",
        configs="count", profiles="set", deployers="set", artifacts="count",
    )}
    patterns = ("skaffold.y{a,}ml", "skaffold-*.y{a,}ml", "skaffold.*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for d in doc.yaml_documents:
            if not isinstance(d, dict) or not str(d.get("apiVersion", "")).startswith("skaffold/"):
                continue
            profiles = [p for p in d.get("profiles") or [] if isinstance(p, dict)]
            names = sorted({p["name"] for p in profiles if isinstance(p.get("name"), str)})
            deployers = _deployers(d)
            for p in profiles:
                deployers |= _deployers(p)
            build = d.get("build") if isinstance(d.get("build"), dict) else {}
            arts = build.get("artifacts") if isinstance(build.get("artifacts"), list) else []
            meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
            label = f"skaffold config {meta.get('name', '')}".strip()
            yield signal("skaffold", doc.path, getattr(d, "line", 1) or 1, label, configs=1,
                         profiles=names, deployers=sorted(deployers), artifacts=len(arts))
            if profiles and hasattr(d, "line_of"):
                yield signal("skaffold", doc.path, d.line_of("profiles"),
                             f"profiles {', '.join(names)}"[:80], profiles=names)


DETECTOR = SkaffoldDetector()
