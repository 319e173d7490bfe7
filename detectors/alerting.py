"""Alerting as code: Prometheus alerting rules (rule files with `groups[].rules[].alert`, and
PrometheusRule resources), Alertmanager routing (`alertmanager.yml` with `route` + `receivers`,
AlertmanagerConfig / Alertmanager resources), also when a ConfigMap carries the file; Grafana
alert rule provisioning; and CloudWatch alarms in CloudFormation templates."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.sdk import Document, Signal, k8s, kind, signal, yamlsafe

GROUP = "monitoring.coreos.com"
_TEMPLATE_ALERT = re.compile(r"^\s*-?\s*alert:\s*[\"']?\w", re.MULTILINE)
CFN_ALARMS = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"}


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def alert_rules(cfg: Any) -> int:
    """How many alerting rules a Prometheus rule file (or PrometheusRule spec) declares."""
    groups = _map(cfg).get("groups")
    if not isinstance(groups, list):
        return 0
    return sum(1 for g in groups if isinstance(g, dict) and isinstance(g.get("rules"), list)
               for r in g["rules"] if isinstance(r, dict) and isinstance(r.get("alert"), str)
               and "expr" in r)


def grafana_alert_rules(cfg: Any) -> int:
    """Grafana-managed alert rules in an alerting provisioning file (`apiVersion`, `groups`
    of rules with `title`, `condition` and `data`)."""
    cfg = _map(cfg)
    groups = cfg.get("groups")
    if "apiVersion" not in cfg or not isinstance(groups, list):
        return 0
    return sum(1 for g in groups if isinstance(g, dict) and isinstance(g.get("rules"), list)
               for r in g["rules"] if isinstance(r, dict) and "condition" in r and "data" in r
               and isinstance(r.get("title"), str))


def is_alertmanager(cfg: Any) -> bool:
    cfg = _map(cfg)
    return isinstance(cfg.get("route"), dict) and isinstance(cfg.get("receivers"), list)


def _configs(cfgs: Iterable[Any]) -> Iterator[tuple[Any, int, bool, str]]:
    """(document, alert rules, alertmanager routing, tool) for each alerting document."""
    for cfg in cfgs:
        n, am = alert_rules(cfg), is_alertmanager(cfg)
        if n or am:
            yield cfg, n, am, "alertmanager" if am else "prometheus"
        elif grafana_alert_rules(cfg):
            yield cfg, grafana_alert_rules(cfg), False, "grafana"


class AlertingDetector:
    id = "alerting"
    description = "Alert rules (Prometheus, Grafana, CloudWatch) and Alertmanager routing"
    kinds = {"alerting": kind(
        "Alerts defined as code",
        alert_rules="count", alertmanager="flag", tools="set",
    )}
    patterns = ("**/*.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        docs, objs = kube.documents(doc), kube.objects(doc)
        for cfg in docs:
            alarms = [k for k, r in _map(_map(cfg).get("Resources")).items()
                      if isinstance(r, dict) and r.get("Type") in CFN_ALARMS]
            if alarms:
                yield signal("alerting", doc.path, cfg["Resources"].line_of(alarms[0]),
                             f"{len(alarms)} CloudWatch alarm(s)", alert_rules=len(alarms),
                             tools=["cloudwatch"])
        for cfg, n, am, tool in _configs(docs):
            yield signal("alerting", doc.path, cfg.line_of("route" if am else "groups"),
                         "alertmanager routing" if am else f"{n} {tool} alerting rule(s)",
                         alert_rules=n, alertmanager=am, tools=[tool])
        for obj in objs:
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.group == GROUP and obj.kind == "PrometheusRule":
                n = alert_rules(obj.body.get("spec")) if obj.body else \
                    len(_TEMPLATE_ALERT.findall(doc.text))  # a chart template
                if n:
                    yield signal("alerting", doc.path, obj.line,
                                 f"{detail}: {n} alerting rule(s)", alert_rules=n,
                                 tools=["prometheus"])
            elif obj.group == GROUP and obj.kind in ("AlertmanagerConfig", "Alertmanager"):
                yield signal("alerting", doc.path, obj.line, detail, alertmanager=True,
                             tools=["alertmanager"])
            elif obj.kind == "ConfigMap" and not obj.group:
                yield from self._embedded(doc, obj, detail)

    @staticmethod
    def _embedded(doc: Document, obj: k8s.K8sObject, detail: str) -> Iterator[Signal]:
        for key, text in _map(obj.body.get("data")).items():
            if not (isinstance(key, str) and key.endswith((".yml", ".yaml", ".rules"))
                    and isinstance(text, str) and ("alert" in text or "receivers" in text)):
                continue
            try:
                cfgs = yamlsafe.load_all(text)
            except yamlsafe.YamlError:
                continue
            for _, n, am, tool in _configs(cfgs):
                yield signal("alerting", doc.path, obj.line,
                             f"{detail}: {key} " + ("alertmanager routing" if am else
                                                    f"with {n} alerting rule(s)"),
                             alert_rules=n, alertmanager=am, tools=[tool])


DETECTOR = AlertingDetector()
