"""Kubernetes documents, classified once per file: every detector of a resource family reads
the same list (kept on the Document), never re-parsing or re-splitting the stream.

A Helm chart's template is Go template text, not YAML, so `objects` gives none for it; but a
template whose `apiVersion:` and `kind:` are literal top-level lines does declare that resource
(an app-of-apps chart rendering Argo CD Applications, a chart shipping a ServiceMonitor):
`template_objects` returns those, with an empty body (the kind and group are known, the spec is
not).
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from maturity_scan.sdk.document import Document
from maturity_scan.sdk.yamlsafe import YamlMap


@dataclass(frozen=True)
class K8sObject:
    api_version: str  # e.g. "apps/v1", "argoproj.io/v1alpha1"
    kind: str  # e.g. "Deployment"
    name: str  # metadata.name, "" when absent
    line: int  # 1-based line where the document starts
    body: Any  # the whole parsed document (a YamlMap)

    @property
    def group(self) -> str:
        """API group: "" for the core group, else the part before the slash."""
        return self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""


def is_helm_template(doc: Document) -> bool:
    """A file under a chart's `templates/` folder: Go template text, not YAML."""
    parts = doc.path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "templates":
            chart_dir = "/".join(parts[:i])
            if doc.repo.exists(posixpath.join(chart_dir, "Chart.yaml")):
                return True
    return False


def _objects_of(docs: list[Any]) -> list[K8sObject]:
    out = []
    for d in docs:
        items = [d]
        if isinstance(d, dict) and d.get("kind") == "List" and isinstance(d.get("items"), list):
            items = d["items"]
        for item in items:
            if not isinstance(item, dict):
                continue
            api, kind = item.get("apiVersion"), item.get("kind")
            if not (isinstance(api, str) and isinstance(kind, str) and api and kind):
                continue
            meta = item.get("metadata")
            name = meta.get("name", "") if isinstance(meta, dict) else ""
            out.append(K8sObject(api, kind, name if isinstance(name, str) else "",
                                 getattr(item, "line", 1) or 1, item))
    return out


def _read(doc: Document) -> list[K8sObject]:
    if is_helm_template(doc):
        return []
    if doc.name.endswith(".json"):
        data = doc.json
        return _objects_of([data] if isinstance(data, dict) else [])
    return _objects_of(doc.yaml_documents)


def objects(doc: Document) -> list[K8sObject]:
    """The Kubernetes-shaped documents (apiVersion + kind) of a YAML or JSON file, in order.
    Helm templates give none (they are not YAML); a parse failure raises ParseError."""
    return doc.cached("k8s", lambda: _read(doc))


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


def _declared(doc: Document) -> list[K8sObject]:
    out: list[K8sObject] = []
    api = kind = name = ""
    start = 0

    def flush() -> None:
        version = api or (BUILTIN_API.get(kind, "") if templated else "")
        if version and kind:
            out.append(K8sObject(version, kind, name, start, YamlMap()))

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


def template_objects(doc: Document) -> list[K8sObject]:
    """The resources a chart template declares with literal top-level apiVersion and kind
    (read once per file however many detectors ask)."""
    return doc.cached("k8s_templates", lambda: _declared(doc))
