"""The rule graph: signal -> requirement -> level -> dimension, compiled with networkx, and its
evaluation against a scan's signals."""
from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Any

from maturity_scan.assess.packs import Pack, rule_regex, walk
from maturity_scan.assess.results import (Assessment, DimensionResult, LevelResult,
                                          RequirementResult)
from maturity_scan.model import Evidence, Signal

if TYPE_CHECKING:  # networkx is imported by compile_graph only: an assessment does without it
    import networkx as nx

MAX_EVIDENCE = 5  # per requirement in a report; the signal lists carry the rest
MAX_RELATED = 3  # what an unmet requirement can already build on
RELATED_PER_KIND = 2


def node(kind: str, *parts: Any) -> str:
    return f"{kind}:" + ":".join(str(p) for p in parts)


def compile_graph(pack: Pack) -> nx.DiGraph:
    """Nodes `signal:K`, `requirement:ID`, `level:DIM:N`, `dimension:DIM`; edges point from
    what is needed to what needs it. Shared requirements are one node."""
    import networkx as nx

    g = nx.DiGraph(pack=pack.id, title=pack.title)
    for req in pack.requirements.values():
        rnode = node("requirement", req.id)
        g.add_node(rnode, type="requirement", id=req.id, title=req.title, hint=req.hint)
        for cond, _ in walk(req.when):
            if "kind" in cond:
                g.add_edge(node("signal", cond["kind"]), rnode)
            if "fact" in cond:
                g.add_edge(node("signal", cond["fact"].split(".", 1)[0]), rnode,
                           fact=cond["fact"])
            if "requirement" in cond:
                target = (pack.aliases or {}).get(cond["requirement"], cond["requirement"])
                g.add_edge(node("requirement", target), rnode)
    for n, data in g.nodes(data=True):
        if n.startswith("signal:"):
            data.update(type="signal", kind=n.split(":", 1)[1])
    for dim in pack.dimensions:
        dnode = node("dimension", dim.id)
        g.add_node(dnode, type="dimension", id=dim.id, title=dim.title)
        previous = None
        for lv in dim.levels:
            lnode = node("level", dim.id, f"{lv.level:g}")
            g.add_node(lnode, type="level", dimension=dim.id, level=lv.level, name=lv.name)
            g.add_edge(lnode, dnode)
            if previous:
                g.add_edge(previous, lnode, cumulative=True)
            for rid in lv.requires:
                g.add_edge(node("requirement", rid), lnode)
            previous = lnode
    return g


_SURROGATE = re.compile("[\ud800-\udfff]")


