"""The detector contract. A detector is a plain object satisfying `Detector`: it names the
kinds it reports (with their facts), claims paths by pattern, and turns one parsed file into
signals. It never decides a level (rules do) and has no side effects: no network, no
environment, no global state. `analyze` runs in a worker process, once per claimed file.

A detector that needs the whole repository (counting files, combining a chart's parts, git
history) is also `Concluding`: it defines `conclude(found, repo)`, called once in the main process
with every signal its `analyze` produced; what it returns replaces them. A concluding detector
with no patterns reads git history only.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from maturity_scan.model import Evidence, KindSpec, Signal
from maturity_scan.sdk.document import Document, RepoView

if TYPE_CHECKING:
    import git


@runtime_checkable
class Detector(Protocol):
    id: str  # stable, snake_case, usually the main kind it reports
    description: str  # one line, for `detectors list`
    kinds: Mapping[str, KindSpec]
    patterns: Sequence[str]  # see maturity_scan.sdk.globs

    def analyze(self, doc: Document) -> Iterable[Signal]: ...


@runtime_checkable
class Concluding(Protocol):
    """A detector that also looks at the whole repository once its files are analysed."""

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]: ...


@dataclass(frozen=True)
class RepoContext:
    """What `conclude` may look at: the listed paths and, read-only, the git repository."""

    view: RepoView
    git: git.Repo | None = None
    revision: str | None = None  # None for a working tree


def signal(kind: str, path: str, line: int | None = None, detail: str = "",
           **facts: Any) -> Signal:
    """One signal with one piece of evidence, which backs every truthy fact given."""
    supports = frozenset(k for k, v in facts.items() if v)
    return Signal(kind, (Evidence(path, line, detail, supports),), facts)


def conclude(detector: Detector, found: Sequence[Signal], repo: RepoContext) -> list[Signal]:
    """What a detector reports for the whole repository: its `conclude` when it is
    `Concluding`, else the signals its `analyze` found."""
    if isinstance(detector, Concluding):
        return list(detector.conclude(found, repo))
    return list(found)
