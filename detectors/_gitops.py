"""Software a repository installs through GitOps: a Flux `HelmRelease` (its chart) or
`HelmRepository` (a tool's own chart repository) or `OCIRepository` (an `oci://` url whose last
segment is the tool's chart or manifests), an Argo CD `Application` / `ApplicationSet`
(a helm `chart:` source — in an ApplicationSet, `{{values.chart}}` is filled in from its
generators' `values` and list `elements` — or a git `path:` named after the tool), and a
kustomize `helmCharts:` entry. Each is mapped to the tool it installs by its chart name, so that the tool's own detector
(velero, prometheus, …) reports the release as evidence of that tool.

Names only: a chart called `velero` installs Velero; a chart or path merely containing the word
(`velero-plugin-docs`) does not. Chart templates (Go templates) are not read here.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from maturity_scan.detectors._kube import documents, objects
from maturity_scan.sdk import Document, Signal, k8s, signal

# chart name -> tool
CHARTS = {
    "velero": "velero",
    "opentelemetry-collector": "opentelemetry", "opentelemetry-operator": "opentelemetry",
    "opentelemetry-kube-stack": "opentelemetry",
    "kube-prometheus-stack": "prometheus-operator", "kube-prometheus": "prometheus-operator",
    "prometheus-operator": "prometheus-operator", "prometheus": "prometheus",
    "grafana": "grafana", "grafana-operator": "grafana-operator",
    "loki": "loki", "loki-stack": "loki", "loki-distributed": "loki", "promtail": "promtail",
    "fluent-bit": "fluent-bit", "fluentd": "fluentd", "vector": "vector", "alloy": "alloy",
    "aws-for-fluent-bit": "fluent-bit",
    "victoria-logs-single": "victoria-logs", "victoria-logs-cluster": "victoria-logs",
    "victoria-logs-collector": "victoria-logs",
    "cert-manager": "cert-manager",
    "kyverno": "kyverno",
    "gatekeeper": "gatekeeper",
    "argo-rollouts": "argo-rollouts",
    "flagger": "flagger",
    "istiod": "istio", "istio-base": "istio", "istio-control-plane": "istio",
    "linkerd-control-plane": "linkerd", "linkerd2": "linkerd", "linkerd-crds": "linkerd",
    "external-secrets": "external-secrets",
    "keda": "keda",
    "karpenter": "karpenter", "cluster-autoscaler": "cluster-autoscaler",
}
# A tool's own chart repository (a Flux HelmRepository's url): only repositories that hold
# one tool's charts (grafana's holds loki and grafana: not listed).
REPOSITORIES = (
    (re.compile(r"vmware-tanzu\.github\.io/helm-charts"), "velero"),
    (re.compile(r"open-telemetry\.github\.io/opentelemetry-helm-charts"), "opentelemetry"),
    (re.compile(r"prometheus-community\.github\.io/helm-charts"), "prometheus"),
    (re.compile(r"charts\.jetstack\.io"), "cert-manager"),
    (re.compile(r"kyverno\.github\.io/kyverno"), "kyverno"),
    (re.compile(r"open-policy-agent\.github\.io/gatekeeper"), "gatekeeper"),
    (re.compile(r"flagger\.app"), "flagger"),
    (re.compile(r"istio-release\.storage\.googleapis\.com"), "istio"),
    (re.compile(r"helm\.linkerd\.io"), "linkerd"),
    (re.compile(r"charts\.external-secrets\.io"), "external-secrets"),
    (re.compile(r"kedacore\.github\.io/charts"), "keda"),
    (re.compile(r"charts\.karpenter\.sh|public\.ecr\.aws/karpenter"), "karpenter"),
)
FLUX_HELM = {"helm.toolkit.fluxcd.io", "helm.fluxcd.io"}
FLUX_SOURCE = "source.toolkit.fluxcd.io"


@dataclass(frozen=True)
class Install:
    tool: str  # a value of CHARTS / REPOSITORIES
    chart: str  # the chart, path segment or repository that names it
    line: int
    detail: str  # e.g. "HelmRelease monitoring/kube-prometheus-stack: installs kube-prometheus-stack"


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _chart_tool(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    # an OCI reference or a repository-qualified name: oci://ghcr.io/x/charts/velero, bitnami/x
    return CHARTS.get(name.strip().rstrip("/").rsplit("/", 1)[-1].lower())


def _path_tool(path: Any) -> tuple[str, str] | None:
    """A git path one of whose folders is a tool's chart name (`infra/velero/overlays/prod`)."""
    if not isinstance(path, str):
        return None
    for seg in reversed([s for s in path.split("/") if s]):
        tool = CHARTS.get(seg.lower())
        if tool:
            return tool, seg
    return None


