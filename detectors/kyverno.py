"""Kyverno policies: `ClusterPolicy` / `Policy` and cleanup policies (kyverno.io) and the CEL
policy kinds of `policies.kyverno.io` (ValidatingPolicy …), with their rule types and whether they
enforce; Kyverno CLI policy tests (cli.kyverno.io `Test`)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors._gitops import release_signals
from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, kind, signal

RULE_TYPES = ("validate", "mutate", "generate", "verifyImages")
CEL_KINDS = {"ValidatingPolicy": "validate", "NamespacedValidatingPolicy": "validate",
             "ImageValidatingPolicy": "verifyImages", "MutatingPolicy": "mutate",
             "GeneratingPolicy": "generate", "DeletingPolicy": "cleanup"}



def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _enforce(value: Any) -> bool:
    return isinstance(value, str) and value.lower() == "enforce"


class KyvernoDetector:
    id = "kyverno"
    description = "Kyverno policies (ClusterPolicy / Policy in kyverno.io)"
    kinds = {"kyverno": kind(
        "Admission policies with Kyverno",
        policies="count", enforce="flag", rule_types="set", tests="count",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            spec = _map(obj.body.get("spec"))
            if obj.group == "kyverno.io" and obj.kind in ("ClusterPolicy", "Policy"):
                rules = spec.get("rules") if isinstance(spec.get("rules"), list) else []
                rules = [r for r in rules if isinstance(r, dict)]
                types = sorted({t for r in rules for t in RULE_TYPES if t in r})
                enforce = _enforce(spec.get("validationFailureAction")) or any(
                    _enforce(_map(r.get("validate")).get("failureAction")) for r in rules)
            elif obj.group == "kyverno.io" and obj.kind in ("CleanupPolicy",
                                                            "ClusterCleanupPolicy"):
                types, enforce = ["cleanup"], False
            elif obj.group == "cli.kyverno.io" and obj.kind == "Test":
                yield signal("kyverno", doc.path, obj.line, f"policy test {obj.name}".strip(),
                             tests=1)
                continue
            elif obj.group == "policies.kyverno.io" and obj.kind in CEL_KINDS:
                types = [CEL_KINDS[obj.kind]]
                actions = spec.get("validationActions")
                enforce = isinstance(actions, list) and "Deny" in actions
            else:
                continue
            yield signal("kyverno", doc.path, obj.line,
                         f"{obj.kind} {obj.name}".strip() + (" (enforce)" if enforce else ""),
                         policies=1, enforce=enforce, rule_types=types)
        yield from release_signals(doc, "kyverno", {"kyverno": {}})


DETECTOR = KyvernoDetector()
