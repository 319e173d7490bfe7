"""cert-manager: `Certificate`, `Issuer` and `ClusterIssuer` resources (cert-manager.io, and
certmanager.k8s.io of cert-manager before v0.11) in
manifests and chart templates, Ingresses that ask an issuer for their certificate (the
`cert-manager.io/cluster-issuer` / `issuer` annotation), and cert-manager installed through
GitOps (a Flux HelmRelease or HelmRepository, an Argo CD Application, kustomize helmCharts)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._gitops import release_signals
from maturity_scan.detectors._kube import as_map as _map, objects
from maturity_scan.sdk import Document, Signal, kind, signal

GROUPS = ("cert-manager.io", "certmanager.k8s.io")  # the second: cert-manager before v0.11
ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer",
               "certmanager.k8s.io/cluster-issuer", "certmanager.k8s.io/issuer")


class CertManagerDetector:
    id = "cert_manager"
    description = "cert-manager certificates and issuers (cert-manager.io), and its installation"
    kinds = {"cert_manager": kind("TLS certificates issued and renewed by cert-manager",
                                  certificates="count", issuers="count", acme="flag",
                                  installed="flag")}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if "cert-manager" not in doc.text and "certmanager" not in doc.text and \
                "jetstack" not in doc.text:
            return
        for obj in objects(doc):
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.group in GROUPS and obj.kind == "Certificate":
                yield signal("cert_manager", doc.path, obj.line, detail, certificates=1)
            elif obj.group in GROUPS and obj.kind in ("Issuer", "ClusterIssuer"):
                acme = "acme" in _map(obj.body.get("spec"))
                yield signal("cert_manager", doc.path, obj.line,
                             detail + (" (ACME)" if acme else ""), issuers=1, acme=acme)
            elif obj.kind == "Ingress" and obj.group.startswith(("networking.k8s.io",
                                                                 "extensions")):
                notes = _map(_map(obj.body.get("metadata")).get("annotations"))
                issuer = next((notes[a] for a in ANNOTATIONS if isinstance(notes.get(a), str)
                               and notes[a].strip()), None)
                if issuer:
                    yield signal("cert_manager", doc.path, obj.line,
                                 f"{detail}: certificate from issuer {issuer}", certificates=1)
        yield from release_signals(doc, "cert_manager", {"cert-manager": {"installed": True}})


DETECTOR = CertManagerDetector()
