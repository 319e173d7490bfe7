"""Kubify: one `kubify.yaml` per service (`apiVersion: k8.kubify.local/v1`, `kind: Config`) and
one file per environment (`apiVersion: kubify.kubify.local/v1`, `kind: Environment`).

A service file is walked structurally: keys (and bare list items, "just put a `postgres` line")
name the databases and queues it enables; `depends_on`, `init`, `dev.sync`, `release`,
`resources`, `scaler`, `backup` and cloud sections (`aws:` …) are looked up as keys at any depth.
Only the two Kubify apiVersions count: a `kubify.yaml` of another tool is a near miss.
Configuration values (`config:`, `env:`, `environment:`, `secrets:`) are settings, not
dependencies: a `redis` key there does not declare a database. Environment files are read from
`environments/` and `envs/` folders.

`init` counts any init section; `init_migrations` only those whose commands apply schema
migrations (`alembic upgrade`, `manage.py migrate`, … `detectors/_migrate.py`): an init that
echoes does not migrate anything.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maturity_scan.detectors._kubify import CONFIG_API, ENV_API, body, header, is_config
from maturity_scan.detectors._kubify import truthy as _truthy
from maturity_scan.detectors._kubify import walk as _walk
from maturity_scan.detectors._migrate import command_text, migration
from maturity_scan.sdk import Document, ParseError, Signal, kind, signal

DATABASES = {"postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongo", "redis",
             "elasticsearch", "opensearch", "cassandra", "memcached", "kubedb", "clickhouse"}
QUEUES = {"kafka", "kubemq", "rabbitmq", "nats", "activemq", "pulsar", "sqs", "sns", "mqtt"}
CLOUDS = {"aws", "gcp", "azure"}
SETTINGS = {"config", "env", "environment", "secrets", "configmap"}


def _dev_sync(node: Any) -> bool:
    """`dev: {sync: …}` at any depth."""
    return any(k == "dev" and isinstance(v, dict) and _truthy(v.get("sync", False))
               for k, v in _walk(node))


class KubifyDetector:
    id = "kubify"
    description = "Kubify service configs (kubify.yaml) and environment files"
    kinds = {"kubify": kind(
        "Services and environments described with Kubify",
        services="count", service_names="set", services_with_dependencies="count",
        environment_files="count", environments="set", init="count", resources="count",
        autoscaling="count", databases="count", queues="count", backup="flag",
        dev_sync="count", release="count", cloud_resources="count",
        database_engines="set", queue_engines="set", init_migrations="count",
    )}
    patterns = ("kubify.y{a,}ml", "**/environments/*.y{a,}ml", "**/environments/**/*.y{a,}ml",
                "**/envs/*.y{a,}ml", "**/envs/**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        config = is_config(doc)
        if not config and "kubify.kubify.local" not in doc.text:
            return  # an unrelated environments/*.yaml
        try:
            docs = doc.yaml_documents
        except ParseError:
            if config:
                raise
            return
        for d in docs:
            if not isinstance(d, dict):
                continue
            api, k = d.get("apiVersion"), d.get("kind")
            name, line = header(d)
            if config and api == CONFIG_API and k == "Config":
                yield self._service(doc, d, name, line)
            elif api == ENV_API and k == "Environment":
                yield signal("kubify", doc.path, line, f"environment {name}".strip(),
                             environment_files=1, environments=[name] if name else [])

    def _service(self, doc: Document, d: dict[str, Any], name: str, line: int) -> Signal:
        spec = body(d)
        keys = list(_walk(spec))
        names = {k for k, _ in _walk(spec, skip=frozenset(SETTINGS))}
        dbs = sorted(names & DATABASES)
        if len(dbs) > 1 and "kubedb" in dbs:
            dbs.remove("kubedb")  # kubedb: {postgres: …} is one database
        queues = sorted(names & QUEUES)
        deps = any(k in ("depends_on", "dependson", "depends-on") and _truthy(v)
                   for k, v in keys)
        backup = any(k == "backup" and _truthy(v) for k, v in keys if v is not None)
        migrates = sorted({t for k, v in keys if k == "init" and v is not None
                           for t in _init_migrations(v)})
        parts = [p for p, on in (("depends_on", deps), ("databases", dbs), ("queues", queues))
                 if on] + [f"init runs {', '.join(migrates)} migrations"] * bool(migrates)
        return signal(
            "kubify", doc.path, line,
            f"service {name or '(unnamed)'}" + (f" declares {', '.join(parts)}" if parts else ""),
            services=1, service_names=[name] if name else [],
            services_with_dependencies=int(bool(deps or dbs or queues)),
            init=int(any(k == "init" and _truthy(v) for k, v in keys if v is not None)),
            init_migrations=int(bool(migrates)),
            resources=int(any(k == "resources" and _truthy(v) for k, v in keys
                              if v is not None)),
            autoscaling=int(any(k in ("scaler", "autoscaling", "hpa") and _truthy(v)
                                for k, v in keys if v is not None)),
            databases=len(dbs), queues=len(queues), database_engines=dbs,
            queue_engines=queues, backup=backup,
            dev_sync=int(_dev_sync(spec)),
            release=int(any(k == "release" and _truthy(v) for k, v in keys if v is not None)),
            cloud_resources=int(any(k in CLOUDS and _truthy(v) for k, v in keys
                                    if v is not None)),
        )


def _init_migrations(node: Any, depth: int = 0) -> set[str]:
    """The migration tools an `init` section's commands run: the section read as one command
    (a string, an exec-form list, `command`/`args`), and each string and list inside it."""
    if depth > 12:
        return set()
    words = isinstance(node, list) and all(isinstance(v, str) for v in node)
    if words and node and " " in node[0].strip():  # a list of commands, not an exec form
        return {migration(v) for v in node} - {""}
    tools = {migration(command_text(node))} - {""}  # a command (exec form: one command)
    if isinstance(node, dict) or isinstance(node, list) and not words:
        for v in node.values() if isinstance(node, dict) else node:
            if isinstance(v, (dict, list)) or isinstance(node, dict) and isinstance(v, str):
                tools |= _init_migrations(v, depth + 1)
    return tools


DETECTOR = KubifyDetector()
