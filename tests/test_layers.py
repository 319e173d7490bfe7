"""Imports point down only (docs/architecture.md). An AST walk over `maturity_scan/` and
`detectors/`, imports inside functions included:

    errors, model  <-  gitsafe  <-  sdk  <-  detectors/
    sdk  <-  config  <-  engine, assess   (assess builds on model, not on the engine)
    engine, assess  <-  report, api  <-  gate, org
    report  <-  reporters;   everything  <-  cli

Nothing imports `cli`; nothing below `cli` but the reporters imports click or matplotlib; no
detector imports another detector (helpers `detectors/_*.py` are shared), and the core never
imports a detector module (the registry finds them by name)."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "maturity_scan"

# Each layer and the layers below it that it may import (its own modules always).
LAYERS: dict[str, set[str]] = {
    "version": set(),  # maturity_scan/__init__.py: the version only
    "leaves": set(),  # errors, model
    "data": set(),  # schema/, rules/: files shipped in the package
    "git": {"leaves"},  # gitsafe: the one hardened git runner
    "sdk": {"leaves", "git"},
    "config": {"leaves", "sdk"},  # safe YAML from the sdk
    "compat": {"sdk"},  # maturity_scan.detector / .document: re-exports for old plugins
    "detectors": set(),  # the package that holds them (detectors/__init__.py)
    "detector": {"sdk", "detector helper"},
    "detector helper": {"sdk", "detector helper"},
    "engine": {"version", "leaves", "git", "sdk", "config", "detectors"},
    "assess": {"leaves", "sdk", "config"},  # packs are read with the config's limits
    "report": {"version", "leaves", "git", "sdk", "config", "engine", "assess"},
    "api": {"version", "leaves", "git", "sdk", "config", "engine", "assess", "report"},
    "gate": {"version", "leaves", "git", "sdk", "config", "engine", "assess", "report", "api"},
    "org": {"version", "leaves", "git", "sdk", "config", "engine", "assess", "report", "api"},
    "reporters": {"version", "leaves", "assess", "report"},
    "cli": {"version", "leaves", "data", "git", "sdk", "config", "engine", "assess", "report",
            "api", "gate", "org", "reporters"},
}
# Third-party modules only some layers may use.
RESTRICTED = {"click": {"cli", "reporters"}, "matplotlib": {"reporters"}}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != PACKAGE:
        raise ValueError(module)
    if len(parts) == 1:
        return "version"
    top = parts[1]
    if top == "detectors":
        if len(parts) == 2:
            return "detectors"
        return "detector helper" if parts[2].startswith("_") else "detector"
    table = {
        "errors": "leaves", "model": "leaves", "schema": "data", "rules": "data",
        "config": "config", "gitsafe": "git", "sdk": "sdk", "detector": "compat",
        "document": "compat", "engine": "engine", "assess": "assess", "report": "report",
        "api": "api", "testing": "api", "gate": "gate", "org": "org", "reporters": "reporters",
        "cli": "cli", "__main__": "cli",
    }
    if top not in table:
        raise KeyError(f"{module}: in no layer; give it one in tests/test_layers.py and "
                       "docs/architecture.md")
    return table[top]


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name, as installed (detectors/ and rules/ are
    mapped into maturity_scan)."""
    found: dict[str, Path] = {}
    for folder, prefix in ((ROOT / PACKAGE, PACKAGE), (ROOT / "detectors", f"{PACKAGE}.detectors")):
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            found[".".join((prefix, *rel))] = path
    return found


MODULES = modules()


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import statement, at any depth. `from a import b`
    names the module `a.b` when there is one, else `a`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else base


def problems(module: str, path: Path) -> list[str]:
    """Every way the imports of one module break the layers."""
    mine = layer_of(module)
    out = []
    for line, target in imports(module, path):
        at = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{line}"
        top = target.split(".")[0]
        if top in RESTRICTED and mine not in RESTRICTED[top]:
            out.append(f"{at}: {module} ({mine}) imports {target}")
        if top != PACKAGE:
            continue
        theirs = layer_of(target)
        if theirs == "cli" and mine != "cli":
            out.append(f"{at}: {module} imports the CLI ({target})")
        elif theirs == "detector" and target != module:
            out.append(f"{at}: {module} imports the detector {target} (share a detectors/_*.py "
                       "helper or the sdk instead)")
        elif theirs != mine and theirs not in LAYERS[mine]:
            out.append(f"{at}: {module} ({mine}) imports {target} ({theirs})")
    return out


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_imports_point_down_only() -> None:
    wrong = [p for module, path in MODULES.items() for p in problems(module, path)]
    assert not wrong, "imports against the layers (docs/architecture.md):\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph = nx.DiGraph((m, t) for m, path in MODULES.items() for _, t in imports(m, path)
                       if t in MODULES and t != m)
    cycles = sorted(nx.simple_cycles(graph))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles)


@pytest.mark.parametrize("module, source", [
    ("maturity_scan.sdk.probe", "from maturity_scan import api\n"),
    ("maturity_scan.sdk.probe", "def f():\n    from maturity_scan.engine import scan\n"),
    ("maturity_scan.engine.probe", "from maturity_scan.reporters import text\n"),
    ("maturity_scan.gate.probe", "def f():\n    import click\n"),
    ("maturity_scan.org.probe", "from maturity_scan.reporters import html\n"),
    ("maturity_scan.reporters.probe", "from maturity_scan.cli import main\n"),
    ("maturity_scan.gate.probe", "from maturity_scan.detectors.release_tags import VERSION\n"),
    ("maturity_scan.detectors.probe", "from maturity_scan.detectors import readme\n"),
    ("maturity_scan.detectors.probe", "from . import readme\n"),
    ("maturity_scan.detectors.probe", "def f():\n    from .dockerfile import instructions\n"),
    ("maturity_scan.detectors._probe", "from maturity_scan.detectors.readme import headings\n"),
    ("maturity_scan.detectors.probe", "from maturity_scan.engine import registry\n"),
    ("maturity_scan.detectors.probe", "from maturity_scan.model import kind\n"),
])
def test_an_upward_or_detector_import_is_caught(module: str, source: str,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert problems(module, path)


@pytest.mark.parametrize("module, source", [
    ("maturity_scan.detectors.probe", "from maturity_scan.sdk import Document, ci\n"
                                      "from maturity_scan.detectors._kube import objects\n"
                                      "from ._pipelines import PipelineDetector\n"),
    ("maturity_scan.cli.probe", "import click\nfrom maturity_scan.reporters import text\n"),
    ("maturity_scan.gate.probe", "from maturity_scan import api, gitsafe\n"),
])
def test_a_downward_import_passes(module: str, source: str, tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert problems(module, path) == []
