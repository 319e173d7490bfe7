"""Commands that apply database schema migrations, for every tool the migration detectors know:
`alembic upgrade`, `flask db upgrade`, `manage.py migrate`, `rails db:migrate`, `flyway
migrate`, `liquibase update`, `prisma migrate deploy`, `migrate … up`, `knex migrate:latest`,
`sequelize db:migrate`, `typeorm migration:run`, `dotnet ef database update`, `goose … up`,
`atlas migrate apply` (also inside `sh -c '…'`). An `echo` of one is not one."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from maturity_scan.sdk import shell

_SHELLS = ("sh", "bash", "ash", "dash", "zsh")


def migration(script: str, depth: int = 0) -> str:
    """The tool whose migrations `script` applies ("" when it applies none)."""
    for words in shell.commands(script):
        tool = _tool(words)
        if tool:
            return tool
        if depth < 3 and words[0] in _SHELLS and "-c" in words[:-1]:
            tool = migration(words[words.index("-c") + 1], depth + 1)
            if tool:
                return tool
    return ""


def _tool(words: list[str]) -> str:
    head, rest = words[0], words[1:]
    if head == "alembic" and "upgrade" in rest or head == "flask" and rest[:2] == ["db", "upgrade"]:
        return "alembic"
    if "manage.py" in words and "migrate" in words[words.index("manage.py") + 1:][:2] or \
            head == "django-admin" and rest[:1] == ["migrate"]:
        return "django"
    if head.rsplit("/", 1)[-1] in ("rails", "rake") and "db:migrate" in rest[:2]:
        return "rails"
    if head == "flyway" and "migrate" in rest:
        return "flyway"
    if head == "liquibase" and any(w in ("update", "updateSQL", "update-sql") for w in rest):
        return "liquibase"
    if head == "prisma" and rest[:2] in (["migrate", "deploy"], ["db", "push"]):
        return "prisma"
    if head == "migrate" and "up" in rest:
        return "golang-migrate"
    if head == "knex" and "migrate:latest" in rest:
        return "knex"
    if head in ("sequelize", "sequelize-cli") and "db:migrate" in rest:
        return "sequelize"
    if head in ("typeorm", "typeorm-ts-node-commonjs", "typeorm-ts-node-esm") and \
            "migration:run" in rest:
        return "typeorm"
    if head == "dotnet" and rest[:3] == ["ef", "database", "update"]:
        return "ef-core"
    if head == "goose" and "up" in rest:
        return "goose"
    if head == "artisan" and rest[:1] == ["migrate"]:  # `php artisan migrate --force`
        return "laravel"
    if head == "console" and rest[:1] == ["doctrine:migrations:migrate"]:  # Symfony
        return "doctrine"
    if head == "atlas" and rest[:2] == ["migrate", "apply"]:
        return "atlas"
    return ""


def command_text(value: Any) -> str:
    """A command given as a string, an exec-form list (`["sh", "-c", "…"]`, also as a JSON
    string) or a mapping with `command`/`args`/`run`, as one shell script."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value) if value.lstrip().startswith("[") else None
        except ValueError:
            parsed = None
        value = parsed if isinstance(parsed, list) else value
    if isinstance(value, dict):
        return "\n".join(command_text(value.get(k)) for k in ("command", "args", "run", "cmd",
                                                                "script") if k in value)
    if isinstance(value, list):
        if all(isinstance(v, (str, int, float)) for v in value):
            parts = [str(v) for v in value]
            if len(parts) >= 3 and parts[0] in _SHELLS and parts[1] == "-c":
                return parts[2]
            return " ".join(shell_quote(p) for p in parts)
        return "\n".join(command_text(v) for v in value)
    return value if isinstance(value, str) else ""


def containers(node: Any, init_only: bool, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Containers (or only initContainers) anywhere in a workload's pod template."""
    if depth > 12 or not isinstance(node, dict):
        return
    keys = ("initContainers",) if init_only else ("initContainers", "containers")
    for k, v in node.items():
        if k in keys and isinstance(v, list):
            yield from (c for c in v if isinstance(c, dict))
        elif isinstance(v, dict):
            yield from containers(v, init_only, depth + 1)


def shell_quote(word: str) -> str:
    return word if word and all(c.isalnum() or c in "-_./:=@+," for c in word) else \
        "'" + word.replace("'", "'\\''") + "'"
