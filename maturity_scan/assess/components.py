"""Each component of a monorepo judged on its own evidence (`scan --components`).

The components are those the `component` signal found (Backstage catalog, Kubify, services
roots, workspaces), adjusted by the configuration's `components:` (folders included, folders or
names excluded). A piece of evidence belongs to the deepest component whose folder holds it;
evidence in no component's folder (or in a component at the root) is the repository's and
applies to every component it covers:
- CI that says which paths it runs for covers the components those paths reach (paths that
  reach none, a shared chart's folder, leave it the repository's; a change event without
  filters runs on any change, so covers every component): a GitHub workflow's `paths:` (its
  `paths-ignore` taking a component's whole folder away leaves it out) and a job whose `if:`
  needs `dorny/paths-filter` outputs; a GitLab job whose `rules:` (every one that can start
  it) or `only:` have `changes:` (`except: changes:` as `paths-ignore`, an `include:`'s own
  rules, `workflow: rules: changes:` for the whole pipeline); an Azure pipeline's `trigger:`
  and `pr:` `paths:`; a Bitbucket step's `condition: changesets:`; a Jenkins stage whose
  `when { changeset … }` decides alone;
- a job whose `strategy.matrix` (GitLab `parallel: matrix:`) names components (by name, id or
  folder) covers those only, a job (or a step) whose `working-directory` lies in a component's
  folder covers that one only, and a step (a GitLab job's script) whose commands name folders
  of components (`docker build services/ledger`, `cd services/web`) covers those only;
- anything else (root pre-commit, CODEOWNERS, shared Terraform, git history) covers them all.
Evidence of another component's folder never counts for this one.

This module only divides the scan's signals (as detectors gave them, before one per kind);
the caller merges each component's share and evaluates it with the same rule graph.
"""
from __future__ import annotations

import posixpath
import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import re2

from maturity_scan.model import Evidence, Signal

ARCHETYPES = ("library", "cli", "service", "operator", "infrastructure", "gitops", "examples",
              "docs")
# Backstage `spec.type` values (well-known and common ones) as archetypes; others are services.
CATALOG_TYPES = {"documentation": "docs", "docs": "docs", "tool": "cli", "tooling": "cli",
                 "infra": "infrastructure", "infrastructure": "infrastructure",
                 "terraform": "infrastructure", "website": "service", "api": "service"}


@dataclass(frozen=True)
class Component:
    id: str
    name: str
    path: str  # folder, POSIX, relative to the root; "." for the root
    owner: str | None = None
    type: str | None = None
    source: str = "services_root"  # backstage, kubify, services_root, workspace, skaffold,
    # compose, config
    file: str = ""  # where it was found (the config file for `components:` includes)
    line: int = 1
    depends_on: tuple[str, ...] = ()
    kubify: bool = False  # its folder holds a Kubify service config

    def holds(self, path: str) -> bool:
        return self.path == "." or path == self.path or path.startswith(self.path + "/")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "path": self.path, "owner": self.owner,
                "type": self.type,
                "source": {"kind": self.source, "path": self.file, "line": self.line}}


def slug(name: str) -> str:
    out = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")
    return out or "component"


@lru_cache(maxsize=256)
def _glob_rx(pattern: str) -> Any:
    """A folder glob (`*` within a segment, `**` across) as RE2 over a whole folder path: the
    configuration is the repository's, so matching stays linear whatever the glob."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append("[^/]*" if pattern[i] == "*" else "[^/]" if pattern[i] == "?"
                       else re.escape(pattern[i]))
            i += 1
    return re2.compile("".join(out))


def _matches(patterns: Sequence[str], *values: str) -> bool:
    return any(_glob_rx(p).fullmatch(_utf8(v)) for p in patterns for v in values)


def _utf8(text: str) -> str:
    """`text` as RE2 takes it: a lone surrogate (a path byte that is not UTF-8) as U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def discover(signals: Iterable[Signal], dirs: Collection[str] = (),
             include: Sequence[str] = (), exclude: Sequence[str] = (),
             origin: str = "") -> list[Component]:
    """The components, sorted by folder, with unique ids: those found (the `component`
    signal's records, set-aside ones never), minus `exclude` (folder or name globs), plus the
    folders of `dirs` that `include` names (found there already: kept as found)."""
    signals = list(signals)
    records: list[Mapping[str, Any]] = []
    for sig in signals:
        if sig.kind == "component":
            records += sig.facts.get("components") or []
    configs = {posixpath.dirname(e.path) or "." for s in signals if s.kind == "kubify"
               for e in s.evidence if not e.scope and posixpath.basename(e.path) in
               ("kubify.yaml", "kubify.yml")}
    found: dict[str, Component] = {}
    for r in records:
        path = str(r.get("path") or ".")
        if path in found or _matches(exclude, path, str(r.get("name") or "")):
            continue
        found[path] = Component("", str(r.get("name") or posixpath.basename(path) or "root"),
                                path, r.get("owner"), r.get("type"), str(r.get("source")),
                                str(r.get("file") or ""), int(r.get("line") or 1),
                                tuple(r.get("depends_on") or ()),
                                kubify=path in configs or r.get("source") == "kubify")
    for folder in sorted(dirs):
        if folder in found or not _matches(include, folder) or _matches(exclude, folder):
            continue
        found[folder] = Component("", posixpath.basename(folder) or "root", folder,
                                  source="config", file=origin, line=1,
                                  kubify=folder in configs)
    out, ids = [], set()
    for path in sorted(found):
        c = found[path]
        cid, n = slug(c.name), 2
        while cid in ids:
            cid, n = f"{slug(c.name)}-{n}", n + 1
        ids.add(cid)
        out.append(replace(c, id=cid))
    return out


