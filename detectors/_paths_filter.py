"""GitHub jobs that run only when some paths changed, through `dorny/paths-filter` (the usual
monorepo pattern): a job's step names filters (`orders: ['services/orders/**']`), the job
exposes them as outputs, and later jobs run `if: needs.<job>.outputs.<name> == 'true'` (or
later steps of the job `if: steps.<id>.outputs.<name> == 'true'`). For `scan --components`: the
globs a job's (or step's) `if:` selects."""
from __future__ import annotations

import re
from typing import Any

from maturity_scan.sdk import yamlsafe

ACTION = "dorny/paths-filter"
MAX_FILTERS_TEXT = 20_000  # characters of one step's `filters:` read
MAX_GLOBS = 200
_STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$")
_NEEDS = re.compile(r"needs\.([\w-]+)\.outputs\.([\w-]+)")
_STEPS = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+)")


def _filters(text: Any) -> dict[str, list[str]]:
    """The filters of a step's `with: filters:` (inline YAML; a file path is not read)."""
    if not isinstance(text, str) or len(text) > MAX_FILTERS_TEXT or "\n" not in text.strip() \
            and ":" not in text:
        return {}
    try:
        docs = yamlsafe.load_all(text)
    except yamlsafe.YamlError:
        return {}
    data = docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else {}
    out = {}
    for name, rules in data.items():
        globs = [g for g in rules if isinstance(g, str) and g and "$" not in g][:MAX_GLOBS] \
            if isinstance(rules, list) else []
        if isinstance(name, str) and globs and len(globs) == len(rules):
            out[name] = [g.removeprefix("./").lstrip("/") for g in globs]
    return out


def step_filters(job: Any) -> dict[tuple[str, str], list[str]]:
    """(step id, filter name) -> globs, for the paths-filter steps of one job."""
    found: dict[tuple[str, str], list[str]] = {}
    steps = job.get("steps") if isinstance(job, dict) else None
    for step in steps if isinstance(steps, list) else ():
        uses = step.get("uses") if isinstance(step, dict) else None
        if isinstance(uses, str) and uses.lower().startswith(ACTION + "@") and \
                isinstance(step.get("id"), str) and isinstance(step.get("with"), dict):
            for name, globs in _filters(step["with"].get("filters")).items():
                found[(step["id"], name)] = globs
    return found


def outputs(jobs: Any) -> dict[tuple[str, str], list[str]]:
    """(job id, output name) -> the globs of the paths-filter filter that output carries."""
    found: dict[tuple[str, str], list[str]] = {}
    for job_id, job in jobs.items() if isinstance(jobs, dict) else ():
        by_step = step_filters(job)
        outs = job.get("outputs") if isinstance(job, dict) and \
            isinstance(job.get("outputs"), dict) else {}
        for name, value in outs.items() if by_step else ():
            m = _STEP_OUTPUT.match(value.strip()) if isinstance(value, str) else None
            if m and (m.group(1), m.group(2)) in by_step:
                found[(str(job_id), str(name))] = by_step[(m.group(1), m.group(2))]
    return found


def job_paths(condition: Any, found: dict[tuple[str, str], list[str]],
              ref: re.Pattern[str] | None = None) -> list[str]:
    """The globs a job's `if:` (a step's, with `ref` = `_STEPS`) selects when every `||`
    branch of it requires a filter output to be true (`needs.changes.outputs.orders ==
    'true'`); [] otherwise (no filter, a negation, a branch that runs whatever changed)."""
    if not isinstance(condition, str) or not found or len(condition) > 2000 or \
            re.search(r"!|==\s*'?false|\bfalse\b", condition):
        return []
    out: list[str] = []
    for branch in condition.split("||"):
        refs = [found.get((m.group(1), m.group(2))) for m in (ref or _NEEDS).finditer(branch)]
        if not refs or any(r is None for r in refs):
            return []
        out += [g for r in refs for g in r if g not in out]  # type: ignore[union-attr]
    return out


def step_paths(condition: Any, found: dict[tuple[str, str], list[str]]) -> list[str]:
    """The globs a step's `if: steps.<id>.outputs.<filter> == 'true'` selects (as
    `job_paths`), `found` being its job's `step_filters`."""
    return job_paths(condition, found, _STEPS)
