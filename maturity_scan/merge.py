"""Signals of one kind, from many files and detectors, merged into one per kind."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from maturity_scan.model import Evidence, FactType, KindSpec, Signal


def _merge_value(ftype: FactType, old: Any, new: Any) -> Any:
    if old is None:
        return sorted(set(new)) if ftype is FactType.SET else new
    if new is None:
        return old
    if ftype is FactType.COUNT:
        return old + new
    if ftype is FactType.FLAG:
        return bool(old or new)
    if ftype is FactType.SET:
        return sorted(set(old) | set(new))
    if ftype is FactType.NUMBER:
        return max(old, new)
    if ftype is FactType.RECORDS:
        return [*old, *new]
    return old  # TEXT: the first file's value


def merge_signals(signals: Iterable[Signal], specs: Mapping[str, KindSpec]) -> list[Signal]:
    """One signal per kind, sorted by kind; evidence deduplicated and sorted by path and line,
    facts merged as their declared types say."""
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        by_kind[s.kind].append(s)
    merged = []
    for kind in sorted(by_kind):
        parts = sorted(by_kind[kind], key=lambda s: min((e.path, e.line or 0) for e in s.evidence)
                       if s.evidence else ("", 0))
        facts: dict[str, Any] = {}
        supports: dict[tuple[str, int | None, str], frozenset[str]] = defaultdict(frozenset)
        for part in parts:
            for name, value in part.facts.items():
                facts[name] = _merge_value(specs[kind].facts[name], facts.get(name), value)
            for e in part.evidence:
                key = (e.path, e.line, e.detail)
                supports[key] = supports[key] | e.supports
        evidence = tuple(Evidence(p, ln, d, sup) for (p, ln, d), sup in
                         sorted(supports.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0,
                                                                  kv[0][2])))
        merged.append(Signal(kind, evidence, dict(sorted(facts.items()))))
    return merged