def _flux(obj: k8s.K8sObject, detail: str) -> Iterator[Install]:
    spec = _map(obj.body.get("spec"))
    if obj.group in FLUX_HELM and obj.kind == "HelmRelease":
        chart = _map(spec.get("chart"))
        name = _map(chart.get("spec")).get("chart") or chart.get("name") \
            or _map(spec.get("chartRef")).get("name")
        if not name and isinstance(chart.get("path"), str):  # Flux v1: a chart in git
            name = chart["path"]
        tool = _chart_tool(name)
        if tool:
            yield Install(tool, str(name), obj.line, f"{detail}: installs {name}")
    elif obj.group == FLUX_SOURCE and obj.kind == "HelmRepository":
        url = spec.get("url")
        if isinstance(url, str):
            tool = next((t for rx, t in REPOSITORIES if rx.search(url)), None)
            if tool:
                yield Install(tool, url, obj.line, f"{detail}: chart repository of {tool}")
    elif obj.group == FLUX_SOURCE and obj.kind == "OCIRepository":
        # one artifact per repository: the url's last segment is the chart (or the manifests)
        # that a HelmRelease's chartRef or a Kustomization's sourceRef installs
        url = spec.get("url")
        tool = _chart_tool(url) if isinstance(url, str) and url.startswith("oci://") else None
        if tool:
            named = url.rstrip("/").rsplit("/", 1)[-1]
            yield Install(tool, named, obj.line, f"{detail}: installs {named}")


# An ApplicationSet's templated chart: `{{values.addonChart}}` (a cluster generator's `values`),
# `{{addonChart}}` / `{{.addonChart}}` (a list generator's elements), go-template or fasttemplate.
_PARAM = re.compile(r"\{\{-?\s*\.?(?:(values)\.)?([\w-]+)\s*-?\}\}")
MAX_RESOLVED = 16  # chart names one templated `chart:` may stand for
MAX_GENERATOR_DEPTH = 4  # merge / matrix generators nest; deeper is not followed


def _generator_params(generators: Any, depth: int = 0) -> dict[tuple[bool, str], set[str]]:
    """What the generators give each parameter: (from `values`?, name) -> string values."""
    out: dict[tuple[bool, str], set[str]] = {}
    if depth > MAX_GENERATOR_DEPTH:
        return out
    for gen in _list(generators):
        for body in _map(gen).values():
            body = _map(body)
            params = [(True, _map(body.get("values")))]
            params += [(False, _map(e)) for e in _list(body.get("elements"))]
            for from_values, mapping in params:
                for key, value in mapping.items():
                    if isinstance(key, str) and isinstance(value, str):
                        out.setdefault((from_values, key), set()).add(value)
            for key, names in _generator_params(body.get("generators"), depth + 1).items():
                out.setdefault(key, set()).update(names)
    return out


def _charts(chart: Any, params: dict[tuple[bool, str], set[str]]) -> list[str]:
    """The chart names a source's `chart:` stands for (a template resolved by the generators)."""
    if not isinstance(chart, str):
        return []
    names = [""]
    at = 0
    for m in _PARAM.finditer(chart):  # `{{values.namespace}}/{{values.chart}}`: each filled in
        values = sorted(params.get((bool(m.group(1)), m.group(2)), ()))
        names = [n + chart[at:m.start()] + v for n in names for v in values][:MAX_RESOLVED]
        at = m.end()
    return [n + chart[at:] for n in names]


def _argocd(obj: k8s.K8sObject, detail: str) -> Iterator[Install]:
    spec = _map(obj.body.get("spec"))
    params: dict[tuple[bool, str], set[str]] = {}
    if obj.kind == "ApplicationSet":
        params = _generator_params(spec.get("generators"))
        spec = _map(_map(spec.get("template")).get("spec"))
    seen: set[str] = set()
    for source in [spec.get("source"), *_list(spec.get("sources"))]:
        source = _map(source)
        found = [(t, c) for c in _charts(source.get("chart"), params)
                 for t in [_chart_tool(c)] if t]
        if not found:
            path = _path_tool(source.get("path"))
            found = [path] if path else []
        for tool, named in found:
            if tool not in seen:
                seen.add(tool)
                yield Install(tool, named, obj.line, f"{detail}: installs {named}")


def _read(doc: Document) -> list[Install]:
    if "kind:" not in doc.text and "helmCharts" not in doc.text:
        return []
    out: list[Install] = []
    for obj in objects(doc):
        if not obj.body:  # a chart template's declared resource: no spec to read
            continue
        detail = f"{obj.kind} {obj.name}".strip()
        if obj.group in FLUX_HELM or obj.group == FLUX_SOURCE:
            out += _flux(obj, detail)
        elif obj.group == "argoproj.io" and obj.kind in ("Application", "ApplicationSet"):
            out += _argocd(obj, detail)
    if doc.name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        for data in documents(doc):
            if not isinstance(data, dict):
                continue
            api = str(data.get("apiVersion") or "kustomize.config.k8s.io/")
            if not api.startswith("kustomize.config.k8s.io/"):
                continue
            for entry in _list(data.get("helmCharts")):
                entry = _map(entry)
                tool = _chart_tool(entry.get("name"))
                if tool:
                    line = getattr(entry, "line", 0) or doc.line_of(r"^\s*helmCharts:") or 1
                    out.append(Install(tool, str(entry["name"]), line,
                                       f"kustomize helmCharts: installs {entry['name']}"))
    return out


def installs(doc: Document, *tools: str) -> list[Install]:
    """What the file installs through GitOps, of the given tools (all when none given); read
    once per file however many detectors ask."""
    found: list[Install] = doc.cached("gitops_installs", lambda: _read(doc))
    return [i for i in found if not tools or i.tool in tools]


def release_signals(doc: Document, kind_name: str,
                    tools: dict[str, dict[str, Any]]) -> Iterator[Signal]:
    """One `kind_name` signal per release of one of `tools` (tool -> the facts a release of it
    shows), located at the release."""
    for inst in installs(doc, *tools):
        yield signal(kind_name, doc.path, inst.line, inst.detail, **tools[inst.tool])
