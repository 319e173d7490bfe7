"""Helm charts: `Chart.yaml` (apiVersion, name, version), and what the chart's templates render.
Templates are Go templates, not YAML: they are read as text, never parsed, and what they show
(the kinds they render, probes, resource requests) becomes facts of the chart.

A chart is a `Chart.yaml` with apiVersion, name and version (Helm refuses one without a
version): templates and values beside a `Chart.yaml` that is not a chart count for nothing
(`conclude`)."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence

from maturity_scan.sdk import Document, RepoContext, Signal, k8s, kind, signal

KIND_LINE = re.compile(r"^kind:\s*[\"']?([A-Z][A-Za-z0-9]*)[\"']?\s*$", re.M)
PROBES = re.compile(r"^\s*(livenessProbe|readinessProbe|startupProbe):", re.M)
REQUESTS = re.compile(r"^\s*requests:", re.M)


class HelmChartDetector:
    id = "helm_chart"
    description = "Helm charts (Chart.yaml) and what their templates render"
    kinds = {"helm_chart": kind(
        "Applications packaged as Helm charts",
        charts="count", dependencies="count", values_schema="flag", chart_tests="flag",
        template_kinds="set", probes="flag", resource_requests="flag")}
    patterns = ("Chart.yaml", "**/templates/**/*.{yaml,yml,tpl}", "values.yaml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name == "Chart.yaml":
            yield from self._chart(doc)
        elif doc.name == "values.yaml":
            if doc.repo.exists(posixpath.join(doc.dir, "Chart.yaml")):
                text = doc.text
                probe, req = PROBES.search(text), REQUESTS.search(text)
                if probe or req:
                    m = probe or req
                    yield signal("helm_chart", doc.path, text.count("\n", 0, m.start()) + 1,
                                 "values: " + ", ".join(w for w, x in (("probes", probe),
                                                                      ("resource requests", req))
                                                        if x),
                                 probes=bool(probe), resource_requests=bool(req))
        elif k8s.is_helm_template(doc):
            text = doc.text
            kinds = sorted(set(KIND_LINE.findall(text)))
            probe = PROBES.search(text)
            if kinds:
                m = KIND_LINE.search(text)
                line = text.count("\n", 0, m.start()) + 1 if m else 1
                yield signal("helm_chart", doc.path, line, "template renders " + ", ".join(kinds),
                             template_kinds=kinds, probes=bool(probe))

    def _chart(self, doc: Document) -> Iterable[Signal]:
        data = doc.yaml
        if not isinstance(data, dict) or not all(isinstance(data.get(k), (str, int, float))
                                                 for k in ("apiVersion", "name", "version")):
            return
        base = doc.dir
        deps = data.get("dependencies")
        yield signal("helm_chart", doc.path, 1, f"chart {data['name']} {data['version']}",
                     charts=1, dependencies=len(deps) if isinstance(deps, list) else 0,
                     values_schema=doc.repo.exists(posixpath.join(base, "values.schema.json")),
                     chart_tests=doc.repo.has_dir(posixpath.join(base, "templates/tests")))

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterator[Signal]:
        """Each signal whose file belongs to a chart: its folder (or the folder holding its
        `templates/`) has a Chart.yaml that is a chart."""
        charts = {posixpath.dirname(e.path) for s in found if s.facts.get("charts")
                  for e in s.evidence}
        for s in found:
            path = s.evidence[0].path if s.evidence else ""
            parts = path.split("/")
            owners = {"/".join(parts[:i]) for i, part in enumerate(parts[:-1])
                      if part == "templates"} | {posixpath.dirname(path)}
            if owners & charts:
                yield s


DETECTOR = HelmChartDetector()
