"""RBAC: Roles, ClusterRoles, their bindings and ServiceAccounts (manifests and chart templates)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._families import FAMILY_PATTERNS, family
from maturity_scan.sdk import Document, Signal, kind

G = "rbac.authorization.k8s.io"
MEMBERS = {(G, "Role"): "roles", (G, "ClusterRole"): "roles", (G, "RoleBinding"): "bindings",
           (G, "ClusterRoleBinding"): "bindings", ("", "ServiceAccount"): "service_accounts"}


class RbacDetector:
    id = "rbac"
    description = "Kubernetes RBAC: roles, bindings, service accounts"
    kinds = {"rbac": kind("Access controlled with Kubernetes RBAC", roles="count",
                          bindings="count", service_accounts="count")}
    patterns = FAMILY_PATTERNS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        return family(doc, "rbac", MEMBERS,
                      lambda obj: {MEMBERS.get((obj.group, obj.kind), "roles"): 1})


DETECTOR = RbacDetector()
