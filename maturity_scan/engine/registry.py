"""Which detectors exist: the built-ins in `maturity_scan.detectors` (one module each, exposing
`DETECTOR`) plus third-party ones from the entry-point group `maturity_scan.detectors`; and how
each runs (`partition`)."""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, distributions

from maturity_scan.engine import isolation
from maturity_scan.errors import UsageError
from maturity_scan.model import FactType, KindSpec
from maturity_scan.sdk.detector import Detector

ENTRY_POINT_GROUP = "maturity_scan.detectors"


def _builtin() -> list[Detector]:
    from maturity_scan import detectors as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append(module.DETECTOR)
    return found


def _entry_points() -> list[EntryPoint]:
    """Plugins of the installed environment only: never a `*.dist-info` that happens to lie in
    the current directory (a scanned checkout)."""
    seen: dict[str, EntryPoint] = {}
    for dist in distributions(path=isolation.import_path()):
        for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            seen.setdefault(ep.name, ep)
    return sorted(seen.values(), key=lambda e: e.name)


def _plugins() -> list[Detector]:
    found = []
    for ep in _entry_points():
        try:
            obj = ep.load()
        except Exception as e:
            raise UsageError(f"detector plugin {ep.name} ({ep.value}): failed to load "
                             f"({type(e).__name__}: {e})") from None
        found.append(obj() if isinstance(obj, type) else obj)
    return found


def _check(det: object, origin: str) -> Detector:
    if not isinstance(det, Detector):
        raise UsageError(f"detector {origin}: does not satisfy the Detector protocol "
                         "(id, description, kinds, patterns, analyze)")
    if isinstance(det.patterns, str):
        raise UsageError(f"detector {det.id}: patterns must be a sequence, not a string")
    return det


@lru_cache(maxsize=1)
def all_detectors() -> tuple[Detector, ...]:
    seen: dict[str, Detector] = {}
    for det in [*_builtin(), *_plugins()]:
        _check(det, getattr(det, "id", repr(det)))
        if det.id in seen:
            raise UsageError(f"detector {det.id}: registered twice")
        seen[det.id] = det
    kind_specs(tuple(seen.values()))  # validates that kinds agree
    return tuple(sorted(seen.values(), key=lambda d: d.id))


@dataclass(frozen=True)
class Partition:
    """Detectors sorted once by how they run, each group in registry order."""

    file: tuple[Detector, ...]  # analyse the files they claim; what they find stands
    concluding: tuple[Detector, ...]  # analyse their files, then `conclude` over the repository
    history: tuple[Detector, ...]  # no files: `conclude` only, reading git history

    @property
    def claiming(self) -> tuple[Detector, ...]:
        """The detectors that claim files (file and concluding ones)."""
        return self.file + self.concluding


def partition(detectors: Sequence[Detector] | None = None) -> Partition:
    dets = detectors if detectors is not None else all_detectors()
    # what isinstance(d, Concluding) answers, without the protocol check's cost (~0.2 ms each)
    concluding = [d for d in dets if getattr(d, "conclude", None) is not None]
    return Partition(
        file=tuple(d for d in dets if getattr(d, "conclude", None) is None),
        concluding=tuple(d for d in concluding if d.patterns),
        history=tuple(d for d in concluding if not d.patterns))


def by_id(ids: Sequence[str]) -> list[Detector]:
    table = {d.id: d for d in all_detectors()}
    return [table[i] for i in ids]


def kind_specs(detectors: Sequence[Detector] | None = None) -> Mapping[str, KindSpec]:
    """Every kind the detectors report, with the union of their declared facts."""
    specs: dict[str, KindSpec] = {}
    owners: dict[str, str] = {}
    for det in detectors if detectors is not None else all_detectors():
        for name, spec in det.kinds.items():
            if name not in specs:
                specs[name], owners[name] = spec, det.id
                continue
            facts: dict[str, FactType] = dict(specs[name].facts)
            for fact, ftype in spec.facts.items():
                if facts.get(fact, ftype) != ftype:
                    raise UsageError(f"detector {det.id}: fact {name}.{fact} is "
                                     f"{ftype.value} here but {facts[fact].value} in "
                                     f"{owners[name]}")
                facts[fact] = ftype
            specs[name] = KindSpec(specs[name].description, facts)
    return specs
