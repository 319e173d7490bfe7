"""Flagger: `Canary` resources (flagger.app) and the mesh or ingress that shifts their traffic."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors._gitops import release_signals
from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, kind, signal

GROUP = "flagger.app"



def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class FlaggerDetector:
    id = "flagger"
    description = "Flagger canary releases (Canary in flagger.app)"
    kinds = {"flagger": kind(
        "Progressive delivery with Flagger",
        canaries="count", providers="set", metric_checks="flag",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            if obj.group != GROUP or obj.kind != "Canary":
                continue
            spec = _map(obj.body.get("spec"))
            provider = spec.get("provider")
            analysis = _map(spec.get("analysis") or spec.get("canaryAnalysis"))
            yield signal("flagger", doc.path, obj.line, f"Canary {obj.name}".strip(),
                         canaries=1,
                         providers=[provider] if isinstance(provider, str) and provider
                         and "{{" not in provider else [],
                         metric_checks=bool(analysis.get("metrics") or analysis.get("webhooks")))
        yield from release_signals(doc, "flagger", {"flagger": {}})


DETECTOR = FlaggerDetector()
