"""Task runners at the root: Makefile, Taskfile, justfile and bootstrap scripts; their targets,
whether one sets the project up and whether one brings the whole stack up locally.

`local_cluster`: a recipe starts a local Kubernetes environment (kind, k3d, minikube, ctlptl,
`tilt up`, `skaffold dev|run`, `devspace dev`, `kubify up`); `local_compose`: it runs `docker
compose up`; `local_stack` is either. `onboarding`: a setup-like target (`setup`, `bootstrap`,
`onboard`, `install`, `dev` …) or bootstrap script whose recipe — with the targets it depends
on or runs (`setup: tools up`, `$(MAKE) up`, `task: up`, just dependencies) — both installs the
toolchain (brew, apt, asdf, mise, nix, `uv sync`, `pre-commit install` …) and brings the local
stack up. A target that only installs the package (`install: pip install -e .`) is a setup
target, not onboarding.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, recipes, shell, signal

SETUP = re.compile(r"^(setup|set-up|bootstrap|install|init|dev|develop|deps|prepare|onboard|"
                   r"up|start|local)([-_:.].*)?$", re.I)
MAX_DEPTH = 6  # targets followed from an onboarding candidate
# Commands that install a developer's toolchain (program -> first arguments that count).
INSTALLS: dict[str, tuple[str, ...]] = {
    "brew": ("bundle", "install"), "apt": ("install",), "apt-get": ("install",),
    "dnf": ("install",), "yum": ("install",), "apk": ("add",), "pacman": ("-S", "-Syu"),
    "choco": ("install",), "winget": ("install",), "scoop": ("install",),
    "asdf": ("install",), "mise": ("install",), "rtx": ("install",), "aqua": ("install", "i"),
    "nix": ("develop", "profile"), "nix-shell": (), "devbox": ("install",),
    "pre-commit": ("install",), "uv": ("sync", "tool"), "pipx": ("install",),
    "poetry": ("install",), "pip": ("install",), "pip3": ("install",), "npm": ("ci", "install"),
    "pnpm": ("install",), "yarn": ("install",), "go": ("install",), "cargo": ("install",),
    "gem": ("install",), "bundle": ("install",), "helm": ("plugin",), "krew": ("install",),
}


class TaskRunnerDetector:
    id = "task_runner"
    description = "Makefile, Taskfile, justfile and bootstrap scripts at the root"
    kinds = {"task_runner": kind("Common tasks are one command away", tools="set",
                                 targets="set", setup_targets="flag", local_stack="flag",
                                 local_cluster="flag", local_compose="flag",
                                 onboarding="flag")}
    patterns = ("/{Makefile,GNUmakefile,makefile}", "/Taskfile{,.dist}.y{a,}ml",
                "/{justfile,Justfile,.justfile}", "/{bootstrap,setup}{,.sh}",
                "{scripts,bin}/{bootstrap,setup}{,.sh}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        if name.startswith("Taskfile"):
            doc.yaml  # a broken Taskfile is an error of this file (recipes.read skips it)
        if name.lower().endswith(("makefile", "justfile")) or name.startswith("Taskfile"):
            targets = [(r.line, r.name, "\n".join(t for _, t in r.body))
                       for r in recipes.read(doc)]
            tool = "make" if name.lower().endswith("makefile") else \
                "just" if name.lower().endswith("justfile") else "task"
        else:
            if doc.text.startswith("#!") or doc.text.strip():
                stack = _stack(doc.text)
                onboard = bool(stack) and _installs(doc.text)
                yield signal("task_runner", doc.path, 1, "bootstrap script" + (
                    " installs the toolchain and brings the stack up locally" if onboard else ""),
                    tools=["script"], setup_targets=True, local_stack=bool(stack),
                    local_cluster="cluster" in stack, local_compose="compose" in stack,
                    onboarding=onboard)
            return
        if not targets:
            return
        yield signal("task_runner", doc.path, targets[0][0], f"{tool}: {len(targets)} targets",
                     tools=[tool], targets=sorted({t for _, t, _ in targets}),
                     setup_targets=False, local_stack=False, local_cluster=False,
                     local_compose=False, onboarding=False)
        bodies = {t: body for _, t, body in targets}
        for line, target, body in targets:
            setup, stack = bool(SETUP.match(target)), _stack(body)
            if setup or stack:
                yield signal("task_runner", doc.path, line, f"{tool} {target}" +
                             (" brings the stack up locally" if stack else ""),
                             setup_targets=setup, local_stack=bool(stack),
                             local_cluster="cluster" in stack, local_compose="compose" in stack)
            if setup:
                text = _closure(tool, target, bodies)
                if _installs(text) and _stack(text):
                    yield signal("task_runner", doc.path, line,
                                 f"{tool} {target} installs the toolchain and brings the stack "
                                 "up locally", onboarding=True)


def _closure(tool: str, target: str, bodies: dict[str, str]) -> str:
    """A target's recipe with the recipes of the targets it depends on or runs (same file)."""
    out, seen, todo = [], {target}, [(target, 0)]
    while todo:
        name, depth = todo.pop()
        body = bodies[name]
        out.append(body)
        if depth >= MAX_DEPTH or not body:
            continue
        for call in shell.calls(body):
            if call.runner == tool and call.name in bodies and call.name not in seen:
                seen.add(call.name)
                todo.append((call.name, depth + 1))
    return "\n".join(out)


def _installs(script: str) -> bool:
    """Whether a recipe installs developer tools (a package-only `pip install -e .` is not
    a toolchain: it needs another install or the stack beside it, see `onboarding`)."""
    for w in shell.commands(script):
        allowed = INSTALLS.get(w[0])
        if allowed is None:
            continue
        args = [a for a in w[1:] if not a.startswith("-")] if w[0] != "pacman" else w[1:]
        if not allowed or any(a in allowed for a in args[:1]):
            if w[0] in ("pip", "pip3") and all(a in (".", "-e", "--editable") or
                                               a.startswith((".[", "-e")) for a in w[2:]):
                continue  # installs the project itself, not a tool
            return True
    return False


def _stack(script: str) -> set[str]:
    """What a recipe brings up locally: "cluster" (kind, k3d, minikube, ctlptl, Tilt, Skaffold,
    DevSpace, Kubify) and/or "compose"."""
    found = set()
    for w in shell.commands(script):
        if (w[0] == "docker-compose" and "up" in w[1:]) or \
                (w[0] == "docker" and w[1:2] == ["compose"] and "up" in w[2:]):
            found.add("compose")
        elif (w[0] in ("kind", "ctlptl") and "create" in w[1:2]) or \
                (w[0] == "k3d" and w[1:3] == ["cluster", "create"]) or \
                (w[0] in ("tilt", "kubify") and "up" in w[1:2]) or \
                (w[0] in ("skaffold", "devspace") and w[1:2] in (["dev"], ["run"])) or \
                (w[0] == "minikube" and "start" in w[1:2]):
            found.add("cluster")
    return found


DETECTOR = TaskRunnerDetector()
