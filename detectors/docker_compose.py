"""Docker Compose files (`docker-compose*.y*ml`, `compose*.y*ml`, `*.compose.y*ml`) with a
`services` mapping: services, images, the databases and queues among them, healthchecks,
depends_on, profiles. A compose file of only `include:` (other compose files) is a compose file
with no services of its own."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

DATABASES = {"postgres": "postgres", "postgis": "postgres", "timescaledb": "postgres",
             "mysql": "mysql", "mariadb": "mariadb", "mongo": "mongo", "redis": "redis",
             "valkey": "redis", "memcached": "memcached", "elasticsearch": "elasticsearch",
             "opensearch": "opensearch", "cassandra": "cassandra", "couchdb": "couchdb",
             "mssql": "mssql", "clickhouse": "clickhouse", "cockroach": "cockroachdb",
             "neo4j": "neo4j", "influxdb": "influxdb", "dynamodb-local": "dynamodb",
             "oracle": "oracle", "azure-sql-edge": "mssql", "keydb": "redis", "minio": "minio"}
QUEUES = {"rabbitmq": "rabbitmq", "kafka": "kafka", "redpanda": "redpanda", "nats": "nats",
          "activemq": "activemq", "artemis": "activemq", "pulsar": "pulsar", "kubemq": "kubemq",
          "mosquitto": "mqtt", "emqx": "mqtt", "zookeeper": None, "elasticmq": "sqs",
          "localstack": None}


def _engine(image: str, table: dict[str, str | None]) -> str | None:
    """The engine an image runs, from its path segments: `bitnami/postgresql` -> postgres,
    `confluentinc/cp-kafka` -> kafka; `mongo-express` or `redis-commander` are not databases."""
    for seg in image.lower().split("/"):
        for key, engine in table.items():
            if re.match(rf"^(?:cp-)?{re.escape(key)}(?:ql|db|-server|-alpine|-stack)?$", seg):
                return engine
    return None


SERVICE_KEYS = {"image", "build", "command", "entrypoint", "ports", "environment", "env_file",
                "volumes", "depends_on", "extends", "healthcheck", "networks", "restart",
                "container_name", "profiles", "expose", "labels", "deploy", "working_dir"}


class DockerComposeDetector:
    id = "docker_compose"
    description = "Docker Compose files: services, images, databases/queues, healthchecks"
    kinds = {"docker_compose": kind(
        "Services run together with Docker Compose",
        files="count", services="count", images="set", databases="set", queues="set",
        healthchecks="flag", depends_on="flag", profiles="set", builds="flag",
    )}
    patterns = ("docker-compose*.y{a,}ml", "compose*.y{a,}ml", "*.compose.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name.startswith("composer"):
            return
        data = doc.yaml
        if not isinstance(data, dict):
            return
        services = data.get("services")
        if not isinstance(services, dict) or not services:
            included = [i for i in data.get("include") or [] if isinstance(i, str) and i or
                        isinstance(i, dict) and i.get("path")] \
                if isinstance(data.get("include"), list) else []
            if included:
                yield signal("docker_compose", doc.path, data.line_of("include"),
                             f"includes {len(included)} compose file(s)", files=1)
            return
        images: set[str] = set()
        dbs: set[str] = set()
        queues: set[str] = set()
        profiles: set[str] = set()
        health = deps = builds = False
        count = 0
        for name, svc in services.items():
            if not isinstance(svc, dict) or not SERVICE_KEYS & set(svc):
                continue  # e.g. Symfony's composer.yaml services are PHP classes
            count += 1
            image = svc.get("image")
            line = svc.line_of("image") if hasattr(svc, "line_of") else None
            if isinstance(image, str) and image:
                ref = image.split("@", 1)[0]
                bare = ref.rsplit(":", 1)[0] if ref.rfind(":") > ref.rfind("/") else ref
                if "$" not in bare:
                    images.add(bare)
                db, q = _engine(bare, DATABASES), _engine(bare, QUEUES)
                if db:
                    dbs.add(db)
                if q:
                    queues.add(q)
                if db or q:
                    yield signal("docker_compose", doc.path, line,
                                 f"service {name} runs {db or q}",
                                 databases=[db] if db else [], queues=[q] if q else [])
            hc = svc.get("healthcheck")
            if isinstance(hc, dict) and not hc.get("disable"):
                health = True
            deps = deps or bool(svc.get("depends_on"))
            builds = builds or "build" in svc
            prof = svc.get("profiles")
            if isinstance(prof, list):
                profiles |= {p for p in prof if isinstance(p, str)}
        if not count:
            return
        yield signal("docker_compose", doc.path, data.line_of("services") if hasattr(data, "line_of") else 1,
                     f"{count} service(s)", files=1, services=count, images=sorted(images),
                     databases=sorted(dbs), queues=sorted(queues), healthchecks=health,
                     depends_on=deps, profiles=sorted(profiles), builds=builds)


DETECTOR = DockerComposeDetector()
