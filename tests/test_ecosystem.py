"""Unit checks for the Kubernetes-ecosystem and observability detectors beyond their fixtures:
chart-template resources, edge shapes of specs, dependency manifests."""
from __future__ import annotations

from maturity_scan.detectors import _kube, argocd, opentelemetry, prometheus
from maturity_scan.sdk.document import Document, RepoView


def _doc(path: str, text: str, *others: str) -> Document:
    return Document(path, text.encode(), RepoView(frozenset({path, *others})))


def _facts(detector: object, doc: Document) -> list[dict]:
    return [dict(s.facts) for s in detector.analyze(doc)]  # type: ignore[attr-defined]


def test_template_objects_reads_literal_top_level_lines_only() -> None:
    text = ("{{- if .Values.enabled }}\n"
            "apiVersion: monitoring.coreos.com/v1\n"
            "kind: ServiceMonitor\n"
            "metadata:\n"
            "  name: web\n"
            "spec:\n"
            "  endpoints:\n"
            "    - port: http\n"
            "---\n"
            "apiVersion: {{ include \"x.apiVersion\" . }}\n"
            "kind: Ingress\n"
            "---\n"
            "data:\n"
            "  apiVersion: argoproj.io/v1alpha1\n"
            "  kind: Application\n")
    doc = _doc("chart/templates/sm.yaml", text, "chart/Chart.yaml")
    objs = _kube.objects(doc)
    # a templated apiVersion of a built-in kind is inferred from the kind; nested keys never count
    assert [(o.api_version, o.kind, o.name, o.line) for o in objs] == \
        [("monitoring.coreos.com/v1", "ServiceMonitor", "web", 2),
         ("networking.k8s.io/v1", "Ingress", "", 10)]
    assert objs[0].group == "monitoring.coreos.com"


def test_templates_folder_outside_a_chart_is_plain_yaml() -> None:
    doc = _doc("docs/templates/app.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Application\n")
    assert [o.kind for o in _kube.objects(doc)] == ["Application"]
    assert _kube.objects(_doc("x.yaml", "a: [")) == []


def test_argocd_null_automated_is_manual_and_credentials_never_reported() -> None:
    text = ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n"
            "spec:\n  destination: {server: 'https://user:secret@k8s.example.com'}\n"
            "  syncPolicy:\n    automated:\n")
    facts = _facts(argocd.DETECTOR, _doc("a.yaml", text))
    assert facts[0]["automated_sync"] is False
    assert facts[0]["destinations"] == ["https://k8s.example.com"]
    assert "secret" not in repr(facts)


def test_pip_compile_hashes_and_transitive_pins() -> None:
    direct = ("opentelemetry-sdk==1.26.0 \\\n    --hash=sha256:abc\n"
              "    # via -r requirements.in\n")
    transitive = ("opentelemetry-api==1.26.0 \\\n    --hash=sha256:abc\n"
                  "    # via google-cloud-trace\n")
    det = opentelemetry.DETECTOR
    assert _facts(det, _doc("requirements.txt", direct))[0]["sdk_languages"] == ["python"]
    assert _facts(det, _doc("requirements.txt", transitive)) == []
    assert _facts(det, _doc("requirements-dev.txt", "opentelemetry-instrumentation-flask\n"))


def test_prometheus_named_config_without_scrape_jobs() -> None:
    text = "global:\n  scrape_interval: 60s\notlp:\n  promote_resource_attributes: []\n"
    assert _facts(prometheus.DETECTOR, _doc("prometheus-config.yaml", text)) == \
        [{"config": True}]
    assert _facts(prometheus.DETECTOR, _doc("app-config.yaml", text)) == []
