"""External Secrets Operator: `ExternalSecret` / `ClusterExternalSecret` / `PushSecret` and the
stores they read (`SecretStore` / `ClusterSecretStore`, with their providers) of
external-secrets.io, in manifests and chart templates, and the operator installed through GitOps
(a Flux HelmRelease or HelmRepository, an Argo CD Application, kustomize helmCharts)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._gitops import release_signals
from maturity_scan.detectors._kube import as_map as _map, objects
from maturity_scan.sdk import Document, Signal, kind, signal

GROUP = "external-secrets.io"
SECRETS = ("ExternalSecret", "ClusterExternalSecret", "PushSecret")
STORES = ("SecretStore", "ClusterSecretStore")


class ExternalSecretsDetector:
    id = "external_secrets"
    description = "External Secrets Operator resources (external-secrets.io) and its installation"
    kinds = {"external_secrets": kind("Secrets synced from an external secret store",
                                      external_secrets="count", stores="count",
                                      providers="set", installed="flag")}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if "external-secrets" not in doc.text:
            return
        for obj in objects(doc):
            if obj.group != GROUP:
                continue
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.kind in SECRETS:
                yield signal("external_secrets", doc.path, obj.line, detail, external_secrets=1)
            elif obj.kind in STORES:
                provider = _map(_map(obj.body.get("spec")).get("provider"))
                names = sorted(str(k) for k in provider)
                yield signal("external_secrets", doc.path, obj.line,
                             detail + (f" ({', '.join(names)})" if names else ""),
                             stores=1, providers=names)
        yield from release_signals(doc, "external_secrets",
                                   {"external-secrets": {"installed": True}})


DETECTOR = ExternalSecretsDetector()