FILTERED = ("github_actions", "gitlab_ci", "azure_pipelines", "bitbucket_pipelines",
            "jenkins")  # CI kinds whose `filters` facts narrow coverage


class _Coverage:
    """Which components a piece of the repository's own evidence covers."""

    def __init__(self, components: Sequence[Component], signals: Iterable[Signal]) -> None:
        self.components = components
        self.workflows: dict[str, Mapping[str, Any]] = {}
        # per workflow: its jobs by line, and their lines (a job is found by bisection)
        self.jobs: dict[str, tuple[list[int], list[Mapping[str, Any]]]] = {}
        for sig in signals:
            if sig.kind in FILTERED:
                for f in sig.facts.get("filters") or ():
                    self.workflows[str(f.get("workflow"))] = f
                    jobs = sorted(f.get("jobs") or (), key=lambda j: int(j.get("line") or 0))
                    self.jobs[str(f.get("workflow"))] = (
                        [int(j.get("line") or 0) for j in jobs], jobs)
        self._memo: dict[tuple[str, int | None], frozenset[str]] = {}

    def __call__(self, e: Evidence) -> frozenset[str]:
        key = (e.path, e.line)
        if key not in self._memo:
            self._memo[key] = self._compute(e)
        return self._memo[key]

    def _compute(self, e: Evidence) -> frozenset[str]:
        every = frozenset(c.id for c in self.components)
        wf = self.workflows.get(e.path)
        if wf is None:
            return every
        covered = self._by_events(wf.get("events") or {})
        lines, jobs = self.jobs[e.path]
        at = bisect_right(lines, e.line) - 1 if e.line is not None else -1
        job = jobs[at] if at >= 0 else None  # the last job starting at or before the line
        if job is not None and e.line is not None and job.get("end") and e.line >= job["end"]:
            job = None  # after the job's span (a GitLab `include:` below the jobs)
        if job is not None:  # evidence of a job (a step, its environment …), not the workflow
            if job.get("paths") or job.get("paths_ignore"):  # GitLab `rules: changes:`
                covered &= self._by_events({"job": job})
            named = self._named(job.get("matrix") or ())
            if named:
                covered &= named
            step = next((s for s in job.get("steps") or () if s.get("line") == e.line), {})
            if step.get("paths"):  # a step run when a paths-filter filter matched
                covered &= self._by_events({"step": {"paths": step["paths"]}})
            folder = str(step.get("dir") or job.get("dir") or ".")
            folder = posixpath.normpath(folder).removeprefix("./").lstrip("/") or "."
            inside = frozenset(c.id for c in self.components
                               if c.path != "." and c.holds(folder))
            if inside:
                covered &= inside
            named = frozenset(c.id for c in self.components if c.path != "." and any(
                c.holds(n) or c.path.startswith(n + "/")
                for n in step.get("names") or job.get("names") or ()))  # GitLab: the job's
            if named:  # the folders its commands name: in (or above) those components
                covered &= named
        return covered

    def _by_events(self, events: Mapping[str, Any]) -> frozenset[str]:
        every = frozenset(c.id for c in self.components)
        if not events:
            return every
        out: set[str] = set()
        ignored = False
        for spec in events.values():
            paths = [p for p in spec.get("paths") or () if not p.startswith("!")]
            ignore = list(spec.get("paths_ignore") or ())
            for c in self.components:
                if paths and not any(_reaches(p, c.path) for p in paths):
                    continue
                if any(_takes_whole(p, c.path) for p in ignore):
                    ignored = True
                    continue
                out.add(c.id)
        # paths that reach no component (a shared chart, docs): the repository's own CI
        return frozenset(out) if out or ignored else every

    def _named(self, values: Sequence[str]) -> frozenset[str]:
        names = {v.strip().strip("/").removeprefix("./") for v in values}
        return frozenset(c.id for c in self.components
                         if names & {c.name, c.id, c.path} or
                         any(n.endswith("/" + c.path) or c.path.endswith("/" + n)
                             for n in names if "/" in n))


