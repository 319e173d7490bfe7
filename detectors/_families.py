"""Shared by the resource-family detectors (network policies, RBAC, autoscaling, service
mesh): the Kubernetes objects of a file, chart templates included (`_kube.objects`), turned into
one signal per matching object."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from maturity_scan.detectors._kube import objects
from maturity_scan.sdk import Document, Signal, signal
from maturity_scan.sdk.k8s import K8sObject

FAMILY_PATTERNS = ("*.y{a,}ml",)


def family(doc: Document, kind_name: str, members: dict[tuple[str, str], str],
           facts: Callable[[K8sObject], dict[str, Any]]) -> Iterable[Signal]:
    """`members`: (API group, kind) -> label; the group "*" matches any group."""
    if "kind:" not in doc.text:
        return
    for obj in objects(doc):
        label = members.get((obj.group, obj.kind)) or members.get(("*", obj.kind))
        if label:
            yield signal(kind_name, doc.path, obj.line, f"{obj.kind} {obj.name}".strip(),
                         **facts(obj))
