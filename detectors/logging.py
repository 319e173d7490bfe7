"""Log shipping and storage as code: Fluent Bit (classic `[INPUT]`/`[OUTPUT]` or YAML
`pipeline`), Fluentd (`<source>`/`<match>`), Loki (`schema_config`), Promtail (`clients` +
`scrape_configs`), Vector (`sources` / `sinks`), Grafana Alloy `loki.*` components, the logging
operators' resources, and those configs carried in ConfigMaps."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, ParseError, Signal, kind, signal

_FLUENT_BIT = re.compile(r"^\s*\[(?:INPUT|OUTPUT)\]\s*$", re.IGNORECASE | re.MULTILINE)
_FLUENTD = re.compile(r"^\s*<(?:source|match\s+[^>]+)>\s*$", re.MULTILINE)
_ALLOY = re.compile(r'^\s*loki\.(?:write|source\.\w+|process)\s+"')
CONF = ("fluent-bit*.conf", "fluentbit*.conf", "fluentd*.conf", "fluent.conf", "td-agent*.conf")
VECTOR = ("vector.toml", "vector[-_]*.toml", "**/vector/*.toml")
GROUPS = {"fluentbit.fluent.io": "fluent-bit", "fluentd.fluent.io": "fluentd",
          "logging.banzaicloud.io": "logging-operator", "loki.grafana.com": "loki",
          "logging.openshift.io": "openshift-logging"}
# ConfigMap data keys that carry a config, and what its text must show
_KEYS = [(re.compile(r"^fluent-?bit.*\.conf$"), _FLUENT_BIT, "fluent-bit"),
         (re.compile(r"^(?:fluentd?|td-agent).*\.conf$"), _FLUENTD, "fluentd"),
         (re.compile(r"^promtail.*\.ya?ml$"), re.compile(r"^clients:", re.MULTILINE), "promtail"),
         (re.compile(r"^(?:loki|config).*\.ya?ml$"), re.compile(r"^schema_config:", re.MULTILINE),
          "loki"),
         (re.compile(r"^vector.*\.(?:ya?ml|toml)$"), re.compile(r"^\[?sinks", re.MULTILINE),
          "vector")]


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _typed(value: Any) -> bool:
    """A Vector component table: names mapped to tables with a `type`."""
    return isinstance(value, dict) and bool(value) and \
        all(isinstance(v, dict) and "type" in v for v in value.values())


def yaml_tool(cfg: Any) -> tuple[str, str] | None:
    """(tool, key of the telling line) for a logging config document, else None."""
    cfg = _map(cfg)
    if isinstance(_map(cfg.get("schema_config")).get("configs"), list):
        return "loki", "schema_config"
    if isinstance(cfg.get("clients"), list) and isinstance(cfg.get("scrape_configs"), list):
        return "promtail", "clients"
    pipeline = _map(cfg.get("pipeline"))
    if isinstance(pipeline.get("inputs"), list) and isinstance(pipeline.get("outputs"), list):
        return "fluent-bit", "pipeline"
    if _typed(cfg.get("sources")) and _typed(cfg.get("sinks")):
        return "vector", "sources"
    return None


class LoggingDetector:
    id = "logging"
    description = "Fluent Bit, Fluentd, Loki, Promtail, Vector and Alloy log pipelines"
    kinds = {"logging": kind("Logs collected and shipped as code", tools="set")}
    patterns = (*CONF, *VECTOR, "*.alloy", "*.river", "**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        if name.endswith(".conf"):
            fluentd = name.startswith(("fluentd", "fluent.", "td-agent"))
            tool, rx = ("fluentd", _FLUENTD) if fluentd else ("fluent-bit", _FLUENT_BIT)
            line = doc.line_of(rx)
            if line is not None:
                yield signal("logging", doc.path, line, f"{tool} config", tools=[tool])
        elif name.endswith(".toml"):
            try:
                data = doc.toml
            except ParseError:
                if name.startswith("vector"):
                    raise
                return  # any TOML in a `vector/` folder is only possibly Vector's
            if _typed(data.get("sources")) or _typed(data.get("sinks")):
                yield signal("logging", doc.path, doc.line_of(r"^\s*\[(sources|sinks)\.") or 1,
                             "vector config", tools=["vector"])
        elif name.endswith((".alloy", ".river")):
            line = doc.line_of(_ALLOY)
            if line is not None:
                yield signal("logging", doc.path, line, "alloy loki pipeline", tools=["alloy"])
        else:
            yield from self._yaml(doc)

    @staticmethod
    def _yaml(doc: Document) -> Iterator[Signal]:
        docs, objs = kube.documents(doc), kube.objects(doc)
        for cfg in docs:
            found = yaml_tool(cfg)
            if found:
                yield signal("logging", doc.path, cfg.line_of(found[1]), f"{found[0]} config",
                             tools=[found[0]])
        for obj in objs:
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.group in GROUPS:
                yield signal("logging", doc.path, obj.line, detail, tools=[GROUPS[obj.group]])
            elif obj.kind == "ConfigMap" and not obj.group:
                for key, text in _map(obj.body.get("data")).items():
                    for key_rx, text_rx, tool in _KEYS:
                        if isinstance(key, str) and isinstance(text, str) and \
                                key_rx.match(key) and text_rx.search(text):
                            yield signal("logging", doc.path, obj.line,
                                         f"{detail}: {tool} config {key}", tools=[tool])
                            break
        yield from release_signals(doc, "logging", {t: {"tools": [t]} for t in (
            "loki", "promtail", "fluent-bit", "fluentd", "vector", "alloy", "victoria-logs")})


DETECTOR = LoggingDetector()