def _literal(pattern: str) -> str:
    m = re.search(r"[*?\[{]", pattern)
    return pattern[:m.start()] if m else pattern


def _reaches(pattern: str, folder: str) -> bool:
    """Whether a `paths:` glob can match a file in `folder`."""
    if folder == ".":
        return True
    lit = _literal(pattern.removeprefix("./"))
    return lit.startswith(folder + "/") or lit == folder or (folder + "/").startswith(lit)


def _takes_whole(pattern: str, folder: str) -> bool:
    """Whether a `paths-ignore` glob matches every file of `folder` (`folder/**`, `dir/**` above
    it, `**`)."""
    p = pattern.removeprefix("./")
    base = p[:-2].rstrip("/")
    if not p.endswith("**") or _literal(base) != base:
        return False
    return not base or folder == base or folder.startswith(base + "/")


def divide(components: Sequence[Component],
           parts: Iterable[Signal]) -> dict[str, list[Signal]]:
    """Each component's share of the signals (as detectors gave them). A signal with evidence
    in components' folders goes to those components, each with its own pieces and the
    repository's (a CI call that runs a service's Makefile is that service's); a signal whose
    evidence is all the repository's goes to the components every piece covers (a call chain
    runs only where its first workflow does). Facts are kept as they are. `component` signals
    are left out: `own_signal` stands for them."""
    parts = list(parts)
    by_folder = {c.path: c for c in components}
    root = by_folder.get(".")
    cover = _Coverage(components, parts)
    out: dict[str, list[Signal]] = {c.id: [] for c in components}
    owner_memo: dict[str, Component | None] = {}

    def owner(path: str) -> Component | None:
        folder = posixpath.dirname(path)
        if folder not in owner_memo:
            d, found = folder, None
            while d:
                if d in by_folder:
                    found = by_folder[d]
                    break
                d = posixpath.dirname(d)
            owner_memo[folder] = found or root
        return owner_memo[folder]

    for sig in parts:
        if sig.kind == "component":
            continue
        owners: list[str | None] = []  # per piece: the component whose folder holds it
        for e in sig.evidence:
            own = owner(e.path) if e.path not in by_folder else by_folder[e.path]
            owners.append(own.id if own is not None and own is not root else None)
        owned = set(owners) - {None}
        if owned:
            for cid in sorted(owned):  # its own pieces and the repository's, in their order
                out[cid].append(sig if len(owned) == 1 else replace(sig, evidence=tuple(
                    e for e, o in zip(sig.evidence, owners) if o in (cid, None))))
        elif sig.evidence:
            for cid in frozenset.intersection(*(cover(e) for e in sig.evidence)):
                out[cid].append(sig)
    return out


def own_signal(c: Component) -> Signal:
    """The `component` signal of one component: itself, and whether it has its kubify.yaml."""
    facts = {"components": [{"name": c.name, "path": c.path, "owner": c.owner, "type": c.type,
                             "source": c.source, "file": c.file, "line": c.line,
                             "depends_on": list(c.depends_on)}],
             "names": [c.name], "count": 1, "without_kubify": [] if c.kubify else [c.name]}
    supports = frozenset(k for k, v in facts.items() if v)
    return Signal("component", (Evidence(c.file or c.path, c.line,
                                         f"component {c.name} ({c.source}) at {c.path}",
                                         supports),), facts)


def archetypes_for(c: Component, configured: Sequence[str] = ()) -> tuple[str, ...]:
    """What a component is judged as: the configured archetypes, else its catalog type when
    it names one (`library`, `service`, `documentation` a docs site, `tool` a CLI …; a Backstage
    `website` is a service), else a service (it was found because it deploys)."""
    if configured:
        return tuple(configured)
    kind = (c.type or "").lower()
    kind = CATALOG_TYPES.get(kind, kind)
    return (kind,) if kind in ARCHETYPES else ("service",)


def archetype_source(c: Component, configured: Sequence[str] = ()) -> str:
    """Where `archetypes_for` took a component's archetype from, as a reason says it."""
    if configured:
        return "as configured (archetype:)"
    kind = (c.type or "").lower()
    if CATALOG_TYPES.get(kind, kind) in ARCHETYPES:
        return f"its catalog spec.type {c.type}"
    return "a component found because it deploys"
