"""Argo CD: `Application`, `ApplicationSet` and `AppProject` resources of the `argoproj.io` group.

`cluster_generators` counts ApplicationSets whose generator targets every registered cluster
(`clusters`, `clusterDecisionResource`, also inside `matrix`/`merge`): fleet management.
`helm_applications` counts the Application sources that install a Helm chart (`chart:`), at the
chart line: software deployed from images, containerized with no Dockerfile here.

Only the real API group counts: a `kind: Application` of another group (SAP, KubeVela …) is not
Argo CD, and Argo Workflows / Rollouts / Events share the group but not these kinds.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, k8s, kind, signal

GROUP = "argoproj.io"
KINDS = {"Application", "ApplicationSet", "AppProject"}
_USERINFO = re.compile(r"//[^/@]*@")
_PLACEHOLDER = re.compile(r"\{\{-?\s*\.?([\w-]+)\s*-?\}\}")
_TEMPLATE_AUTOMATED = re.compile(r"^\s+automated:", re.MULTILINE)
_TEMPLATE_SELF_HEAL = re.compile(r"^\s+selfHeal:\s*true\b", re.MULTILINE)



def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _destinations(spec: dict[str, Any], generators: Any = None) -> list[str]:
    """The target clusters (name or API server). An ApplicationSet placeholder (`{{url}}`) is
    resolved from its list generator's elements; any other placeholder is unknown."""
    dest = _map(spec.get("destination"))
    value = dest.get("name") or dest.get("server")
    if not isinstance(value, str) or not value:
        return []
    m = _PLACEHOLDER.fullmatch(value.strip())
    if m:
        elements = [e for g in generators if isinstance(g, dict)
                    for e in _list(_map(g.get("list")).get("elements"))] \
            if isinstance(generators, list) else []
        values = [e.get(m.group(1)) for e in elements if isinstance(e, dict)]
        return sorted({_USERINFO.sub("//", v) for v in values if isinstance(v, str) and v})
    if "{{" in value or "$" in value:
        return []
    return [_USERINFO.sub("//", value)]


FLEET_GENERATORS = ("clusters", "clusterDecisionResource")


def _cluster_generator(generators: Any, depth: int = 0) -> tuple[str, Any] | None:
    """The first generator (also inside `matrix`/`merge`) that targets registered clusters
    rather than a fixed list: `clusters` or `clusterDecisionResource` (Open Cluster
    Management placement)."""
    for g in _list(generators) if depth < 6 else ():
        g = _map(g)
        for key in FLEET_GENERATORS:
            if key in g:
                return key, g
        for combo in ("matrix", "merge"):
            found = _cluster_generator(_map(g.get(combo)).get("generators"), depth + 1)
            if found:
                return found
    return None


class ArgoCDDetector:
    id = "argocd"
    description = "Argo CD Applications, ApplicationSets and AppProjects (argoproj.io)"
    kinds = {"argocd": kind(
        "Deployments reconciled from git by Argo CD",
        applications="count", application_sets="count", projects="count",
        automated_sync="flag", self_heal="flag", prune="flag", destinations="set",
        source_types="set", helm_applications="count", cluster_generators="count",
        manual_sync_applications="count",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            if obj.group != GROUP or obj.kind not in KINDS:
                continue
            yield from self._one(obj, doc)

    def _one(self, obj: k8s.K8sObject, doc: Document) -> Iterator[Signal]:
        spec = _map(obj.body.get("spec"))
        detail = f"{obj.kind} {obj.name}".strip()
        if obj.kind == "AppProject":
            yield signal("argocd", doc.path, obj.line, detail, projects=1)
            return
        generators = spec.get("generators")
        if obj.kind == "ApplicationSet":
            spec = _map(_map(spec.get("template")).get("spec"))
            fleet = _cluster_generator(generators)
            if fleet:
                yield signal("argocd", doc.path, getattr(fleet[1], "line", None) or obj.line,
                             f"{detail}: {fleet[0]} generator (every registered cluster)",
                             cluster_generators=1)
        policy = _map(spec.get("syncPolicy"))
        auto = policy.get("automated")
        automated = isinstance(auto, dict) and auto.get("enabled", True) is not False
        if not obj.body:  # a chart template: its literal lines are all there is to read
            auto = {"selfHeal": True} if _TEMPLATE_SELF_HEAL.search(doc.text) else {}
            automated = bool(_TEMPLATE_AUTOMATED.search(doc.text))
        sources = [s for s in [spec.get("source"), *_list(spec.get("sources"))]
                   if isinstance(s, dict)]
        types = sorted({"helm" if s.get("chart") or "helm" in s else
                        "kustomize" if "kustomize" in s else
                        "plugin" if "plugin" in s else
                        "directory" for s in sources})
        dests = _destinations(spec, generators if obj.kind == "ApplicationSet" else None)
        facts: dict[str, Any] = {
            # an Application nobody syncs automatically: a person approves each sync
            "manual_sync_applications": int(obj.kind == "Application" and not automated
                                            and bool(obj.body)),
            "applications": int(obj.kind == "Application"),
            "application_sets": int(obj.kind == "ApplicationSet"),
            "automated_sync": automated,
            "self_heal": automated and _map(auto).get("selfHeal") is True,
            "prune": automated and _map(auto).get("prune") is True,
            "destinations": dests,
            "source_types": types,
        }
        yield signal("argocd", doc.path, obj.line, detail, **facts)
        for source in sources:  # a Helm chart it installs: software deployed from images
            chart = source.get("chart")
            if isinstance(chart, str) and chart.strip():
                line = getattr(source, "line_of", lambda k: obj.line)("chart")
                yield signal("argocd", doc.path, line, f"{detail} installs chart {chart.strip()}",
                             helm_applications=1)
        if automated:
            line = getattr(policy, "line_of", lambda k: obj.line)("automated")
            yield signal("argocd", doc.path, line, f"{detail}: automated sync" +
                         (" with self-heal" if facts["self_heal"] else ""),
                         automated_sync=True, self_heal=facts["self_heal"])


DETECTOR = ArgoCDDetector()
