"""Shared by the Kubernetes-ecosystem detectors (alerting, argocd, flux, kyverno …): the
Kubernetes objects of a file for a generic `**/*.y{a,}ml` claim, including the resources a Helm
chart's templates declare.

A chart template is Go template text, not YAML, so `k8s.objects` gives none; but a template whose
`apiVersion:` and `kind:` are literal top-level lines does declare that resource (an app-of-apps
chart rendering Argo CD Applications, a chart shipping a ServiceMonitor). Those are returned with
an empty body: the kind and group are known, the spec is not.
"""
from __future__ import annotations

import re

from maturity_scan.sdk import Document, ParseError, k8s
from maturity_scan.sdk.yamlsafe import YamlMap

_API = re.compile(r"""^apiVersion:\s*["']?([\w.-]+(?:/[\w.-]+)?)["']?\s*(?:#.*)?$""")
_KIND = re.compile(r"""^kind:\s*["']?([A-Za-z]\w*)["']?\s*(?:#.*)?$""")
# A chart often templates the apiVersion of a built-in kind (to suit the cluster's version);
# the kind alone then says which API it is.
BUILTIN_API = {
    "NetworkPolicy": "networking.k8s.io/v1", "Ingress": "networking.k8s.io/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1",
    "Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1", "ServiceAccount": "v1",
    "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
    "CronJob": "batch/v1", "Job": "batch/v1",
}
_NAME = re.compile(r"""^  name:\s*["']?([\w.-]+)["']?\s*$""")


def template_objects(doc: Document) -> list[k8s.K8sObject]:
    """The resources a chart template declares with literal top-level apiVersion and kind."""
    out: list[k8s.K8sObject] = []
    api = kind = name = ""
    start = 0

    def flush() -> None:
        version = api or (BUILTIN_API.get(kind, "") if templated else "")
        if version and kind:
            out.append(k8s.K8sObject(version, kind, name, start, YamlMap()))

    templated = False
    for i, line in enumerate(doc.lines, 1):
        if line.startswith("---"):
            flush()
            api = kind = name = ""
            start, templated = 0, False
            continue
        if line.startswith("apiVersion:") and "{{" in line:
            templated = True  # e.g. {{ include "common.capabilities.hpa.apiVersion" . }}
            start = start or i
            continue
        m = _API.match(line) or _KIND.match(line) or _NAME.match(line)
        if m is None:
            continue
        if m.re is _API:
            api = m.group(1)
        elif m.re is _KIND:
            kind = m.group(1)
        elif not name:
            name = m.group(1)
        start = start or i
    flush()
    return out


def objects(doc: Document) -> list[k8s.K8sObject]:
    """The file's Kubernetes objects, or a chart template's declared resources; [] for a file
    that does not parse (a generic YAML claim: a broken file is not ours to report)."""
    try:
        if k8s.is_helm_template(doc):
            memo = doc._memo  # read once per file however many detectors ask
            if "k8s_templates" not in memo:
                memo["k8s_templates"] = template_objects(doc)
            return memo["k8s_templates"]  # type: ignore[no-any-return]
        return k8s.objects(doc)
    except ParseError:
        return []


def documents(doc: Document) -> list[object]:
    """The file's YAML documents; [] for a chart template or a file that does not parse."""
    try:
        return [] if k8s.is_helm_template(doc) else doc.yaml_documents
    except ParseError:
        return []

