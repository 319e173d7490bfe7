"""GitLab CI: `.gitlab-ci.yml` at the root (the only place GitLab reads it), jobs read
structurally (`extends:` resolved); security templates from `include:` (templates and CI/CD
components); `include: local:` files and the recipes jobs run followed (`_pipelines`)."""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors._folders import named_dirs
from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import Document, ParseError, Signal, ci, globs, signal

SECURITY = re.compile(r"(?:^|/)(SAST|SAST-IaC|Secret-Detection|Dependency-Scanning|"
                      r"Container-Scanning|DAST|License-Scanning|Coverage-Fuzzing|API-Fuzzing)"
                      r"(?:\.latest)?(?:\.gitlab-ci\.yml|@|$)", re.I)
COMPONENT = re.compile(r"/(sast|secret-detection|dependency-scanning|container-scanning|dast)"
                       r"(?:@|$)", re.I)


def _includes(cfg: Any) -> list[Any]:
    inc = cfg.get("include") if isinstance(cfg, dict) else None
    return inc if isinstance(inc, list) else [inc] if inc else []


def _facts(p: ci.Pipeline) -> dict[str, Any]:
    cfg = p.raw
    stages = cfg.get("stages") if isinstance(cfg.get("stages"), list) else []
    return {"stages": sorted(str(s) for s in stages), "includes": len(_includes(cfg))}


_VARIABLE = re.compile(r"\$(?:\{\w+\}|\w+)")
MAX_CHANGES = 100  # paths of one job's `changes:` read; more: the job is not narrowed


def _changes(value: Any) -> list[str] | None:
    """The paths of a `changes:` (a list, or `{paths: [...], compare_to: …}`), a CI variable
    read as `*` (`services/$SERVICE/**` reaches every folder under `services/`); None when it
    is not one of those shapes."""
    value = value.get("paths") if isinstance(value, dict) else value
    if not isinstance(value, list) or not value or len(value) > MAX_CHANGES or \
            not all(isinstance(v, str) for v in value):
        return None
    return [_VARIABLE.sub("*", v) for v in value]


def _rules_paths(rules: Any) -> list[str]:
    """The paths a job (or the pipeline, `workflow: rules:`) runs for when every rule that can
    start it (`when: never` ones cannot) has `changes:`; [] when any runs whatever changed."""
    if not isinstance(rules, list):
        return []
    out: list[str] = []
    for rule in rules:
        if isinstance(rule, dict) and rule.get("when") == "never":
            continue
        paths = _changes(rule.get("changes")) if isinstance(rule, dict) else None
        if paths is None:
            return []
        out += [x for x in paths if x not in out]
    return out


def _inherited(cfg: Any, job: Any, key: str) -> Any:
    """`key` of a job or, when it has none, of the jobs it `extends:` (the later of a list
    wins; each base visited once, `ci.MAX_EXTENDS` levels deep)."""
    chain: list[Any] = []
    seen: set[str] = set()

    def walk(node: Any, depth: int) -> None:
        ext = node.get("extends")
        for base in [ext] if isinstance(ext, str) else ext if isinstance(ext, list) else ():
            parent = cfg.get(base) if isinstance(base, str) else None
            if isinstance(parent, dict) and base not in seen and depth < ci.MAX_EXTENDS:
                seen.add(base)
                walk(parent, depth + 1)
        chain.append(node)

    if isinstance(job, dict):
        walk(job, 0)
    return next((node[key] for node in reversed(chain) if key in node), None)


def _matrix(parallel: Any) -> list[str]:
    """The values of a `parallel: matrix:` (`- SERVICE: [orders, payments]`)."""
    rows = parallel.get("matrix") if isinstance(parallel, dict) else None
    out: list[str] = []
    for row in rows if isinstance(rows, list) else ():
        for value in row.values() if isinstance(row, dict) else ():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and "$" not in v and v not in out:
                    out.append(v)
    return out


