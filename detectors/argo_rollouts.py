"""Argo Rollouts: `Rollout` resources (argoproj.io) with their canary / blue-green strategy, and
the analysis that gates a promotion (AnalysisTemplate, analysis steps, pre/post-promotion
analysis)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors._gitops import release_signals
from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, kind, signal

GROUP = "argoproj.io"
ANALYSIS_KINDS = {"AnalysisTemplate", "ClusterAnalysisTemplate"}
_TEMPLATE_STRATEGY = re.compile(r"^\s+(canary|blueGreen):", re.MULTILINE)
_TEMPLATE_ANALYSIS = re.compile(
    r"^\s+-?\s*(?:analysis|prePromotionAnalysis|postPromotionAnalysis):", re.MULTILINE)



def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _has_analysis(strategy: dict[str, Any]) -> bool:
    canary = _map(strategy.get("canary"))
    blue_green = _map(strategy.get("blueGreen"))
    steps = canary.get("steps") if isinstance(canary.get("steps"), list) else []
    return bool(canary.get("analysis") or blue_green.get("prePromotionAnalysis") or
                blue_green.get("postPromotionAnalysis") or
                any(isinstance(s, dict) and (s.get("analysis") or s.get("experiment"))
                    for s in steps))


class ArgoRolloutsDetector:
    id = "argo_rollouts"
    description = "Argo Rollouts progressive delivery (Rollout, AnalysisTemplate)"
    kinds = {"argo_rollouts": kind(
        "Progressive delivery with Argo Rollouts",
        rollouts="count", strategies="set", analysis="flag",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            if obj.group != GROUP:
                continue
            name = f"{obj.kind} {obj.name}".strip()
            if obj.kind in ANALYSIS_KINDS:
                yield signal("argo_rollouts", doc.path, obj.line, name, analysis=True)
            elif obj.kind == "Rollout":
                if obj.body:
                    strategy = _map(_map(obj.body.get("spec")).get("strategy"))
                    kinds = sorted(k for k in ("canary", "blueGreen") if k in strategy)
                    analysis = _has_analysis(strategy)
                else:  # a chart template: its literal lines are all there is to read
                    kinds = sorted(set(_TEMPLATE_STRATEGY.findall(doc.text)))
                    analysis = bool(_TEMPLATE_ANALYSIS.search(doc.text))
                yield signal("argo_rollouts", doc.path, obj.line,
                             f"{name}: {'/'.join(kinds) or 'no'} strategy" +
                             (" with analysis" if analysis else ""),
                             rollouts=1, strategies=kinds, analysis=analysis)
        yield from release_signals(doc, "argo_rollouts", {"argo-rollouts": {}})


DETECTOR = ArgoRolloutsDetector()
