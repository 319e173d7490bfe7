"""Schema migrations other than Alembic: Flyway, Liquibase, Django, Rails, Prisma,
golang-migrate, Knex, Sequelize, TypeORM and EF Core, each recognised by its own file layout
*and* content (a `0001_x.py` that is not a Django `Migration` class does not count).
Source files are read as text, never run."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

_FLYWAY_SQL = re.compile(r"^[VRU]\d+(?:[._]\d+)*__\w[\w.-]*\.sql$")
_GOMIGRATE = re.compile(r"^(\d+)_[\w.-]+\.(up|down)\.sql$")
_DJANGO = re.compile(r"^\s*class\s+Migration\s*\(\s*migrations\.Migration\s*\)", re.MULTILINE)
_RAILS = re.compile(r"<\s*ActiveRecord::Migration\b")
_KNEX = re.compile(r"(exports\.up\s*=|export\s+(async\s+)?function\s+up\s*\(|\bup\s*[:(])"
                   r"[^\n]*\bknex\b")
_SEQUELIZE = re.compile(r"\bup\s*[:(]?[^\n]*\bqueryInterface\b")
_TYPEORM = re.compile(r"\bimplements\s+MigrationInterface\b")
_EFCORE = re.compile(r":\s*Migration\b[\s\S]*\bMigrationBuilder\b")
_LIQUIBASE = re.compile(r"databaseChangeLog|^--\s*liquibase formatted sql", re.MULTILINE | re.IGNORECASE)


class DbMigrationsDetector:
    id = "db_migrations"
    description = "Schema migrations: Flyway, Liquibase, Django, Rails, Prisma, golang-migrate, Knex …"
    kinds = {"db_migrations": kind(
        "Versioned database schema migrations (other than Alembic)",
        tools="set", migrations="count",
    )}
    patterns = ("flyway.conf", "flyway.toml", "*.up.sql", "**/db/migration/*.sql", "**/migrations/*.sql",
                "**/migration/*.sql", "**/migrations/**/*.sql", "**/sql/*.sql",
                "**/migrations/[0-9][0-9][0-9][0-9]_*.py", "**/db/migrate/*.rb",
                "**/migrations/*.{js,ts,cjs,mjs}", "**/migration/*.{js,ts}",
                "**/Migrations/*.cs", "*changelog*.{xml,yaml,yml,json,sql}",
                "**/changelog/**/*.{xml,yaml,yml,sql}", "**/changelogs/**/*.{xml,yaml,yml,sql}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name, path = doc.name, doc.path
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
        if name.endswith(".cs"):
            if _EFCORE.search(text) and not name.endswith(("ModelSnapshot.cs", ".Designer.cs")):
                return "ef-core", doc.line_of(r":\s*Migration\b")
            return "", None
        for tool, rx in (("typeorm", _TYPEORM), ("knex", _KNEX), ("sequelize", _SEQUELIZE)):
            if rx.search(text):
                return tool, doc.line_of(rx)
        return "", None


DETECTOR = DbMigrationsDetector()
