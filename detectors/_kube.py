"""Shared by the Kubernetes-ecosystem detectors (alerting, argocd, flux, kyverno …): the
Kubernetes objects of a file for a generic `**/*.y{a,}ml` claim, including the resources a Helm
chart's templates declare (`k8s.template_objects`), and nothing for a file that does not parse (a
generic claim: a broken file is not ours to report)."""
from __future__ import annotations

from typing import Any

from maturity_scan.sdk import Document, ParseError, k8s


def objects(doc: Document) -> list[k8s.K8sObject]:
    """The file's Kubernetes objects, or a chart template's declared resources; [] for a file
    that does not parse."""
    try:
        if k8s.is_helm_template(doc):
            return k8s.template_objects(doc)
        return k8s.objects(doc)
    except ParseError:
        return []


def documents(doc: Document) -> list[object]:
    """The file's YAML documents; [] for a chart template or a file that does not parse."""
    try:
        return [] if k8s.is_helm_template(doc) else doc.yaml_documents
    except ParseError:
        return []


def as_map(value: Any) -> dict[str, Any]:
    """A parsed YAML value as a mapping ({} when it is not one)."""
    return value if isinstance(value, dict) else {}
