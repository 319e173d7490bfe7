"""OpenTelemetry: Collector configs (`receivers` + `exporters` + `service.pipelines`), operator
resources (OpenTelemetryCollector, Instrumentation, the inject annotations), workloads and compose
services configured by OTEL_* exporter variables (names only, never values), and the OTel SDK in
dependency manifests. Only direct dependencies count: Go's `// indirect` requirements do not."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors import _kube as kube
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, ParseError, Signal, kind, signal

# file name -> (language, regex of a line that declares an OpenTelemetry dependency)
_OTEL_PY = r"""^\s*["']?opentelemetry[-_](?:api|sdk|distro|instrumentation|exporter)"""
_PY = re.compile(_OTEL_PY, re.IGNORECASE)
MANIFESTS: dict[str, tuple[str, re.Pattern[str]]] = {
    "go.mod": ("go", re.compile(
        r"^\s*(?:require\s+)?go\.opentelemetry\.io/(?:otel|contrib)\S*\s+v[^/]*$")),
    "package.json": ("javascript", re.compile(r'^\s*"@opentelemetry/[\w-]+"\s*:')),
    "pom.xml": ("java", re.compile(r"<groupId>\s*io\.opentelemetry(?:\.[\w.]+)?\s*</groupId>")),
    "build.gradle": ("java", re.compile(r"""["']io\.opentelemetry[\w.]*:""")),
    "build.gradle.kts": ("java", re.compile(r"""["']io\.opentelemetry[\w.]*:""")),
    "Gemfile": ("ruby", re.compile(r"""^\s*gem\s+["']opentelemetry-""")),
    "Cargo.toml": ("rust", re.compile(r"^\s*opentelemetry(?:[-_][\w-]+)?\s*=")),
    "composer.json": ("php", re.compile(r'^\s*"open-telemetry/[\w-]+"\s*:')),
    "pyproject.toml": ("python",
                       re.compile(_OTEL_PY + r"""[\w-]*["']?\s*[=<>~!\[,"']""", re.IGNORECASE)),
}
CSPROJ = ("dotnet", re.compile(r'<PackageReference\s+Include="OpenTelemetry[\w.]*"', re.IGNORECASE))
OPERATOR_GROUP = "opentelemetry.io"
OTLP_ENV = {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_SERVICE_NAME", "OTEL_TRACES_EXPORTER"}
_INJECT = "instrumentation.opentelemetry.io/inject-"


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# JSON manifests: the dependency sections, and the package prefix that marks OpenTelemetry
JSON_DEPS = {"package.json": (("dependencies", "devDependencies", "peerDependencies",
                               "optionalDependencies"), "@opentelemetry/"),
             "composer.json": (("require", "require-dev"), "open-telemetry/")}


def _json_dependency(doc: Document, sections: tuple[str, ...], prefix: str) -> int | None:
    data = doc.json
    if not isinstance(data, dict):
        return None
    for section in sections:
        deps = data.get(section)
        if isinstance(deps, dict) and any(isinstance(k, str) and k.startswith(prefix)
                                          for k in deps):
            return doc.line_of(re.escape(f'"{prefix}')) or 1
    return None


def _requirement(doc: Document) -> int | None:
    """The first OpenTelemetry requirement that is asked for directly: in a pip-compile output
    a package whose `# via` names only other packages came in transitively."""
    lines = doc.lines
    for i, text in enumerate(lines):
        if not _PY.search(text):
            continue
        via = []
        for nxt in lines[i + 1:]:
            if nxt.strip().startswith("--hash"):
                continue
            if not nxt.lstrip().startswith("#") or not nxt.startswith((" ", "\t")):
                break
            via.append(nxt)
        if not via or not any("via" in v for v in via) or \
                any("-r " in v or "-c " in v or "opentelemetry" in v for v in via):
            return i + 1
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pod_spec(body: Any) -> dict[str, Any]:
    spec = _map(_map(body).get("spec"))
    if "containers" in spec:
        return spec
    template = _map(spec.get("template")) or \
        _map(_map(_map(spec.get("jobTemplate")).get("spec")).get("template"))
    return _map(template.get("spec"))


def _env_names(env: Any) -> set[str]:
    """Variable names of a container's `env` list or a compose service's `environment`."""
    if isinstance(env, dict):
        return {str(k) for k in env}
    if isinstance(env, list):
        return {e.get("name", "") if isinstance(e, dict) else str(e).split("=", 1)[0]
                for e in env}
    return set()


def _otlp_env(names: set[str]) -> bool:
    return bool(names & OTLP_ENV)


def is_collector_config(cfg: Any) -> bool:
    cfg = _map(cfg)
    return isinstance(cfg.get("receivers"), dict) and isinstance(cfg.get("exporters"), dict) \
        and isinstance(_map(cfg.get("service")).get("pipelines"), dict)


class OpenTelemetryDetector:
    id = "opentelemetry"
    description = "OpenTelemetry collector configs, operator resources and SDK dependencies"
    kinds = {"opentelemetry": kind(
        "Telemetry (traces, metrics) with OpenTelemetry",
        collector="flag", sdk_languages="set", auto_instrumentation="flag", otlp_env="flag",
    )}
    patterns = ("**/*.y{a,}ml", "requirements*.txt", "*.csproj", *MANIFESTS)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        if name.endswith((".yaml", ".yml")):
            yield from self._yaml(doc)
            return
        if name.endswith(".csproj"):
            lang, rx = CSPROJ
        elif name.startswith("requirements") and name.endswith(".txt"):
            lang, rx = "python", _PY
        elif name in MANIFESTS:
            lang, rx = MANIFESTS[name]
        else:
            return
        try:
            if name in JSON_DEPS:
                line = _json_dependency(doc, *JSON_DEPS[name])
            elif lang == "python" and name.endswith(".txt"):
                line = _requirement(doc)
            else:
                line = doc.line_of(rx)
        except ParseError:
            return  # a broken, binary or non-UTF-8 manifest is not ours to report
        if line is not None:  # (go.mod: a `// indirect` line does not match)
            yield signal("opentelemetry", doc.path, line, f"OpenTelemetry SDK ({lang})",
                         sdk_languages=[lang])

    @staticmethod
    def _yaml(doc: Document) -> Iterator[Signal]:
        docs, objs = kube.documents(doc), kube.objects(doc)
        compose = doc.name.startswith(("docker-compose", "compose"))
        for cfg in docs:
            if is_collector_config(cfg):
                yield signal("opentelemetry", doc.path, cfg.line_of("receivers"),
                             "collector config", collector=True)
            services = _map(_map(cfg).get("services")) if compose else {}
            for name, svc in services.items():
                if _otlp_env(_env_names(_map(svc).get("environment"))):
                    yield signal("opentelemetry", doc.path, services.line_of(name),
                                 f"compose service {name}: OTEL_* exporter environment",
                                 otlp_env=True)
        for obj in objs:
            detail = f"{obj.kind} {obj.name}".strip()
            if obj.group == OPERATOR_GROUP and obj.kind == "OpenTelemetryCollector":
                yield signal("opentelemetry", doc.path, obj.line, detail, collector=True)
            elif obj.group == OPERATOR_GROUP and obj.kind == "Instrumentation":
                yield signal("opentelemetry", doc.path, obj.line, detail,
                             auto_instrumentation=True)
            elif any(_otlp_env(_env_names(_map(c).get("env")))
                     for c in _list(_pod_spec(obj.body).get("containers"))):
                yield signal("opentelemetry", doc.path, obj.line,
                             f"{detail}: OTEL_* exporter environment", otlp_env=True)
            elif _INJECT in str(_map(_map(_map(_map(obj.body.get("spec")).get("template"))
                                              .get("metadata")).get("annotations"))):
                yield signal("opentelemetry", doc.path, obj.line,
                             f"{detail}: auto-instrumentation annotation",
                             auto_instrumentation=True)
        yield from release_signals(doc, "opentelemetry", {"opentelemetry": {"collector": True}})


DETECTOR = OpenTelemetryDetector()
