"""Alembic migrations: `alembic.ini`, an Alembic `env.py`, revision files under `versions/`,
and where `alembic upgrade` (or Flask-Migrate's `flask db upgrade`) runs: a CI step (`ci`),
a container start (Dockerfile, entrypoint script, compose command: `container`) or a
Kubernetes Job / init container / Helm hook (`job`).

Evidence counts only in a repository with at least one revision (`conclude`): a revision is a
module under `versions/` that imports alembic and sets `revision` and `down_revision`.
Python files are read as text and `ast` (never imported or run).
"""
from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from maturity_scan.detectors._dockerfile import (NOT_DOCKERFILE, PATTERNS as DOCKERFILES,
                                                 instructions)
from maturity_scan.detectors._migrate import containers as _containers
from maturity_scan.sdk import Document, ParseError, RepoContext, Signal, ci, kind, shell, signal
from maturity_scan.sdk.k8s import objects

_ENV = re.compile(r"^\s*(from\s+alembic\s+import\s+[^\n]*\bcontext\b|import\s+alembic\b)", re.MULTILINE)
_REV = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*['\"]", re.MULTILINE)
_DOWN_REV = re.compile(r"^down_revision\b", re.MULTILINE)
_IMPORTS = re.compile(r"^\s*(from\s+alembic(\.\w+)*\s+import\b|import\s+alembic\b)", re.MULTILINE)
_ENTRY = re.compile(r"(entrypoint|start|prestart|run|boot|migrate|init)[\w.-]*\.sh$", re.IGNORECASE)
_TEMPLATE_RUN = re.compile(r"""^[^#]*?["'\[\s](?<!echo\s)alembic["',\s]+(?:[^#]*?\s)?["']?upgrade\b|"""
                           r"""^[^#]*\bflask["',\s]+db["',\s]+upgrade\b""")
_CONTAINER_KINDS = {"Job", "CronJob", "Deployment", "StatefulSet", "DaemonSet", "Pod"}


def runs_upgrade(script: str, depth: int = 0) -> bool:
    """Whether a shell script runs `alembic … upgrade` or `flask db upgrade` (also in `sh -c`)."""
    for words in shell.commands(script):
        if words[0] == "alembic" and "upgrade" in words[1:]:
            return True
        if words[0] == "flask" and words[1:3] == ["db", "upgrade"]:
            return True
        if depth < 3 and words[0] in ("sh", "bash", "ash", "dash") and "-c" in words[:-1] \
                and runs_upgrade(words[words.index("-c") + 1], depth + 1):
            return True
    return False


def _command_text(value: Any) -> str:
    if isinstance(value, str):
        try:  # exec form: ["sh", "-c", "alembic upgrade head"]
            parsed = json.loads(value) if value.startswith("[") else None
        except ValueError:
            parsed = None
        value = parsed if isinstance(parsed, list) else value
    if isinstance(value, list):
        parts = [str(v) for v in value]
        if len(parts) >= 3 and parts[1] == "-c":
            return parts[2]
        return " ".join(parts)
    return value if isinstance(value, str) else ""


def _downgrade(text: str) -> tuple[bool, int | None]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False, None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            body = [s for s in node.body if not isinstance(s, ast.Pass) and not (
                isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
            return bool(body), node.lineno
    return False, None


class AlembicDetector:
    id = "alembic"
    description = "Alembic migrations: config, revisions, downgrades, where upgrades run"
    kinds = {"alembic": kind(
        "Database schema migrations with Alembic",
        revisions="count", downgrade="flag", runs_in="set", config="flag",
    )}
    patterns = ("alembic.ini", "env.py", "**/versions/*.py", *ci.CI_PATTERNS,
                *DOCKERFILES, "*.sh", "**/*.y{a,}ml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        if name == "alembic.ini":
            ini = doc.ini
            if ini.has_section("alembic") or any(ini.has_option(s, "script_location")
                                                 for s in ini.sections()):
                yield signal("alembic", doc.path, doc.line_of(r"^\s*script_location") or
                             doc.line_of(r"^\s*\[alembic\]"), "alembic.ini", config=True)
            return
        if name.endswith(".py"):
            yield from self._python(doc)
            return
        if "alembic" not in doc.text and "db upgrade" not in doc.text:
            return
        try:
            pipe = ci.pipeline(doc)
        except ParseError:
            pipe = None
        if pipe is not None:
            for job, step in pipe.steps():
                if runs_upgrade(step.run):
                    yield signal("alembic", doc.path, step.line,
                                 f"job {job.id} runs alembic upgrade", runs_in=["ci"])
            return
        if name.endswith(".sh"):
            if _ENTRY.search(name) and runs_upgrade(doc.text):
                yield signal("alembic", doc.path, doc.line_of(r"alembic|flask\s+db"),
                             f"{name} runs alembic upgrade", runs_in=["container"])
        elif name.endswith((".yaml", ".yml")):
            yield from self._yaml(doc)
        elif not NOT_DOCKERFILE.search(name):  # what is left is a Dockerfile
            for ln, op, args in instructions(doc.lines):
                if op in ("RUN", "CMD", "ENTRYPOINT") and runs_upgrade(_command_text(args)):
                    yield signal("alembic", doc.path, ln, f"{op} runs alembic upgrade",
                                 runs_in=["container"])

    def _python(self, doc: Document) -> Iterator[Signal]:
        text = doc.text
        if doc.name == "env.py":
            if _ENV.search(text) and "run_migrations" in text:
                yield signal("alembic", doc.path, doc.line_of(_ENV), "alembic env.py",
                             config=True)
            return
        # a revision is an Alembic module: `revision =` / `down_revision =` alone (a release
        # script, another tool's versions/) is not one
        if not (_REV.search(text) and _DOWN_REV.search(text) and _IMPORTS.search(text)):
            return
        down, line = _downgrade(text)
        yield signal("alembic", doc.path, doc.line_of(_REV), "revision", revisions=1,
                     downgrade=False)
        if down:
            yield signal("alembic", doc.path, line, "downgrade()", downgrade=True)

    def _yaml(self, doc: Document) -> Iterator[Signal]:
        if doc.name.startswith(("docker-compose", "compose")):
            try:
                data = doc.yaml
            except ParseError:
                return
            services = data.get("services") if isinstance(data, dict) else None
            for sname, svc in (services or {}).items() if isinstance(services, dict) else ():
                if isinstance(svc, dict) and any(runs_upgrade(_command_text(svc.get(k)))
                                                 for k in ("command", "entrypoint")):
                    yield signal("alembic", doc.path, svc.line_of("command"),
                                 f"service {sname} runs alembic upgrade",
                                 runs_in=["container"])
            return
        if "/templates/" in f"/{doc.path}" and "helm.sh/hook" in doc.text:
            for i, line in enumerate(doc.lines, 1):  # a Helm hook: Go template, read as text
                if not line.lstrip().startswith("#") and _TEMPLATE_RUN.search(line):
                    yield signal("alembic", doc.path, i, "helm hook runs alembic upgrade",
                                 runs_in=["job"])
                    return
        try:
            objs = objects(doc)
        except ParseError:
            return
        for obj in objs:
            if obj.kind not in _CONTAINER_KINDS:
                continue
            for c in _containers(obj.body, init_only=obj.kind not in ("Job", "CronJob")):
                cmd = " ".join(_command_text(c.get(k)) for k in ("command", "args"))
                if runs_upgrade(cmd) or runs_upgrade(_command_text(c.get("args"))):
                    yield signal("alembic", doc.path, obj.line,
                                 f"{obj.kind} {obj.name} runs alembic upgrade", runs_in=["job"])
                    break

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterator[Signal]:
        # Migrations are revisions: a configured Alembic whose versions/ holds none (a fresh
        # `alembic init`, a .gitkeep) has no migration yet.
        if any(s.facts.get("revisions") for s in found):
            yield from found


DETECTOR = AlembicDetector()
