"""Service level objectives as code: Sloth (`sloth.slok.dev` PrometheusServiceLevel, or a plain
spec with `version: prometheus/v1` and `slos`), OpenSLO (`apiVersion: openslo/v1…`), Pyrra
ServiceLevelObjective (pyrra.dev), Google's slo-generator and Nobl9 SLO documents."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.sdk import Document, Signal, k8s, kind, signal


def _tool(obj: k8s.K8sObject) -> str:
    api = obj.api_version
    if obj.group == "sloth.slok.dev" and obj.kind == "PrometheusServiceLevel":
        return "sloth"
    if api.startswith("openslo/") and obj.kind in ("SLO", "SLI", "Service", "AlertPolicy"):
        return "openslo"
    if obj.group == "pyrra.dev" and obj.kind == "ServiceLevelObjective":
        return "pyrra"
    if obj.group == "sre.google.com" and obj.kind == "ServiceLevelObjective":
        return "slo-generator"
    if api.startswith("n9/") and obj.kind == "SLO":
        return "nobl9"
    return ""


def _slo_count(obj: k8s.K8sObject, tool: str) -> int:
    if tool == "sloth":
        slos = obj.body.get("spec", {}).get("slos") if isinstance(obj.body.get("spec"), dict) \
            else None
        return len(slos) if isinstance(slos, list) else 0
    return int(obj.kind in ("SLO", "ServiceLevelObjective"))


def _sloth_spec(cfg: Any) -> int:
    """SLOs in a plain Sloth spec (`version: prometheus/v1`, `service`, `slos`), else 0."""
    if isinstance(cfg, dict) and isinstance(cfg.get("version"), str) and \
            cfg["version"].startswith("prometheus/") and isinstance(cfg.get("slos"), list):
        return len(cfg["slos"])
    return 0


class SLODetector:
    id = "slo"
    description = "SLOs as code: Sloth, OpenSLO, Pyrra, slo-generator, Nobl9"
    kinds = {"slo": kind("Service level objectives defined as code", tools="set", slos="count")}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        docs, objs = kube.documents(doc), kube.objects(doc)
        for cfg in docs:
            n = _sloth_spec(cfg)
            if n:
                yield signal("slo", doc.path, cfg.line_of("slos"), f"sloth spec: {n} SLO(s)",
                             tools=["sloth"], slos=n)
        for obj in objs:
            tool = _tool(obj)
            if tool:
                yield signal("slo", doc.path, obj.line, f"{tool} {obj.kind} {obj.name}".strip(),
                             tools=[tool], slos=_slo_count(obj, tool))


DETECTOR = SLODetector()