def _more(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    yield from _security_includes(doc, p)
    found = _filters(doc, p)
    if found:  # a fact of the pipeline, on no line of its own
        yield Signal("gitlab_ci", (), found)


def _filters(doc: Document, p: ci.Pipeline) -> dict[str, Any]:
    """`{"filters": [record]}`, as github_actions', when the pipeline says which part of a
    monorepo a job is for: a job's `rules: changes:` (when every rule that can start it has
    them), `only: changes:` / `except: changes:`, the values of its `parallel: matrix:`, the
    repository folders its script names (`cd services/orders`); an `include:` item's own
    `rules: changes:` (a record of its span, id `include`); the pipeline's `workflow: rules:
    changes:`; {} otherwise. Each job record has its span (`line` to `end`, the next top-level
    key), so a later `include:` is not taken for the job's."""
    cfg = p.raw
    tops = sorted({int(cfg.line_of(k)) for k in cfg}) if hasattr(cfg, "line_of") else []
    flow = cfg.get("workflow")
    pipeline = _rules_paths(flow.get("rules")) if isinstance(flow, dict) else []
    events = {"pipeline": {"paths": pipeline, "paths_ignore": []}} if pipeline else {}
    jobs = []
    for job in sorted(p.jobs, key=lambda j: j.line):
        raw = job.raw
        only, never = (_inherited(cfg, raw, k) for k in ("only", "except"))
        paths = _rules_paths(_inherited(cfg, raw, "rules")) or \
            (_changes(only.get("changes")) or [] if isinstance(only, dict) else [])
        ignore = _changes(never.get("changes")) or [] if isinstance(never, dict) else []
        at = bisect_right(tops, job.line)
        later = tops[at:at + 1]
        # line 1 of .gitlab-ci.yml is the pipeline's own evidence: a job there starts at line 2
        first = 2 if p.path in ci.GITLAB else 1
        entry: dict[str, Any] = {"id": job.id, "line": max(job.line, first), "matrix":
                                 _matrix(_inherited(cfg, raw, "parallel")), "dir": ""}
        if later:
            entry["end"] = later[0]
        if paths or ignore:
            entry.update(paths=paths, paths_ignore=ignore)
        names = named_dirs(doc, "\n".join(st.run for st in job.steps if st.run))
        if names:
            entry["names"] = names
        jobs.append(entry)
    jobs = sorted(jobs + _included_rules(cfg, tops), key=lambda j: j["line"])
    if not events and not any(j["matrix"] or "paths" in j or "names" in j for j in jobs):
        return {}
    return {"filters": [{"workflow": p.path, "events": events, "jobs": jobs}]}


def _included_rules(cfg: Any, tops: list[int]) -> list[dict[str, Any]]:
    """A record per `include:` item whose own `rules:` have `changes:` (every rule that can
    include it): what it includes runs only for those paths. Its span: from its line to the
    next item's (or the next top-level key)."""
    items = [i for i in _includes(cfg) if isinstance(i, dict) and getattr(i, "line", 0)]
    out = []
    for n, item in enumerate(items):
        paths = _rules_paths(item.get("rules"))
        if not paths:
            continue
        ends = [int(items[n + 1].line)] if n + 1 < len(items) else []
        at = bisect_right(tops, item.line)
        ends += tops[at:at + 1]
        entry: dict[str, Any] = {"id": "include", "line": int(item.line), "matrix": [],
                                 "dir": "", "paths": paths, "paths_ignore": []}
        if ends:
            entry["end"] = min(ends)
        out.append(entry)
    return out


def _security_includes(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    for item in _includes(p.raw):
        ref = item.get("template") or item.get("component") if isinstance(item, dict) else None
        if not isinstance(ref, str):
            continue
        m = SECURITY.search(ref) or COMPONENT.search(ref)
        if m:
            name = m.group(1).lower()
            yield signal("gitlab_ci", doc.path, getattr(item, "line", 1),
                         f"include {ref.rsplit('/', 1)[-1]}", security_templates=[name])


INCLUDED = (".gitlab/**/*.y{a,}ml", "**/*.gitlab-ci.y{a,}ml",
            "{ci,.ci,gitlab,gitlab-ci,.gitlab-ci,templates,pipelines}/**/*.y{a,}ml")


class GitLabDetector(PipelineDetector):
    """The pipeline CI detector for GitLab, and the `filters` of the files `.gitlab-ci.yml`
    may include (`ci/orders.yml`: its jobs' `rules: changes:` narrow what they reach)."""

    def analyze(self, doc: Document) -> Iterable[Signal]:
        yield from super().analyze(doc)
        if doc.path in ci.GITLAB or not doc.name.endswith((".yml", ".yaml")) or \
                not globs.matches(doc.path, INCLUDED) or not doc.repo.exists(ci.GITLAB[0]):
            return
        try:
            p = ci.read_as(doc, self.id)
        except (ParseError, TypeError, AttributeError, ValueError):
            return  # reported (or not) as the included file's reading decides
        found = _filters(doc, p) if p is not None else {}
        if found:
            yield Signal(self.id, (), found)


DETECTOR = GitLabDetector("gitlab_ci", "GitLab CI pipelines (.gitlab-ci.yml at the root)",
                          "CI/CD pipelines on GitLab", ci.GITLAB,
                          own_facts={"stages": "set", "security_templates": "set",
                                     "includes": "count",
                                     # per pipeline (and included file): each job's
                                     # `changes:` paths, matrix, folders its script names
                                     "filters": "records"},
                          facts=_facts, more=_more,
                          anchors=ci.GITLAB, includes=ci.gitlab_local_includes,
                          included=INCLUDED)
