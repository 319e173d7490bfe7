"""One file through the detectors that claim it: signals out, failures recorded, never raised."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maturity_scan.model import FactType, FileError, KindSpec, Signal
from maturity_scan.sdk.detector import Detector
from maturity_scan.sdk.document import Document, ParseError


class FileTimeout(BaseException):
    """Raised in a worker when a file exceeds its time budget. A BaseException so that a
    detector's `except Exception` cannot swallow it."""


@dataclass
class FileResult:
    path: str
    found: list[tuple[str, Signal]] = field(default_factory=list)  # (detector id, signal)
    errors: list[FileError] = field(default_factory=list)


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


def analyze(doc: Document, detectors: Sequence[Detector]) -> FileResult:
    result = FileResult(doc.path)
    failures: dict[str, list[str]] = {}
    for det in detectors:
        try:
            result.found += [(det.id, checked(det, s)) for s in det.analyze(doc)]
        except ParseError as e:
            failures.setdefault(str(e), []).append(det.id)
        except RecursionError:
            failures.setdefault("nested too deeply", []).append(det.id)
        except MemoryError:
            raise
        except Exception as e:  # a detector bug must not end the scan; no contents quoted
            failures.setdefault(f"detector failed ({type(e).__name__})", []).append(det.id)
    result.errors = [FileError(doc.path, ", ".join(ids), msg) for msg, ids in failures.items()]
    return result


def failed(path: str, detector_ids: Sequence[str], message: str) -> FileResult:
    return FileResult(path, [], [FileError(path, ", ".join(detector_ids), message)])


def group_by_detector(results: Sequence[FileResult]) -> Mapping[str, list[Signal]]:
    out: dict[str, list[Signal]] = {}
    for r in results:
        for det_id, sig in r.found:
            out.setdefault(det_id, []).append(sig)
    return out
