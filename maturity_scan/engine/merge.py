"""Signals of one kind, from many files and detectors, merged into one per kind.

Linear in the evidence: facts are gathered into accumulators (a set per SET fact, one list per
RECORDS fact) and finished once per kind, never re-sorted or copied per file."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from maturity_scan.model import Evidence, FactType, KindSpec, Signal


class _Fact:
    """One fact's value across files, as its declared type merges it."""

    __slots__ = ("ftype", "value")

    def __init__(self, ftype: FactType) -> None:
        self.ftype = ftype
        self.value: Any = None

    def add(self, new: Any) -> None:
        if new is None:
            return
        old, ftype = self.value, self.ftype
        if ftype is FactType.SET:
            if old is None:
                self.value = set()
            self.value.update(new)
        elif ftype is FactType.RECORDS:
            if old is None:
                self.value = []
            self.value.extend(new)
        elif old is None:
            self.value = new
        elif ftype is FactType.COUNT:
            self.value = old + new
        elif ftype is FactType.FLAG:
            self.value = bool(old or new)
        elif ftype is FactType.NUMBER:
            self.value = max(old, new)
        # TEXT: the first file's value

    def result(self) -> Any:
        return sorted(self.value) if self.ftype is FactType.SET and self.value is not None \
            else self.value


def merge_signals(signals: Iterable[Signal], specs: Mapping[str, KindSpec]) -> list[Signal]:
    """One signal per kind, sorted by kind; evidence deduplicated and sorted by path and line,
    facts merged as their declared types say. A signal whose evidence is all set aside (each
    piece has a `scope`) adds its evidence but not its facts: facts are the repository's own."""
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        by_kind[s.kind].append(s)
    merged = []
    for kind in sorted(by_kind):
        parts = sorted(by_kind[kind], key=lambda s: min((e.path, e.line or 0) for e in s.evidence)
                       if s.evidence else ("", 0))
        facts: dict[str, _Fact] = {}
        supports: dict[tuple[str, int | None, str], frozenset[str]] = defaultdict(frozenset)
        scopes: dict[str, str] = {}  # path -> scope, for evidence set aside
        for part in parts:
            set_aside = bool(part.evidence) and all(e.scope for e in part.evidence)
            for name, value in () if set_aside else part.facts.items():
                if name not in facts:
                    facts[name] = _Fact(specs[kind].facts[name])
                facts[name].add(value)
            for e in part.evidence:
                key = (e.path, e.line, e.detail)
                supports[key] = supports[key] | e.supports
                if e.scope:
                    scopes[e.path] = e.scope
        evidence = tuple(Evidence(p, ln, d, sup, scopes.get(p)) for (p, ln, d), sup in
                         sorted(supports.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0,
                                                                  kv[0][2])))
        merged.append(Signal(kind, evidence, {name: facts[name].result()
                                              for name in sorted(facts)}))
    return merged
