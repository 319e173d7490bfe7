"""Task runners at the root: Makefile, Taskfile, justfile and bootstrap scripts; their targets,
whether one sets the project up and whether one brings the whole stack up locally."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from maturity_scan.sdk import Document, Signal, kind, shell, signal

SETUP = re.compile(r"^(setup|set-up|bootstrap|install|init|dev|develop|deps|prepare|onboard|"
                   r"up|start|local)([-_:.].*)?$", re.I)
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-/]*(?:\s+[A-Za-z0-9][A-Za-z0-9_.\-/]*)*)"
                          r"\s*::?(?!=)")
_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][\w-]*)(?:\s+[^:=]*)?:(?!=)")


def _make(doc: Document) -> Iterator[tuple[int, str, str]]:
    """(line, target, recipe text) of a Makefile; special and pattern targets skipped."""
    target, line, body = "", 0, []
    for i, text in enumerate(doc.lines + [""], 1):
        if text.startswith("\t") and target:
            body.append(text.strip())
            continue
        if target:
            yield line, target, "\n".join(body)
            target, body = "", []
        m = _MAKE_TARGET.match(text)
        if m and not text.startswith((".", "%")) and "%" not in m.group(1):
            target, line = m.group(1).split()[0], i


def _just(doc: Document) -> Iterator[tuple[int, str, str]]:
    target, line, body = "", 0, []
    for i, text in enumerate(doc.lines + [""], 1):
        if text[:1] in (" ", "\t") and target:
            body.append(text.strip())
            continue
        if target:
            yield line, target, "\n".join(body)
            target, body = "", []
        m = _JUST_RECIPE.match(text)
        if m and not text.startswith(("set ", "export ", "alias ", "import ", "mod ")):
            target, line = m.group(1), i


def _taskfile(doc: Document) -> Iterator[tuple[int, str, str]]:
    data = doc.yaml
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, dict):
        return
    for name, task in tasks.items():
        cmds = task.get("cmds") if isinstance(task, dict) else task
        cmds = cmds if isinstance(cmds, list) else [cmds]
        text = "\n".join(c if isinstance(c, str) else str(c.get("cmd", "")) if isinstance(c, dict)
                         else "" for c in cmds)
        yield (tasks.line_of(name) if hasattr(tasks, "line_of") else 1), str(name), text


class TaskRunnerDetector:
    id = "task_runner"
    description = "Makefile, Taskfile, justfile and bootstrap scripts at the root"
    kinds = {"task_runner": kind("Common tasks are one command away", tools="set",
                                 targets="set", setup_targets="flag", local_stack="flag")}
    patterns = ("/{Makefile,GNUmakefile,makefile}", "/Taskfile{,.dist}.y{a,}ml",
                "/{justfile,Justfile,.justfile}", "/{bootstrap,setup}{,.sh}",
                "{scripts,bin}/{bootstrap,setup}{,.sh}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        if name.lower().endswith("makefile"):
            tool, targets = "make", list(_make(doc))
        elif name.startswith("Taskfile"):
            tool, targets = "task", list(_taskfile(doc))
        elif name.lower().endswith("justfile"):
            tool, targets = "just", list(_just(doc))
        else:
            if doc.text.startswith("#!") or doc.text.strip():
                yield signal("task_runner", doc.path, 1, "bootstrap script", tools=["script"],
                             setup_targets=True, local_stack=_stack(doc.text))
            return
        if not targets:
            return
        yield signal("task_runner", doc.path, targets[0][0], f"{tool}: {len(targets)} targets",
                     tools=[tool], targets=sorted({t for _, t, _ in targets}),
                     setup_targets=False, local_stack=False)
        for line, target, body in targets:
            setup, stack = bool(SETUP.match(target)), _stack(body)
            if setup or stack:
                yield signal("task_runner", doc.path, line, f"{tool} {target}" +
                             (" brings the stack up locally" if stack else ""),
                             setup_targets=setup, local_stack=stack)


def _stack(script: str) -> bool:
    """Whether a recipe brings the whole stack up locally (compose, a local cluster, Tilt…)."""
    for w in shell.commands(script):
        if (w[0] == "docker-compose" and "up" in w[1:]) or \
                (w[0] == "docker" and w[1:2] == ["compose"] and "up" in w[2:]) or \
                (w[0] in ("kind", "ctlptl") and "create" in w[1:2]) or \
                (w[0] == "k3d" and w[1:3] == ["cluster", "create"]) or \
                (w[0] in ("tilt", "kubify") and "up" in w[1:2]) or \
                (w[0] in ("skaffold", "devspace") and w[1:2] in (["dev"], ["run"])) or \
                (w[0] == "minikube" and "start" in w[1:2]):
            return True
    return False


DETECTOR = TaskRunnerDetector()
