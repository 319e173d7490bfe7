"""Recipes of task runners and scripts, read as text (nothing is run or imported): Makefile
targets, justfile recipes, Taskfile tasks, package.json scripts, tox environments, nox sessions
and shell scripts. Each recipe is its command lines with their line numbers, so a CI step that
runs `make test` can be followed into the line of the Makefile that runs the tool
(`maturity_scan.sdk.ci` follows one level, with a depth limit and a cycle guard).

A prerequisite (`ci: lint test`, a task's `deps:`) is read as a line that runs the other
recipe (`make lint test`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from maturity_scan.sdk.document import Document, ParseError

MAKEFILES = ("/{Makefile,GNUmakefile,makefile}",)
JUSTFILES = ("/{justfile,Justfile,.justfile}",)
TASKFILES = ("/Taskfile{,.dist}.y{a,}ml",)
PACKAGE_JSON = ("/package.json",)
TOX = ("/tox.ini",)
NOX = ("/noxfile.py",)
# Shell scripts a CI step may run (`./scripts/test.sh`): at the root and in the usual folders.
SCRIPTS = ("/*.{sh,bash}", "{scripts,script,bin,ci,.ci,hack,tools,build,dev,.github,.gitlab,"
           "deploy,test,tests,e2e,infra,docker,.circleci,.buildkite}/**/*.{sh,bash}",
           "/{script,scripts}/[!.]*")  # extensionless, read when its shebang names a shell
PATTERNS: tuple[str, ...] = (*MAKEFILES, *JUSTFILES, *TASKFILES, *PACKAGE_JSON, *TOX, *NOX,
                             *SCRIPTS)
MAX_LINES = 20_000  # a recipe file longer than this is not followed
# Dockerfiles a CI job builds and then runs (`docker build -t x ./test` … `docker run x`): read
# by the GitHub Actions detector only (`docker:<path>` is what the image runs, its last stage's
# ENTRYPOINT + CMD; `docker-build:<path>` its RUN lines, run when the job builds it).
DOCKERFILES = ("**/{Dockerfile,Dockerfile.*,*.Dockerfile,*.dockerfile}",
               "**/*compose*.{yml,yaml}")  # `compose:<file>#<service>`: a service's command


@dataclass(frozen=True)
class Recipe:
    runner: str  # make, just, task, npm, tox, nox, script
    name: str  # the target; a script's path; "" for tox's base [testenv]
    line: int
    body: tuple[tuple[int, str], ...]  # (line, command text)


_MAKE_TARGET = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-/]*(?:[ \t]+[A-Za-z0-9][A-Za-z0-9_.\-/]*)*)"
                          r"[ \t]*::?(?![=])(.*)$")
_MAKE_VAR = re.compile(r"\$[({]MAKE[)}]")
_RECIPE_PREFIX = re.compile(r"^[@+\-]+")


def _deps(text: str) -> str:
    return " ".join(w for w in text.split("|", 1)[0].split("#", 1)[0].split()
                    if re.fullmatch(r"[A-Za-z0-9][\w.\-/]*", w))


# A Makefile variable that names a tool (`CONTAINER_TOOL ?= docker`, `KUSTOMIZE ?=
# $(LOCALBIN)/kustomize`, `CONTAINER_RUNTIME := $(shell command -v docker || command -v podman)`),
# read where a recipe runs it as a program (`$(CONTAINER_TOOL) build`): kubebuilder and
# operator-sdk Makefiles run every tool that way.
_MAKE_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?|::?|\+)?=\s*(.*)$")
_SHELL_WHICH = re.compile(r"^\$\(shell\s+(?:command\s+-v|which)\s+([A-Za-z][\w.+-]*)")
_TOOL_PATH = re.compile(r"(?:^|/)([A-Za-z][\w.+-]*)$")
_PROGRAM_VAR = re.compile(r"(^|[;&|(]\s*|\b(?:then|do|else|exec)\s+)\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]")


def _tool_variables(lines: list[str]) -> dict[str, str]:
    tools: dict[str, str] = {}
    for text in lines:
        m = _MAKE_ASSIGN.match(text) if text[:1] not in ("\t", " ", "#") else None
        if not m:
            continue
        value = m.group(2).split("#", 1)[0].strip()
        which = _SHELL_WHICH.match(value)
        path = _TOOL_PATH.search(value) if not which else None
        tool = which.group(1) if which else path.group(1) if path else ""
        if tool and tool != "bin" and (which or "/" in value or " " not in value):
            tools.setdefault(m.group(1), tool)
    return tools


def _make(doc: Document) -> Iterator[Recipe]:
    name, line, body = "", 0, []
    tools = _tool_variables(doc.lines) if "$" in doc.text else {}

    def program(m: re.Match[str]) -> str:
        return m.group(1) + tools[m.group(2)] if m.group(2) in tools else m.group(0)

    for i, text in enumerate(doc.lines, 1):
        if name and text.startswith("\t") and body and body[-1][1].endswith("\\"):
            # a continued command line: one command at its first line (`-e X` stays an option)
            more = text.strip()
            more = _PROGRAM_VAR.sub(program, more) if tools and "$" in more else more
            body[-1] = (body[-1][0], body[-1][1][:-1].rstrip() + " " + _MAKE_VAR.sub("make", more))
            continue
        if name and text.startswith("\t"):
            cmd = _RECIPE_PREFIX.sub("", text.strip())
            if cmd and not cmd.startswith("#"):
                cmd = _PROGRAM_VAR.sub(program, cmd) if tools and "$" in cmd else cmd
                body.append((i, _MAKE_VAR.sub("make", cmd)))
            continue
        if name and (not text.strip() or text.lstrip().startswith("#")):
            continue  # blank lines and comments inside a recipe
        if name:
            yield Recipe("make", name, line, tuple(body))
            name, body = "", []
        m = _MAKE_TARGET.match(text)
        if m and not text.startswith((".", "%")) and "%" not in m.group(1):
            rest = m.group(2)
            if rest.lstrip().startswith("="):
                continue  # `X := 1`
            name, line = m.group(1).split()[0], i
            recipe = ""
            if ";" in rest:
                rest, recipe = rest.split(";", 1)
            deps = _deps(rest)
            if deps:
                body.append((i, f"make {deps}"))
            if recipe.strip():
                body.append((i, recipe.strip()))
    if name:
        yield Recipe("make", name, line, tuple(body))


_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][\w-]*)((?:[ \t]+[^:=\s][^:=]*)?):(?![=])(.*)$")


def _just(doc: Document) -> Iterator[Recipe]:
    name, line, body = "", 0, []
    for i, text in enumerate([*doc.lines, ""], 1):
        if name and text[:1] in (" ", "\t"):
            cmd = _RECIPE_PREFIX.sub("", text.strip())
            if cmd and not cmd.startswith("#"):
                body.append((i, cmd))
            continue
        if name:
            yield Recipe("just", name, line, tuple(body))
            name, body = "", []
        m = _JUST_RECIPE.match(text)
        if m and not text.startswith(("set ", "export ", "alias ", "import ", "mod ")):
            name, line = m.group(1), i
            deps = _deps(m.group(3))
            if deps:
                body.append((i, f"just {deps}"))


def _find(doc: Document, text: str, start: int) -> int:
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not first:
        return start
    return doc.line_of(re.escape(first[:200]), start) or start


def _taskfile(doc: Document) -> Iterator[Recipe]:
    data = doc.yaml
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, dict):
        return
    for name, task in tasks.items():
        start = int(tasks.line_of(name)) if hasattr(tasks, "line_of") else 1
        cmds = task.get("cmds") if isinstance(task, dict) else task
        body = []
        deps = task.get("deps") if isinstance(task, dict) else None
        for dep in deps if isinstance(deps, list) else []:
            dep = dep.get("task") if isinstance(dep, dict) else dep
            if isinstance(dep, str):
                body.append((start, f"task {dep}"))
        for cmd in cmds if isinstance(cmds, list) else [cmds]:
            if isinstance(cmd, dict) and isinstance(cmd.get("task"), str):
                text = f"task {cmd['task']}"
                line = getattr(cmd, "line", 0) or start
            else:
                text = cmd if isinstance(cmd, str) else \
                    cmd.get("cmd") if isinstance(cmd, dict) else None
                if not isinstance(text, str):
                    continue
                line = _find(doc, text, start)
            body.append((line, text))
        yield Recipe("task", str(name), start, tuple(body))


def _package_json(doc: Document) -> Iterator[Recipe]:
    try:
        data = json.loads(doc.text)
    except (json.JSONDecodeError, RecursionError):
        return
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return
    for name, cmd in scripts.items():
        if isinstance(cmd, str):
            line = doc.line_of(r'^\s*"' + re.escape(json.dumps(name)[1:-1]) + r'"\s*:') or 1
            yield Recipe("npm", str(name), line, ((line, cmd),))


_INI_SECTION = re.compile(r"^\[([^\]]+)\]")
_INI_KEY = re.compile(r"^([\w.-]+)\s*[=:]\s*(.*)$")


def _tox(doc: Document) -> Iterator[Recipe]:
    section, line, key, body = "", 0, "", []

    def done() -> Iterator[Recipe]:
        if section == "testenv" or section.startswith("testenv:"):
            yield Recipe("tox", section.partition(":")[2], line, tuple(body))

    for i, text in enumerate(doc.lines, 1):
        m = _INI_SECTION.match(text)
        if m:
            yield from done()
            section, line, key, body = m.group(1).strip(), i, "", []
            continue
        if text[:1] in (" ", "\t") and key == "commands":
            if text.strip() and not text.strip().startswith("#"):
                body.append((i, text.strip()))
            continue
        m = _INI_KEY.match(text)
        if m:
            key = m.group(1)
            if key == "commands" and m.group(2).strip():
                body.append((i, m.group(2).strip()))
    yield from done()


_NOX_SESSION = re.compile(r"^\s*@nox\.session\b(.*)$")
_NOX_NAME = re.compile(r"""\bname\s*=\s*['"]([\w.-]+)['"]""")
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")
_SESSION_RUN = re.compile(r"\bsession\.run(?:_install)?\(\s*(.*)")
_STRING = re.compile(r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*,?\s*""")


def _nox(doc: Document) -> Iterator[Recipe]:
    name, line, body, pending = "", 0, [], None
    for i, text in enumerate(doc.lines, 1):
        m = _NOX_SESSION.match(text)
        if m:
            if name:
                yield Recipe("nox", name, line, tuple(body))
            n = _NOX_NAME.search(m.group(1))
            pending, name, body = (n.group(1) if n else ""), "", []
            continue
        m = _DEF.match(text)
        if m and pending is not None:
            name, line, pending = pending or m.group(1), i, None
            continue
        m = _SESSION_RUN.search(text)
        if m and name:
            words, pos = [], 0
            args = m.group(1)
            while (s := _STRING.match(args, pos)) is not None:
                words.append(s.group(1) if s.group(1) is not None else s.group(2))
                pos = s.end()
            if words:
                body.append((i, " ".join(words)))
    if name:
        yield Recipe("nox", name, line, tuple(body))


def _script(doc: Document) -> Iterator[Recipe]:
    body = tuple((i, text.strip()) for i, text in enumerate(doc.lines, 1)
                 if text.strip() and not text.lstrip().startswith("#"))
    yield Recipe("script", doc.path, 1, body)


_DOCKER_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$", re.S)
_RUN_FLAGS = re.compile(r"^(?:--[\w-]+(?:=\S*)?\s+)+")  # RUN --mount=type=cache,… cmd
_SHELLS_C = frozenset({"sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/env"})


def _docker_command(args: str) -> str | None:
    """A CMD/ENTRYPOINT argument as a command line: the exec form's JSON array joined (a
    `["sh", "-c", "script"]` is its script), the shell form as written; None when the exec
    form is broken (an unterminated array: Docker would run it as the text `["x"`, no tool)."""
    args = args.strip()
    if not args.startswith("["):
        return args
    try:
        words = json.loads(args)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return None
    if len(words) >= 3 and words[0] in _SHELLS_C and words[1] == "-c":
        return words[2]
    return " ".join(words)


def _dockerfile(doc: Document) -> Iterator[Recipe]:
    """What an image runs (`docker`: its last stage's ENTRYPOINT then CMD, at the line of the
    later of them) and what building it runs (`docker-build`: the RUN lines of every stage)."""
    build: list[tuple[int, str]] = []
    entry: tuple[int, str] | None = None
    cmd: tuple[int, str] | None = None
    lines, i = doc.lines, 0
    while i < len(lines):
        start, text = i + 1, lines[i]
        while text.rstrip().endswith("\\") and i + 1 < len(lines):  # continuation lines
            i += 1
            nxt = lines[i]
            text = text.rstrip()[:-1] + " " + ("" if nxt.lstrip().startswith("#") else nxt.strip())
        i += 1
        m = _DOCKER_INSTRUCTION.match(text)
        if not m or text.lstrip().startswith("#"):
            continue
        op, args = m.group(1).upper(), m.group(2).strip()
        if op == "FROM":
            entry = cmd = None  # a new stage: the image run is the last stage's
        elif op == "RUN" and _docker_command(_RUN_FLAGS.sub("", args)):
            build.append((start, str(_docker_command(_RUN_FLAGS.sub("", args)))))
        elif op in ("CMD", "ENTRYPOINT"):
            command = _docker_command(args)
            value = (start, command) if command else None
            if op == "CMD":
                cmd = value
            else:
                entry, cmd = value, None  # ENTRYPOINT resets an earlier CMD
    run = " ".join(c[1] for c in (entry, cmd) if c)
    if run:
        yield Recipe("docker", doc.path, 1, ((max(c[0] for c in (entry, cmd) if c), run),))
    yield Recipe("docker-build", doc.path, 1, tuple(build))


def _compose(doc: Document) -> Iterator[Recipe]:
    """What `docker compose run SERVICE` runs: a service's `entrypoint:` then `command:` (string
    or list), at the line of the later of them."""
    data = doc.yaml
    services = data.get("services") if isinstance(data, dict) else None
    for name, svc in services.items() if isinstance(services, dict) else ():
        if not isinstance(svc, dict) or not hasattr(svc, "line_of"):
            continue
        parts = [(int(svc.line_of(k)), " ".join(map(str, v)) if isinstance(v, list) else v)
                 for k in ("entrypoint", "command") if isinstance(v := svc.get(k), (str, list))]
        if parts:
            yield Recipe("compose", f"{doc.path}#{name}", parts[0][0],
                         ((max(p[0] for p in parts), " ".join(p[1] for p in parts)),))


def is_compose(name: str) -> bool:
    return "compose" in name and name.endswith((".yml", ".yaml"))


def is_dockerfile(name: str) -> bool:
    return name == "Dockerfile" or name.startswith("Dockerfile.") or \
        name.lower().endswith(".dockerfile")


_SHELL_SHEBANG = re.compile(r"#!\s*\S*(?:/env\s+(?:-\S+\s+)*)?\S*?\b(?:ba|z|da|k)?sh\b")


def read(doc: Document) -> list[Recipe]:
    """The recipes of a task-runner file or script, [] when `doc` is none (or is unreadable,
    binary or too long: following recipes is best effort, never an error of its own)."""
    def compute() -> list[Recipe]:
        try:
            if len(doc.lines) > MAX_LINES:
                return []
            name = doc.name
            if doc.dir == "" and name in ("Makefile", "GNUmakefile", "makefile"):
                return list(_make(doc))
            if doc.dir == "" and name in ("justfile", "Justfile", ".justfile"):
                return list(_just(doc))
            if doc.dir == "" and name.startswith("Taskfile"):
                return list(_taskfile(doc))
            if doc.path == "package.json":
                return list(_package_json(doc))
            if doc.path == "tox.ini":
                return list(_tox(doc))
            if doc.path == "noxfile.py":
                return list(_nox(doc))
            if is_dockerfile(name):
                return list(_dockerfile(doc))
            if is_compose(name):
                return list(_compose(doc))
            if name.endswith((".sh", ".bash")) or doc.dir in ("script", "scripts") and \
                    "." not in name and _SHELL_SHEBANG.match(doc.lines[0] if doc.lines else ""):
                return list(_script(doc))
        except (ParseError, TypeError, AttributeError, ValueError):
            return []
        return []
    return doc.cached("recipes", compute)