def _searchable(text: str) -> str:
    """`text` as RE2 can take it (UTF-8): a lone surrogate (an undecodable byte of a path or
    file) becomes U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _first_per_file(evidence: Sequence[Evidence], files: int) -> list[Evidence]:
    """One piece per file (its first, usually the file-level one, not a file's details), for the
    first `files` files in evidence order. One pass that stops early: a signal can carry
    evidence from hundreds of thousands of files."""
    first: dict[str, Evidence] = {}
    for e in evidence:
        if len(first) == files:
            break
        first.setdefault(e.path, e)
    return list(first.values())


ARTICLE = {"infrastructure": "an infrastructure (IaC) repository", "gitops": "a GitOps "
           "configuration repository", "examples": "an examples collection",
           "docs": "a documentation site", "library": "a library", "cli": "a command-line tool",
           "service": "a service", "operator": "an operator"}


def archetypes_of(signals: Sequence[Signal]) -> tuple[str, ...]:
    """The archetypes the `archetype` signal inferred, or () when none was (then every
    dimension and requirement applies: not knowing is no reason to excuse anything)."""
    sig = next((s for s in signals if s.kind == "archetype"), None)
    types = sig.facts.get("types") if sig else None
    return tuple(types) if isinstance(types, (list, tuple)) else ()


def stacks_of(signals: Sequence[Signal]) -> tuple[str, ...]:
    """The languages the `archetype` signal found (python, go, node, rust, java, ruby)."""
    sig = next((s for s in signals if s.kind == "archetype"), None)
    stacks = sig.facts.get("stacks") if sig else None
    return tuple(stacks) if isinstance(stacks, (list, tuple)) else ()


def hint_for(req: Any, stacks: Sequence[str]) -> str:
    """The requirement's hint for the repository's stack: its `hints` entry when exactly the
    stacks found have entries (one each, joined), else the general hint."""
    tailored = [req.hints[s] for s in stacks if req.hints and s in req.hints]
    return " ".join(tailored) if tailored and len(tailored) == len(stacks) else req.hint


def not_applicable_reason(applies_to: Sequence[str], archetypes: Collection[str],
                          overridden: bool | str = False, subject: str = "repository") -> str:
    """Why something limited to `applies_to` does not apply to a repository (or component,
    `subject`) of `archetypes`, or "" when it does (or the archetype is unknown); `overridden`
    a text: where the archetypes came from."""
    if not applies_to or not archetypes or set(applies_to) & set(archetypes):
        return ""
    what = " and ".join(ARTICLE.get(a, a) for a in sorted(archetypes))
    source = overridden if isinstance(overridden, str) else \
        "as configured (archetype:)" if overridden else "inferred from its files"
    return (f"applies to {', '.join(applies_to)}; this {subject} is {what} ({source})")


class _Evaluator:
    def __init__(self, pack: Pack, signals: Sequence[Signal], waivers: Mapping[str, str],
                 archetypes: Collection[str] = (), overridden: bool | str = False,
                 subject: str = "repository"):
        self.pack = pack
        self.signals = {s.kind: s for s in signals}
        self.waivers = waivers
        self.archetypes = archetypes
        self.overridden = overridden
        self.subject = subject
        self.stacks = stacks_of(signals)
        self.results: dict[str, tuple[bool, tuple[Evidence, ...]]] = {}
        self._own: dict[str, tuple[Evidence, ...]] = {}

    def fact_holds(self, cond: Mapping[str, Any], value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, list) and ("at_least" in cond or "at_most" in cond):
            value = len(value)
        if "equals" in cond:
            return bool(value == cond["equals"])
        if "at_least" in cond:
            return bool(value >= cond["at_least"])
        if "at_most" in cond:
            return bool(value <= cond["at_most"])
        if "contains" in cond:
            return cond["contains"] in value
        if "contains_any" in cond:
            return any(v in value for v in cond["contains_any"])
        if "in" in cond:
            return value in cond["in"]
        if "matches" in cond:
            rx = rule_regex(cond["matches"])  # RE2: linear in the (repository's) text
            items = value if isinstance(value, list) else [value]
            return any(rx.search(_searchable(str(v))) for v in items)
        return bool(value)

    def check(self, cond: Mapping[str, Any]) -> tuple[bool, tuple[Evidence, ...]]:
        if "all" in cond:
            parts = [self.check(c) for c in cond["all"]]
            ok = all(p[0] for p in parts)
            return ok, tuple(e for p in parts for e in p[1]) if ok else ()
        if "any" in cond:
            parts = [self.check(c) for c in cond["any"]]
            return any(p[0] for p in parts), tuple(e for p in parts if p[0] for e in p[1])
        if "not" in cond:
            return not self.check(cond["not"])[0], ()
        if "requirement" in cond:
            return self.requirement(cond["requirement"])
        if "kind" in cond:
            own = self.own(cond["kind"])
            ok = len(own) >= cond.get("min_evidence", 1)
            return ok, own if ok else ()
        kind, _, fact = cond["fact"].partition(".")
        sig, own = self.signals.get(kind), self.own(kind)
        if sig is None or not own or not self.fact_holds(cond, sig.facts.get(fact)):
            return False, ()
        backing = tuple(e for e in own if fact in e.supports)
        return True, backing or own

    def own(self, kind: str) -> tuple[Evidence, ...]:
        """A kind's evidence that is the repository's own: set-aside evidence (a `scope`: test
        data, vendored copies) satisfies no requirement."""
        if kind not in self._own:
            ev = self.signals[kind].evidence if kind in self.signals else ()
            self._own[kind] = tuple(e for e in ev if not e.scope)
        return self._own[kind]

    def requirement(self, rid: str) -> tuple[bool, tuple[Evidence, ...]]:
        rid = (self.pack.aliases or {}).get(rid, rid)
        if rid not in self.results:
            ok, evidence = self.check(self.pack.requirements[rid].when)
            seen: dict[tuple[str, int | None], Evidence] = {}
            for e in evidence:
                seen.setdefault((e.path, e.line), e)
            self.results[rid] = (ok, tuple(seen.values()))
        return self.results[rid]

    def leaves(self, cond: Mapping[str, Any], depth: int = 0) -> Iterator[Mapping[str, Any]]:
        """The `kind` and `fact` conditions a condition is made of, through the requirements
        it names (not those under `not`)."""
        if "not" in cond or depth > 20:
            return
        for key in ("all", "any"):
            for c in cond.get(key, ()):
                yield from self.leaves(c, depth + 1)
        if "requirement" in cond:
            rid = (self.pack.aliases or {}).get(cond["requirement"], cond["requirement"])
            yield from self.leaves(self.pack.requirements[rid].when, depth + 1)
        if "kind" in cond or "fact" in cond:
            yield cond

    def related(self, cond: Mapping[str, Any]) -> Iterator[Evidence]:
        """Evidence of the kinds a condition names that the repository has (not under `not`)."""
        for leaf in self.leaves(cond):
            kind = leaf.get("kind") or leaf.get("fact", "").partition(".")[0]
            if kind in self.signals:
                yield from _first_per_file(self.own(kind), RELATED_PER_KIND)

    def result(self, rid: str) -> RequirementResult:
        req = self.pack.requirements[rid]
        ok, evidence = self.requirement(rid)
        waived = self.waivers.get(rid, "") if not ok else ""
        # not applicable wins over a condition that happens to hold: never met, no evidence
        excused = "" if waived else \
            not_applicable_reason(req.applies_to, self.archetypes, self.overridden, self.subject)
        if excused:
            ok, evidence = False, ()
        related: tuple[Evidence, ...] = ()
        if not ok and not excused:
            related = tuple(dict.fromkeys(self.related(req.when)))[:MAX_RELATED]
        return RequirementResult(req.id, req.title, hint_for(req, self.stacks),
                                 ok or bool(waived or excused),
                                 evidence[:MAX_EVIDENCE], req.ref, waived, related, excused,
                                 blocked="" if ok or waived or excused else
                                 "; ".join(dict.fromkeys(self.blocked(req.when))))

    def blocked(self, cond: Mapping[str, Any]) -> Iterator[str]:
        """What keeps an `at_most` condition on a set fact from holding, by name
        ("component.without_kubify: ledger, search"): the reason of a missing requirement."""
        for leaf in self.leaves(cond):
            if "fact" not in leaf or "at_most" not in leaf:
                continue
            kind, _, fact = leaf["fact"].partition(".")
            value = self.signals[kind].facts.get(fact) if kind in self.signals else None
            if isinstance(value, list) and len(value) > leaf["at_most"]:
                yield f"{leaf['fact']}: {', '.join(map(str, value))}"


def _pending_waivers(levels: tuple[LevelResult, ...],
                     reached: LevelResult) -> tuple[LevelResult, ...]:
    """A waiver counts only where it completes a level that is reached: one above the level
    reached is marked `pending` with what the first level not reached still needs."""
    above = levels[levels.index(reached) + 1:]
    blocking = next((lv for lv in above if not lv.met), None)
    if blocking is None:
        return levels
    needs = f"level {blocking.level:g} still needs {', '.join(r.id for r in blocking.missing)}"
    return levels[:levels.index(reached) + 1] + tuple(
        replace(lv, requirements=tuple(replace(r, pending=needs) if r.waived else r
                                       for r in lv.requirements)) for lv in above)


def evaluate(pack: Pack, signals: Sequence[Signal],
             waivers: Mapping[str, str] | None = None,
             archetypes: Sequence[str] | None = None, *, source: str = "",
             subject: str = "repository") -> Assessment:
    """Levels are cumulative: a dimension is at the highest level whose requirements, and those
    of every level below it, all hold. Requirements are evaluated in the graph's topological
    order, each once, however many levels share it.

    A dimension or requirement with `applies_to` that names none of the repository's
    archetypes (`archetypes` when configured, else the `archetype` signal's) is not
    applicable: a requirement then holds like a waived one, a dimension has no level."""
    overridden: bool | str = source or bool(archetypes)  # source: where `archetypes` came from
    ev = _Evaluator(pack, signals, waivers or {},
                    tuple(archetypes) if archetypes else archetypes_of(signals), overridden,
                    subject)
    needs = {rid: {(pack.aliases or {}).get(c["requirement"], c["requirement"])
                   for c, _ in walk(req.when) if "requirement" in c}
             for rid, req in pack.requirements.items()}
    for rid in TopologicalSorter(needs).static_order():
        ev.requirement(rid)
    dims = []
    for dim in pack.dimensions:
        levels = tuple(LevelResult(lv.level, lv.name, tuple(ev.result(r) for r in lv.requires))
                       for lv in dim.levels)
        reached = levels[0]
        for lv in levels[1:]:
            if not lv.met:
                break
            reached = lv
        # Not applicable does not block a level, nor earn one: a level held only because its
        # requirements do not apply is not reached unless a level above it is.
        while reached is not levels[0] and all(r.not_applicable for r in reached.requirements):
            reached = levels[levels.index(reached) - 1]
        excused = not_applicable_reason(dim.applies_to, ev.archetypes, overridden, subject)
        if excused:
            reached = levels[0]
        else:
            levels = _pending_waivers(levels, reached)
        dims.append(DimensionResult(dim.id, dim.title, reached.level, reached.name,
                                    dim.max_level, levels, dim.note, excused))
    return Assessment(pack.id, pack.title, tuple(dims), pack.note)
