"""Schema migrations other than Alembic: Flyway, Liquibase, Django, Rails, Prisma,
golang-migrate, Knex, Sequelize, TypeORM, EF Core, Laravel and Doctrine, each recognised by its
own file layout *and* content (a `0001_x.py` that is not a Django `Migration` class does not count).
Source files are read as text, never run.

`runs_in` says where the migrations are applied by automation (`manage.py migrate`, `rails
db:migrate`, `flyway migrate` … `detectors/_migrate.py`): a CI step (`ci`), a container's start
(`CMD`/`ENTRYPOINT`, an entrypoint script, a compose `command`: `container`), or a Kubernetes
Job, init container or Helm hook (`job`). Alembic's own runs are the alembic detector's. Like
Alembic's, this evidence counts only in a repository that has migrations (`conclude`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from maturity_scan.detectors._dockerfile import (NOT_DOCKERFILE, PATTERNS as DOCKERFILES,
                                                 instructions)
from maturity_scan.detectors._kube import objects
from maturity_scan.detectors._migrate import command_text, containers, migration
from maturity_scan.sdk import Document, ParseError, RepoContext, Signal, ci, globs, kind, signal

_FLYWAY_SQL = re.compile(r"^[VRU]\d+(?:[._]\d+)*__\w[\w.-]*\.sql$")
_GOMIGRATE = re.compile(r"^(\d+)_[\w.-]+\.(up|down)\.sql$")
_DJANGO = re.compile(r"^\s*class\s+Migration\s*\(\s*migrations\.Migration\s*\)", re.MULTILINE)
_RAILS = re.compile(r"<\s*ActiveRecord::Migration\b")
_KNEX = re.compile(r"(exports\.up\s*=|export\s+(async\s+)?function\s+up\s*\(|\bup\s*[:(])"
                   r"[^\n]*\bknex\b")
_SEQUELIZE = re.compile(r"\bup\s*[:(]?[^\n]*\bqueryInterface\b")
_TYPEORM = re.compile(r"\bimplements\s+MigrationInterface\b")
_EFCORE = re.compile(r":\s*Migration\b[\s\S]*\bMigrationBuilder\b")
_LARAVEL = re.compile(r"\bextends\s+Migration\b")  # with `use Illuminate\Database\Migrations\…`
_DOCTRINE = re.compile(r"\bextends\s+AbstractMigration\b")
_LIQUIBASE = re.compile(r"databaseChangeLog|^--\s*liquibase formatted sql", re.MULTILINE | re.IGNORECASE)


class DbMigrationsDetector:
    id = "db_migrations"
    description = "Schema migrations: Flyway, Liquibase, Django, Rails, Prisma, golang-migrate, Knex …"
    kinds = {"db_migrations": kind(
        "Versioned database schema migrations (other than Alembic)",
        tools="set", migrations="count", runs_in="set",
    )}
    patterns = FILES = ("flyway.conf", "flyway.toml", "*.up.sql", "**/db/migration/*.sql", "**/migrations/*.sql",
                "**/migration/*.sql", "**/migrations/**/*.sql", "**/sql/*.sql",
                "**/migrations/[0-9][0-9][0-9][0-9]_*.py", "**/db/migrate/*.rb",
                "**/migrations/*.{js,ts,cjs,mjs}", "**/migration/*.{js,ts}",
                "**/Migrations/*.cs", "**/database/migrations/*.php",
                "**/migrations/Version*.php", "*changelog*.{xml,yaml,yml,json,sql}",
                "**/changelog/**/*.{xml,yaml,yml,sql}", "**/changelogs/**/*.{xml,yaml,yml,sql}")
    patterns = (*FILES, *ci.CI_PATTERNS, *DOCKERFILES, "*.sh", "**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name, path = doc.name, doc.path
        if not globs.matches(path, self.FILES):
            if _HINT.search(doc.text):
                yield from _runs(doc)
            return
        tool, line = self._classify(doc, name, path)
        if tool:
            yield signal("db_migrations", path, line, f"{tool} migration"
                         if tool not in ("flyway", "liquibase") or name.endswith(".sql")
                         else f"{tool} configuration", tools=[tool],
                         migrations=int(name not in ("flyway.conf", "flyway.toml")))

    @staticmethod
    def _classify(doc: Document, name: str, path: str) -> tuple[str, int | None]:
        if name in ("flyway.conf", "flyway.toml"):
            return ("flyway", doc.line_of(r"flyway")) if "flyway" in doc.text else ("", None)
        if name.endswith(".sql"):
            if name == "migration.sql" and "/prisma/migrations/" in f"/{path}":
                return "prisma", 1
            if _FLYWAY_SQL.match(name) and re.search(r"(^|/)(db/migration|migrations?|flyway|sql)/",
                                                     path):
                return "flyway", 1
            m = _GOMIGRATE.match(name)
            if m:
                other = "down" if m.group(2) == "up" else "up"
                if doc.repo.exists(path[: -len(f".{m.group(2)}.sql")] + f".{other}.sql"):
                    return ("golang-migrate", 1) if m.group(2) == "up" else ("", None)
            if "changelog" in path.lower() and _LIQUIBASE.search(doc.text):
                return "liquibase", doc.line_of(_LIQUIBASE)
            return "", None
        if name.endswith((".xml", ".yaml", ".yml", ".json")):
            if _LIQUIBASE.search(doc.text[:4000]):
                return "liquibase", doc.line_of(_LIQUIBASE)
            return "", None
        text = doc.text
        if name.endswith(".py"):
            return ("django", doc.line_of(_DJANGO)) if _DJANGO.search(text) else ("", None)
        if name.endswith(".rb"):
            return ("rails", doc.line_of(_RAILS)) if _RAILS.search(text) else ("", None)
        if name.endswith(".php"):
            if _LARAVEL.search(text) and "Illuminate\\Database\\Migrations" in text:
                return "laravel", doc.line_of(_LARAVEL)
            if _DOCTRINE.search(text) and "Doctrine\\Migrations" in text:
                return "doctrine", doc.line_of(_DOCTRINE)
            return "", None
        if name.endswith(".cs"):
            if _EFCORE.search(text) and not name.endswith(("ModelSnapshot.cs", ".Designer.cs")):
                return "ef-core", doc.line_of(r":\s*Migration\b")
            return "", None
        for tool, rx in (("typeorm", _TYPEORM), ("knex", _KNEX), ("sequelize", _SEQUELIZE)):
            if rx.search(text):
                return tool, doc.line_of(rx)
        return "", None


    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterator[Signal]:
        # where migrations run counts where there are migrations (or a Flyway/Liquibase setup)
        if any(s.facts.get("tools") for s in found):
            yield from found


_HINT = re.compile(r"migrate|flyway|liquibase|database\s+update|migration:run|goose|atlas")
_ENTRY = re.compile(r"(entrypoint|start|prestart|run|boot|migrate|init|release)[\w.-]*\.sh$",
                    re.IGNORECASE)
_CONTAINER_KINDS = {"Job", "CronJob", "Deployment", "StatefulSet", "DaemonSet", "Pod"}


def _ran(path: str, line: int | None, where: str, script: str, runs_in: str) -> Iterator[Signal]:
    tool = migration(script)
    if tool and tool != "alembic":  # Alembic's runs are the alembic detector's
        yield signal("db_migrations", path, line, f"{where} applies {tool} migrations",
                     runs_in=[runs_in])


def _runs(doc: Document) -> Iterator[Signal]:
    """Where a CI file, Dockerfile, entrypoint script, compose file or Kubernetes workload
    applies migrations."""
    name, path = doc.name, doc.path
    if globs.matches(path, ci.CI_PATTERNS):
        try:
            pipe = ci.pipeline(doc)
        except ParseError:
            pipe = None
        for job, step in pipe.steps() if pipe is not None else ():
            yield from _ran(path, step.line, f"job {job.id}", step.run, "ci")
        return
    if name.endswith(".sh"):
        if _ENTRY.search(name):
            yield from _ran(path, doc.line_of(_HINT), name, doc.text, "container")
        return
    if not name.endswith((".yaml", ".yml")):
        if not NOT_DOCKERFILE.search(name):  # a Dockerfile: what a container runs as it starts
            for ln, op, args in instructions(doc.lines):
                if op in ("CMD", "ENTRYPOINT"):
                    yield from _ran(path, ln, op, command_text(args), "container")
        return
    if name.startswith(("docker-compose", "compose")) or name.endswith(".compose.yaml"):
        try:
            data = doc.yaml
        except ParseError:
            return
        services = data.get("services") if isinstance(data, dict) else None
        for sname, svc in services.items() if isinstance(services, dict) else ():
            if isinstance(svc, dict):
                script = "\n".join(command_text(svc.get(k)) for k in ("entrypoint", "command"))
                yield from _ran(path, getattr(svc, "line_of", lambda k: 1)("command"),
                                f"service {sname}", script, "container")
        return
    for obj in objects(doc):
        if obj.kind not in _CONTAINER_KINDS:
            continue
        for c in containers(obj.body, init_only=obj.kind not in ("Job", "CronJob")):
            script = "\n".join(command_text(c.get(k)) for k in ("command", "args"))
            script += "\n" + " ".join(command_text(c.get(k)) for k in ("command", "args"))
            found = list(_ran(path, obj.line, f"{obj.kind} {obj.name}".strip(), script, "job"))
            if found:
                yield found[0]
                break


DETECTOR = DbMigrationsDetector()
