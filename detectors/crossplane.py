"""Crossplane: Compositions and CompositeResourceDefinitions (apiextensions.crossplane.io),
packages (pkg.crossplane.io Provider / Configuration / Function) and managed resources.

Managed resources are told by their provider's API group: `<service>.<provider>.upbound.io` or
`<service>.<provider>.crossplane.io` for a known provider (aws, gcp, azure, kubernetes, helm …).
Other kinds in those domains (Upbound platform references' composites and claims) are Crossplane
evidence but not managed resources; composites and claims in the user's own groups are not
counted on their own.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.detectors._kube import objects as _objects
from maturity_scan.sdk import Document, Signal, k8s, kind, signal

CORE = {"apiextensions.crossplane.io", "pkg.crossplane.io", "meta.pkg.crossplane.io"}
PROVIDER_DOMAINS = (".crossplane.io", ".upbound.io")
NOT_MANAGED = ("protection.crossplane.io", "ops.crossplane.io", "fn.crossplane.io",
               "dev.upbound.io")
# the provider label of a managed resource's group: ec2.<aws>.upbound.io, ec2.<aws>.m.upbound.io,
# <kubernetes>.crossplane.io, database.<gcp>.crossplane.io
PROVIDERS = {"aws", "gcp", "azure", "azuread", "kubernetes", "helm", "terraform", "tf", "github",
             "gitlab", "sql", "vault", "datadog", "cloudflare", "alibaba", "equinix", "ibm",
             "oci", "digitalocean", "http", "keycloak", "grafana", "upcloud", "opentofu", "nop"}
_PACKAGE = re.compile(r"^(?:[\w.-]+\.[a-z]{2,}(?::\d+)?/)?([\w./-]+?)(?::[\w.-]+|@sha256:\w+)?$")



def _provider_of(group: str) -> str:
    labels = group.split(".")[:-2]
    if labels and labels[-1] == "m":  # Crossplane v2 namespaced managed resources
        labels = labels[:-1]
    return labels[-1] if labels else ""


def _package_name(obj: k8s.K8sObject) -> str:
    spec = obj.body.get("spec")
    pkg = spec.get("package") if isinstance(spec, dict) else None
    m = _PACKAGE.match(pkg) if isinstance(pkg, str) else None
    return m.group(1) if m else obj.name


class CrossplaneDetector:
    id = "crossplane"
    description = "Crossplane compositions, XRDs, packages and managed resources"
    kinds = {"crossplane": kind(
        "Infrastructure managed through Crossplane",
        compositions="count", xrds="count", providers="set", configurations="count",
        managed_resources="count",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for obj in _objects(doc):
            group = obj.group
            detail = f"{obj.kind} {obj.name}".strip()
            if group == "apiextensions.crossplane.io":
                yield signal("crossplane", doc.path, obj.line, detail,
                             compositions=int(obj.kind == "Composition"),
                             xrds=int(obj.kind == "CompositeResourceDefinition"))
            elif group in ("pkg.crossplane.io", "meta.pkg.crossplane.io"):
                provider = obj.kind == "Provider" and group == "pkg.crossplane.io"
                yield signal("crossplane", doc.path, obj.line, detail,
                             providers=[_package_name(obj)] if provider else [],
                             configurations=int(obj.kind == "Configuration"))
            elif group.endswith(PROVIDER_DOMAINS) and group.count(".") >= 2 and \
                    not group.endswith(NOT_MANAGED):
                config = obj.kind.startswith(("ProviderConfig", "StoreConfig"))
                managed = not config and _provider_of(group) in PROVIDERS
                what = "" if config else " (managed resource)" if managed else \
                    " (composite resource)"
                yield signal("crossplane", doc.path, obj.line, detail + what,
                             managed_resources=int(managed))


DETECTOR = CrossplaneDetector()
