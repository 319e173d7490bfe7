"""The library entry point: scan a source, assess it with a rule pack, get the report."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from maturity_scan import __version__, report
from maturity_scan.assess.components import (Component, archetype_source, archetypes_for,
                                             discover, divide, own_signal)
from maturity_scan.assess.graph import evaluate
from maturity_scan.assess.packs import Pack, PackStore, load_packs
from maturity_scan.assess.results import Assessment
from maturity_scan.engine import cache, registry
from maturity_scan.config import Components
from maturity_scan.engine.merge import merge_signals
from maturity_scan.engine.scan import ScanOptions, ScanResult, scan_source
from maturity_scan.engine.source import Source
from maturity_scan.errors import UsageError

DEFAULT_PACK = "devops"
# Validated rule packs are kept in the cache folder (packs/) unless a command says --no-cache.
PACK_STORE: ContextVar[bool] = ContextVar("maturity_scan_pack_store", default=True)


def packs(rule_dirs: Sequence[Path] = ()) -> dict[str, Pack]:
    store = PackStore(cache.default_dir() / cache.PACKS_DIR, __version__) \
        if PACK_STORE.get() else None
    return load_packs(registry.kind_specs(), rule_dirs, store)


def get_pack(name: str, rule_dirs: Sequence[Path] = ()) -> Pack:
    available = packs(rule_dirs)
    if name not in available:
        raise UsageError(f"--pack {name}: unknown pack (available: {', '.join(sorted(available))})")
    return available[name]


def assess(scan: ScanResult, pack: Pack, waivers: Mapping[str, str] | None = None,
           archetypes: Sequence[str] | None = None) -> Assessment:
    """`archetypes` (the config's `archetype:`) overrides the inferred ones."""
    return evaluate(pack, scan.signals, waivers, archetypes)


def assess_components(scan: ScanResult, pack: Pack, waivers: Mapping[str, str] | None = None,
                      archetypes: Sequence[str] | None = None,
                      components: Components = Components()) -> list[tuple[Component, Assessment]]:
    """Each component of the repository judged on its own share of the evidence (a scan made
    with `ScanOptions(components=True)`), by the same rule graph (assess.components)."""
    found = discover(scan.signals, scan.dirs, components.include, components.exclude,
                     components.origin)
    shares = divide(found, scan.parts)
    specs = registry.kind_specs()
    return [(c, evaluate(pack, merge_signals([*shares[c.id], own_signal(c)], specs), waivers,
                         archetypes_for(c, archetypes or ()),
                         source=archetype_source(c, archetypes or ()), subject="component"))
            for c in found]


def scan_report(source: Source, pack: str = DEFAULT_PACK,
                options: ScanOptions | None = None, *, timings: bool = True,
                rule_dirs: Sequence[Path] = (),
                waivers: Mapping[str, str] | None = None,
                archetypes: Sequence[str] | None = None,
                components: Components | None = None) -> dict[str, Any]:
    """The JSON report (schema_version 1, DESIGN.md) of one source under one pack."""
    return scan_reports(source, [pack], options, timings=timings, rule_dirs=rule_dirs,
                        waivers=waivers, archetypes=archetypes, components=components)[0]


def scan_reports(source: Source, pack_names: Sequence[str],
                 options: ScanOptions | None = None, *, timings: bool = True,
                 rule_dirs: Sequence[Path] = (),
                 waivers: Mapping[str, str] | None = None,
                 archetypes: Sequence[str] | None = None,
                 components: Components | None = None) -> list[dict[str, Any]]:
    """One scan, assessed by several packs (`--pack all`): one report per pack; with
    `components` (scan --components, or the config's `components:`), each report lists every
    component's own levels too."""
    chosen = [get_pack(name, rule_dirs) for name in pack_names]  # bad names fail before scanning
    start = time.monotonic()
    if components is not None:
        options = dataclasses.replace(options or ScanOptions(), components=True)
    result = scan_source(source, options)
    reps = [report.build(result, assess(result, p, waivers, archetypes), timings=timings,
                         components=None if components is None else
                         assess_components(result, p, waivers, archetypes, components))
            for p in chosen]
    if timings:  # the whole command's work, assessment included, not only the parsing
        for rep in reps:
            rep["stats"]["seconds"] = round(time.monotonic() - start, 3)
    return reps
