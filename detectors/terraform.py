"""Terraform: `*.tf` (HCL2) and `*.tf.json`, with modules, providers, backends and lock files;
OpenTofu's `*.tofu` / `*.tofu.json` are the same language. Terragrunt's `terragrunt.hcl` counts,
and its `remote_state` block is a remote backend.

Only Terraform's own file names are claimed, so Packer (`*.pkr.hcl`), Nomad and other HCL
dialects are never mistaken for it; a `.tf` file must declare a Terraform block to count.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from maturity_scan.sdk import Document, RepoContext, Signal, kind, signal

_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")
BLOCKS = ("resource", "data", "module", "provider", "terraform", "variable", "output", "locals")
LOCAL_BACKENDS = {"local"}
_HEADER = re.compile(r'^\s*(resource|data|module|provider|terraform)\b\s*(?:"([^"]*)")?'
                     r'\s*(?:"([^"]*)")?\s*\{')
_BACKEND = re.compile(r'^\s*(backend\s+"([^"]+)"|cloud)\s*\{')
_ENV_NAMES = re.compile(r"(?:^|[._-])(dev|development|test|qa|stage|staging|prod|production|"
                        r"uat|preprod|sandbox)(?:[._-]|$)", re.I)


def _items(value: Any) -> Iterator[dict[str, Any]]:
    """pygohcl and *.tf.json give dicts, python-hcl2 lists of dicts: walk either."""
    if isinstance(value, dict):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _items(v)


def _labels(block: Any) -> Iterator[str]:
    for item in _items(block):
        yield from item.keys()


def module_source_type(source: str) -> str:
    if source.startswith(("./", "../")):
        return "local"
    if source.startswith(("git::", "git@", "github.com/", "bitbucket.org/")) or ".git" in source:
        return "git"
    if re.match(r"^(s3|gcs|https?)::|^https?://", source):
        return "archive"
    if re.match(r"^[\w.-]+/[\w-]+/[\w-]+(//.*)?$", source) or \
            re.match(r"^[\w.-]+\.\w+/[\w-]+/[\w-]+/[\w-]+", source):
        return "registry"
    return "other"


class TerraformDetector:
    id = "terraform"
    description = "Terraform configurations (*.tf, *.tf.json), modules, backends, lock files"
    kinds = {"terraform": kind(
        "Infrastructure defined with Terraform",
        resources="count", data_sources="count", modules="count", module_sources="set",
        providers="set", backends="set", remote_state="flag", pinned_versions="flag",
        lock_file="flag", workspaces="flag", env_tfvars="set", terragrunt="flag",
        roots="count", module_library="flag",
    )}
    patterns = ("*.tf", "*.tf.json", "*.tofu", "*.tofu.json", "terragrunt.hcl")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name == "terragrunt.hcl":
            yield from self._terragrunt(doc)
            return
        data = doc.json if doc.name.endswith(".json") else doc.hcl
        if not isinstance(data, dict) or not any(b in data for b in BLOCKS):
            return
        facts: dict[str, Any] = {"resources": self._count(data.get("resource")),
                                 "data_sources": self._count(data.get("data"))}
        sources = []
        for mod in _items(data.get("module")):
            for body in mod.values():
                for b in _items(body):
                    if isinstance(b.get("source"), str):
                        sources.append(module_source_type(b["source"]))
        facts["modules"] = len(sources)
        facts["module_sources"] = sorted(set(sources))
        providers = set(_labels(data.get("provider")))
        backends: set[str] = set()
        pinned = False
        for tf in _items(data.get("terraform")):
            backends |= set(_labels(tf.get("backend")))
            if "cloud" in tf:
                backends.add("cloud")
            pinned = pinned or "required_version" in tf
            for req in _items(tf.get("required_providers")):
                providers |= set(req)
                pinned = pinned or any(isinstance(v, dict) and "version" in v or
                                       isinstance(v, str) for v in req.values())
        facts["providers"] = sorted(providers)
        facts["backends"] = sorted(backends)
        facts["remote_state"] = bool(backends - LOCAL_BACKENDS)
        facts["pinned_versions"] = pinned
        facts["workspaces"] = "terraform.workspace" in doc.text
        yield from self._evidence(doc, facts)

    @staticmethod
    def _terragrunt(doc: Document) -> Iterator[Signal]:
        data = doc.hcl  # must parse to count
        yield signal("terraform", doc.path, 1, "terragrunt configuration", terragrunt=True)
        for state in _items(data.get("remote_state") if isinstance(data, dict) else None):
            backend = state.get("backend")
            if isinstance(backend, str) and backend and "${" not in backend:
                line = doc.line_of(r"^\s*remote_state\s*\{") or 1
                yield signal("terraform", doc.path, line, f"terragrunt remote_state {backend}",
                             backends=[backend], remote_state=backend not in LOCAL_BACKENDS)

    @staticmethod
    def _count(blocks: Any) -> int:
        """`resource "type" "name"` blocks: names under each type."""
        return sum(1 for t in _items(blocks) for body in t.values() for _ in _labels(body))

    def _evidence(self, doc: Document, facts: dict[str, Any]) -> Iterator[Signal]:
        lines = [] if doc.name.endswith(".json") else doc.lines
        for i, line in enumerate(lines, 1):
            m = _BACKEND.match(line)
            if m:
                name = m.group(2) or "cloud"
                yield signal("terraform", doc.path, i, f"backend {name}",
                             backends=[name], remote_state=name not in LOCAL_BACKENDS)
                continue
            m = _HEADER.match(line)
            if m and m.group(1) in ("resource", "module") and m.group(2):
                label = ".".join(g for g in m.groups()[1:] if g)
                yield signal("terraform", doc.path, i, f"{m.group(1)} {label}")
        yield signal("terraform", doc.path, 1 if lines else None, "terraform configuration",
                     **facts)

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterator[Signal]:
        yield from found
        roots = sorted({posixpath.dirname(e.path) for s in found for e in s.evidence
                        if e.path.endswith(_SUFFIXES)})
        if not roots:
            return
        first = min(e.path for s in found for e in s.evidence
                    if e.path.endswith(_SUFFIXES))
        yield signal("terraform", first, None, f"{len(roots)} terraform root folder(s)",
                     roots=len(roots))
        # A reusable module published from the repository root, with examples that call it:
        # it holds no state of its own (its callers do), so a backend is not expected.
        at_root = [s for s in found for e in s.evidence if "/" not in e.path
                   and e.path.endswith(_SUFFIXES)]
        if at_root and not any(s.facts.get("remote_state") for s in at_root) and \
                repo.view.glob("examples/**/*.tf"):
            yield signal("terraform", "examples/", None, "module library with examples",
                         module_library=True)
        for root in roots:
            lock = posixpath.join(root, ".terraform.lock.hcl")
            if repo.view.exists(lock):
                yield signal("terraform", lock, 1, "provider lock file", lock_file=True)
        envs = [p for p in repo.view.glob("*.tfvars", "*.tfvars.json")
                if _ENV_NAMES.search(posixpath.basename(p)) or
                _ENV_NAMES.search(posixpath.dirname(p).replace("/", "."))]
        for p in envs:
            m = _ENV_NAMES.search(posixpath.basename(p)) or \
                _ENV_NAMES.search(posixpath.dirname(p).replace("/", "."))
            assert m is not None
            yield signal("terraform", p, None, "per-environment variables",
                         env_tfvars=[m.group(1).lower()])


DETECTOR = TerraformDetector()
