"""What a rule pack concluded about a repository: per dimension, the level the evidence
supports, the requirements met (with their evidence) and the road to the next levels."""
from __future__ import annotations

from dataclasses import dataclass

from maturity_scan.model import Evidence


def level_text(level: float) -> str:
    return f"{level:g}"


def level_json(level: float) -> int | float:
    return int(level) if float(level).is_integer() else level


@dataclass(frozen=True)
class RequirementResult:
    id: str
    title: str
    hint: str
    met: bool
    evidence: tuple[Evidence, ...] = ()
    ref: str = ""
    waived: str = ""  # the reason, when configuration switched this requirement off
    # When unmet: evidence of what the repository already has toward it (the kinds the
    # requirement names that were found), so advice can point at specific files.
    related: tuple[Evidence, ...] = ()
    # Why it does not apply to this repository (its archetype), when it does not: it then
    # counts as held, like a waiver, and is never advice.
    not_applicable: str = ""
    # When waived at a level the dimension does not reach: what the first level not reached
    # still needs ("level 3 still needs iac.versions_pinned"). The waiver then completes
    # nothing yet: the status is `missing` (it is not advice either: `met` stays true, so the
    # road does not list it).
    pending: str = ""
    # When missing: what a set fact names that keeps it from holding ("component.without_kubify:
    # ledger, search": the services without their kubify.yaml).
    blocked: str = ""

    @property
    def status(self) -> str:
        """met, missing, waived or not_applicable."""
        if self.not_applicable:
            return "not_applicable"
        if self.waived:
            return "missing" if self.pending else "waived"
        return "met" if self.met else "missing"


@dataclass(frozen=True)
class LevelResult:
    level: float
    name: str
    requirements: tuple[RequirementResult, ...]

    @property
    def met(self) -> bool:
        return all(r.met for r in self.requirements)

    @property
    def missing(self) -> tuple[RequirementResult, ...]:
        return tuple(r for r in self.requirements if not r.met)


@dataclass(frozen=True)
class DimensionResult:
    id: str
    title: str
    level: float
    level_name: str
    max_level: float
    levels: tuple[LevelResult, ...]
    note: str = ""
    not_applicable: str = ""  # why the whole dimension does not apply (then it has no level)

    @property
    def applicable(self) -> bool:
        return not self.not_applicable

    @property
    def requirements(self) -> tuple[tuple[float, RequirementResult], ...]:
        """Every requirement of the dimension once, at the lowest level that needs it."""
        seen: dict[str, tuple[float, RequirementResult]] = {}
        for lv in self.levels:
            for r in lv.requirements:
                seen.setdefault(r.id, (lv.level, r))
        return tuple(seen.values())

    @property
    def also_met_above(self) -> tuple[tuple[float, RequirementResult], ...]:
        """Requirements of levels above the one reached that hold on their own evidence."""
        return tuple((lv, r) for lv, r in self.requirements
                     if lv > self.level and r.status == "met")

    @property
    def met(self) -> tuple[LevelResult, ...]:
        return tuple(lv for lv in self.levels if lv.level <= self.level)

    @property
    def road(self) -> tuple[LevelResult, ...]:
        """The levels above the one reached that still miss something, each with what it
        misses. A level with nothing missing of its own (its requirements met above, or not
        applicable) is no step: `next` is the first level there is something to do for, and
        there is none when nothing above applies."""
        if self.not_applicable:
            return ()
        return tuple(lv for lv in self.levels if lv.level > self.level and lv.missing)

    @property
    def next(self) -> LevelResult | None:
        return self.road[0] if self.road else None

    def next_steps(self) -> tuple[NextStep, ...]:
        """Every missing requirement on the road, once, in the order that unlocks levels
        soonest: by the first level that needs it, then the ones more levels wait on."""
        needed: dict[str, list[float]] = {}
        results: dict[str, RequirementResult] = {}
        for lv in self.road:
            for r in lv.missing:
                needed.setdefault(r.id, []).append(lv.level)
                results[r.id] = r
        order = sorted(needed, key=lambda rid: (needed[rid][0], -len(needed[rid]), rid))
        names = {lv.level: lv.name for lv in self.levels}
        return tuple(NextStep(results[rid], needed[rid][0], names.get(needed[rid][0], ""))
                     for rid in order)


@dataclass(frozen=True)
class NextStep:
    requirement: RequirementResult
    unlocks: float  # the first level this requirement stands in the way of
    unlocks_name: str = ""


@dataclass(frozen=True)
class Assessment:
    pack: str
    title: str
    dimensions: tuple[DimensionResult, ...]
    note: str = ""

    def dimension(self, dim_id: str) -> DimensionResult | None:
        return next((d for d in self.dimensions if d.id == dim_id), None)
