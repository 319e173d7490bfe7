"""Grafana dashboards as code: dashboard JSON (`panels`, usually `schemaVersion`) in the places
dashboards live (`*dashboard*.json`, `dashboards/`, `grafana/`), provisioning YAML
(`apiVersion: 1` with `providers` or `datasources`), grafana-operator resources, sidecar
ConfigMaps carrying dashboard JSON, and Grafonnet (jsonnet) dashboards. Other JSON in those
folders is not evidence."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, ParseError, Signal, k8s, kind, signal

JSON = ("**/*dashboard*.json", "**/dashboards/**/*.json", "**/grafana/**/*.json")
OPERATOR_GROUPS = ("grafana.integreatly.org", "integreatly.org")
_GRAFONNET = re.compile(r"""^\s*(?:local\s+\w+\s*=\s*)?import\s+['"][^'"]*grafonnet""")


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_dashboard(data: Any) -> bool:
    data = _map(data)
    if isinstance(data.get("dashboard"), dict):  # the HTTP API's export envelope
        data = data["dashboard"]
    panels = data.get("panels")
    rows = data.get("rows")
    return (isinstance(panels, list) or isinstance(rows, list)) and \
        ("schemaVersion" in data or "title" in data)


class GrafanaDetector:
    id = "grafana"
    description = "Grafana dashboards (JSON, Grafonnet), provisioning, grafana-operator resources"
    kinds = {"grafana": kind(
        "Dashboards kept as code",
        dashboards="count", provisioning="flag", operator="flag",
    )}
    patterns = (*JSON, "**/*.y{a,}ml", "*.{jsonnet,libsonnet}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name.endswith(".json"):
            yield from self._json(doc)
        elif doc.name.endswith("sonnet"):
            line = doc.line_of(_GRAFONNET)
            if line is not None:
                yield signal("grafana", doc.path, line, "grafonnet dashboard code", dashboards=1)
        else:
            docs, objs = kube.documents(doc), kube.objects(doc)
            yield from self._provisioning(doc, docs)
            yield from self._objects(doc, objs)
            yield from release_signals(doc, "grafana", {"grafana": {},
                                                        "grafana-operator": {"operator": True}})

    @staticmethod
    def _json(doc: Document) -> Iterator[Signal]:
        try:
            data = doc.json
        except ParseError:
            # only a file that looks like a dashboard is ours to report as broken
            if '"panels"' in doc.data.decode("utf-8", "replace"):
                raise
            return
        if is_dashboard(data):
            title = _map(data.get("dashboard", data)).get("title")
            yield signal("grafana", doc.path, 1,
                         f"dashboard {title}" if isinstance(title, str) else "dashboard",
                         dashboards=1)

    @staticmethod
    def _provisioning(doc: Document, docs: list[Any]) -> Iterator[Signal]:
        for cfg in docs:
            cfg = _map(cfg)
            key = next((k for k in ("providers", "datasources") if isinstance(cfg.get(k), list)
                        and all(isinstance(i, dict) for i in cfg[k])), None)
            if cfg.get("apiVersion") in (1, "1") and key:
                yield signal("grafana", doc.path, cfg.line_of(key), f"provisioning {key}",
                             provisioning=True)

    @staticmethod
    def _objects(doc: Document, objs: list[k8s.K8sObject]) -> Iterator[Signal]:
        for obj in objs:
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.group in OPERATOR_GROUPS and obj.kind.startswith("Grafana"):
                yield signal("grafana", doc.path, obj.line, detail, operator=True,
                             dashboards=int(obj.kind == "GrafanaDashboard"))
                continue
            items = obj.body.get("items") if obj.kind == "ConfigMapList" else [obj.body]
            for cm in items if isinstance(items, list) else []:
                cm = _map(cm)
                if cm.get("kind") != "ConfigMap":
                    continue
                for key, text in _map(cm.get("data")).items():
                    if isinstance(key, str) and key.endswith(".json") and \
                            isinstance(text, str) and '"panels"' in text and _dashboard_text(text):
                        yield signal("grafana", doc.path, getattr(cm, "line", obj.line),
                                     f"ConfigMap {_map(cm.get('metadata')).get('name', '')}: "
                                     f"dashboard {key}", dashboards=1)


def _dashboard_text(text: str) -> bool:
    try:
        return is_dashboard(json.loads(text))
    except (ValueError, RecursionError):
        return False


DETECTOR = GrafanaDetector()
