"""The data that flows through a scan: evidence, signals, file errors, kind specs."""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Evidence:
    """Where a signal shows: a repository-relative POSIX path and, where one line shows it best,
    that line (1-based). `supports` names the facts this piece of evidence backs, so that a rule
    on a fact can cite the line that established it rather than every file of the kind.
    `scope` is set on evidence that is not the repository's own practice (one of SCOPES: test
    data, vendored copies, chart templates off by default): it is reported, but satisfies no
    requirement."""

    path: str
    line: int | None = None
    detail: str = ""
    supports: frozenset[str] = field(default=frozenset(), compare=False)
    scope: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.line is not None:
            out["line"] = self.line
        if self.detail:
            out["detail"] = self.detail
        if self.scope:
            out["scope"] = self.scope
        return out


# Evidence set aside from the assessment, and why: files under test-data folders, vendored
# copies of third-party code (see engine.scan.path_scope), and chart templates the chart's own
# values.yaml switches off (engine.helmscope).
SCOPES = ("test", "vendored", "disabled")


@dataclass(frozen=True)
class Signal:
    """A kind found in the repository, with the evidence that shows it and what was learned."""

    kind: str
    evidence: tuple[Evidence, ...]
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class FileError:
    """A file that could not be read or understood. The message never quotes file contents."""

    path: str
    detector: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "detector": self.detector, "message": self.message}


class FactType(str, enum.Enum):
    """How a fact is typed, and so how values from several files merge into one signal."""

    COUNT = "count"  # int, summed
    FLAG = "flag"  # bool, true if any file says so
    SET = "set"  # sorted list of distinct strings, united
    TEXT = "text"  # str, the first file's value (files in path order)
    NUMBER = "number"  # float, the largest
    RECORDS = "records"  # list of objects (e.g. one per workflow), concatenated; not for rules


@dataclass(frozen=True)
class KindSpec:
    """A signal kind's public contract: what it means and which facts it may carry."""

    description: str
    facts: Mapping[str, FactType] = field(default_factory=dict)


def kind(description: str, **facts: str) -> KindSpec:
    """Shorthand for detectors: `kind("Terraform", resources="count", backend="set")`."""
    return KindSpec(description, {name: FactType(t) for name, t in facts.items()})
