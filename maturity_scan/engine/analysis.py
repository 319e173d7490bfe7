"""One file through the detectors that claim it: signals out, failures recorded, never raised."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maturity_scan.model import FactType, FileError, KindSpec, Signal
from maturity_scan.sdk.detector import Detector
from maturity_scan.sdk.document import Document, ParseError, RepoView


class FileTimeout(BaseException):
    """Raised in a worker when a file exceeds its time budget. A BaseException so that a
    detector's `except Exception` cannot swallow it."""


@dataclass
class Outcome:
    """What one detector made of one file, and what it asked of the rest of the repository
    (`deps`, for the parse cache; None when it cannot be cached)."""

    detector: str
    signals: list[Signal]
    error: str | None = None
    deps: tuple[tuple[Any, ...], ...] | None = ()


@dataclass
class FileResult:
    path: str
    found: list[tuple[str, Signal]] = field(default_factory=list)  # (detector id, signal)
    errors: list[FileError] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)  # per detector, when all ran


class RecordingView:
    """A `RepoView` that notes each question a detector asks of it, with the answer: a cached
    result stands only where the same questions get the same answers."""

    def __init__(self, view: RepoView) -> None:
        self._view = view
        self.log: list[tuple[Any, ...]] = []
        self.opaque = False  # the whole path set was read: no cache entry

    def exists(self, path: str) -> bool:
        answer = self._view.exists(path)
        self.log.append(("e", path, answer))
        return answer

    def has_dir(self, path: str) -> bool:
        answer = self._view.has_dir(path)
        self.log.append(("d", path, answer))
        return answer

    def glob(self, *patterns: str) -> list[str]:
        answer = self._view.glob(*patterns)
        self.log.append(("g", list(patterns), answer))
        return answer

    @property
    def paths(self) -> frozenset[str]:
        self.opaque = True
        return self._view.paths

    @property
    def dirs(self) -> frozenset[str]:
        self.opaque = True
        return self._view.dirs


def plain(value: Any) -> Any:
    """Facts leave the worker as plain JSON-able values (no YAML line-aware subclasses)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def checked(det: Detector, sig: Signal) -> Signal:
    spec: KindSpec | None = det.kinds.get(sig.kind)
    if spec is None:
        raise TypeError(f"reports undeclared kind {sig.kind}")
    facts = {}
    for name, value in sig.facts.items():
        ftype = spec.facts.get(name)
        if ftype is None:
            raise TypeError(f"reports undeclared fact {sig.kind}.{name}")
        value = plain(value)
        if ftype is FactType.SET and isinstance(value, str):
            value = [value]
        facts[name] = value
    return Signal(sig.kind, sig.evidence, facts)


def _one(det: Detector, doc: Document) -> tuple[list[Signal], str | None]:
    try:
        return [checked(det, s) for s in det.analyze(doc)], None
    except ParseError as e:
        return [], str(e)
    except RecursionError:
        return [], "nested too deeply"
    except MemoryError:
        raise
    except Exception as e:  # a detector bug must not end the scan; no contents quoted
        return [], f"detector failed ({type(e).__name__})"


def analyze(doc: Document, detectors: Sequence[Detector]) -> FileResult:
    view = RecordingView(doc.repo)
    doc.repo = view  # type: ignore[assignment]
    outcomes = []
    for det in detectors:
        signals, error = _one(det, doc)
        # what this detector's result may depend on: every question asked so far (a parse
        # memoised by an earlier detector may have asked it)
        outcomes.append(Outcome(det.id, signals, error, None if view.opaque else tuple(view.log)))
    return assemble(doc.path, outcomes)


def assemble(path: str, outcomes: Sequence[Outcome]) -> FileResult:
    """One file's result from its detectors' outcomes (fresh or cached), in claim order:
    detectors failing the same way share one error entry."""
    result = FileResult(path, outcomes=list(outcomes))
    failures: dict[str, list[str]] = {}
    for o in outcomes:
        result.found += [(o.detector, s) for s in o.signals]
        if o.error is not None:
            failures.setdefault(o.error, []).append(o.detector)
    result.errors = [FileError(path, ", ".join(ids), msg) for msg, ids in failures.items()]
    return result


def failed(path: str, detector_ids: Sequence[str], message: str) -> FileResult:
    return FileResult(path, [], [FileError(path, ", ".join(detector_ids), message)])


def group_by_detector(results: Sequence[FileResult]) -> Mapping[str, list[Signal]]:
    out: dict[str, list[Signal]] = {}
    for r in results:
        for det_id, sig in r.found:
            out.setdefault(det_id, []).append(sig)
    return out
