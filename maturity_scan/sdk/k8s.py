"""Kubernetes documents, classified once per file: every detector of a resource family reads
the same list (memoised on the Document), never re-parsing or re-splitting the stream."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from maturity_scan.sdk.document import Document


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


def objects(doc: Document) -> list[K8sObject]:
    """The Kubernetes-shaped documents (apiVersion + kind) of a YAML or JSON file, in order.
    Helm templates give none (they are not YAML); a parse failure raises ParseError."""
    memo = doc._memo
    if "k8s" not in memo:
        if is_helm_template(doc):
            memo["k8s"] = []
        elif doc.name.endswith(".json"):
            data = doc.json
            memo["k8s"] = _objects_of([data] if isinstance(data, dict) else [])
        else:
            memo["k8s"] = _objects_of(doc.yaml_documents)
    return memo["k8s"]  # type: ignore[no-any-return]
