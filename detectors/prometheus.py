"""Prometheus scraping: a Prometheus config (`scrape_configs` of jobs with `job_name`, also when
embedded in a ConfigMap), Prometheus Operator resources (ServiceMonitor, PodMonitor, ScrapeConfig,
Prometheus in monitoring.coreos.com) and `prometheus.io/scrape` annotations on workloads.

Promtail shares the `scrape_configs` shape: a config with `clients` or `positions` is Promtail's
(the logging detector's), not Prometheus's.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, Signal, k8s, kind, signal, yamlsafe

GROUP = "monitoring.coreos.com"
MONITORS = {"ServiceMonitor", "PodMonitor"}


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def scrape_jobs(cfg: Any) -> list[str]:
    """The job names of a Prometheus configuration, [] when `cfg` is not one."""
    if not isinstance(cfg, dict) or "clients" in cfg or "positions" in cfg:
        return []
    jobs = cfg.get("scrape_configs")
    if not isinstance(jobs, list):
        return []
    return [j["job_name"] for j in jobs
            if isinstance(j, dict) and isinstance(j.get("job_name"), str)]


def is_named_config(doc: Document, cfg: Any) -> bool:
    """A `prometheus*.y(a)ml` holding Prometheus settings but no scrape jobs (remote-write or
    OTLP receiving setups)."""
    return doc.name.startswith("prometheus") and isinstance(cfg, dict) and (
        isinstance(_map(cfg.get("global")).get("scrape_interval"), str) or
        isinstance(cfg.get("rule_files"), list) or isinstance(cfg.get("remote_write"), list))


def _embedded(obj: k8s.K8sObject) -> Iterator[tuple[str, list[str]]]:
    """Prometheus configs carried in a ConfigMap's data (`prometheus.yml: |`)."""
    if obj.kind != "ConfigMap" or obj.group:
        return
    for key, text in _map(obj.body.get("data")).items():
        if isinstance(key, str) and key.endswith((".yml", ".yaml")) and isinstance(text, str) \
                and "scrape_configs" in text:
            try:
                docs = yamlsafe.load_all(text)
            except yamlsafe.YamlError:
                continue
            jobs = scrape_jobs(docs[0] if docs else None)
            if jobs:
                yield key, jobs


def _scrape_annotated(obj: k8s.K8sObject) -> bool:
    spec = _map(obj.body.get("spec"))
    template = _map(spec.get("template")) or _map(_map(spec.get("jobTemplate")).get("spec"))
    for meta in (_map(obj.body.get("metadata")), _map(template.get("metadata"))):
        if str(_map(meta.get("annotations")).get("prometheus.io/scrape")).lower() == "true":
            return True
    return False


class PrometheusDetector:
    id = "prometheus"
    description = "Prometheus scrape configs, ServiceMonitor / PodMonitor, scrape annotations"
    kinds = {"prometheus": kind(
        "Metrics scraped by Prometheus",
        service_monitors="count", config="flag", scrape_configs="flag", scrape_jobs="count",
        operator="flag",
        scrape_annotations="flag",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        docs, objs = kube.documents(doc), kube.objects(doc)
        for cfg in docs:
            jobs = scrape_jobs(cfg)
            if jobs:
                yield signal("prometheus", doc.path, cfg.line_of("scrape_configs"),
                             f"prometheus config: {len(jobs)} scrape job(s)",
                             config=True, scrape_configs=True, scrape_jobs=len(jobs))
            elif is_named_config(doc, cfg):
                yield signal("prometheus", doc.path, cfg.line, "prometheus config", config=True)
        for obj in objs:
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.group == GROUP and obj.kind in MONITORS:
                yield signal("prometheus", doc.path, obj.line, detail, service_monitors=1)
            elif obj.group == GROUP and obj.kind == "ScrapeConfig":
                yield signal("prometheus", doc.path, obj.line, detail, scrape_configs=True)
            elif obj.group == GROUP and obj.kind in ("Prometheus", "PrometheusAgent"):
                yield signal("prometheus", doc.path, obj.line, detail, operator=True)
            elif _scrape_annotated(obj):
                yield signal("prometheus", doc.path, obj.line,
                             f"{detail}: prometheus.io/scrape annotation",
                             scrape_annotations=True)
            for key, jobs in _embedded(obj):
                yield signal("prometheus", doc.path, obj.line,
                             f"{detail}: {key} with {len(jobs)} scrape job(s)",
                             config=True, scrape_configs=True, scrape_jobs=len(jobs))
        yield from release_signals(doc, "prometheus", {"prometheus": {}, "prometheus-operator": {"operator": True}})


DETECTOR = PrometheusDetector()
