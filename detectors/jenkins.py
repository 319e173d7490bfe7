"""Jenkins: a `Jenkinsfile` (read as text, never run): its stages and `sh` steps; a stage named
for a deploy, release or rollout deploys. A stage whose `when { changeset "…" }` decides alone
whether it runs records its patterns as `filters` (as github_actions does), for `scan
--components` to give its evidence to the services those paths reach."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from maturity_scan.detectors._pipelines import PipelineDetector
from maturity_scan.sdk import Document, Signal, ci, signal


def _stages(p: ci.Pipeline) -> dict[str, Any]:
    return {"stages": sorted({j.id for j in p.jobs})}


def _deploy_stages(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    for job in p.jobs:
        if job.id.lower().startswith(("deploy", "release to", "rollout")):
            yield signal("jenkins", p.path, job.line, f"stage {job.id}", deploys=True)


_WHEN = re.compile(r"\bwhen\s*+\{")
_ANY_OF = re.compile(r"\banyOf\s*+\{")
_CHANGESET = re.compile(r"""\bchangeset\s*+(?:\(\s*+)?(?:pattern\s*+:\s*+)?(['"])([^'"\n]{1,200})\1""")
_CONDITION = re.compile(r"""\b([A-Za-z]\w*)\b\s*+(?=[{('"]|\w+\s*:)""")
_QUOTED = re.compile(r"""(['"])[^'"\n]*\1""")
# conditions that only narrow what a changeset selects (all of them must hold)
_NARROWING = {"changeset", "allOf", "anyOf", "branch", "environment", "expression",
              "buildingTag", "tag", "changeRequest", "triggeredBy", "equals", "pattern",
              "comparator", "caseSensitive", "beforeAgent", "beforeInput", "beforeOptions",
              "name", "value", "expected", "actual"}
_PATHS_ONLY = {"changeset", "pattern", "caseSensitive"}
MAX_WHEN = 4000  # characters of a `when` block read
MAX_ANY_OF = 20  # anyOf blocks in one `when`; more: not narrowed


def _blocks(rx: re.Pattern[str], text: str) -> Iterator[str]:
    """The `{ … }` blocks `rx` opens in `text` (braces matched, at most MAX_WHEN each; an
    unclosed one is none)."""
    for m in rx.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and i - m.end() < MAX_WHEN:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if not depth:
                yield text[m.end():i]
                break
            i += 1


def _conditions(block: str) -> set[str]:
    """The names a `when` block calls (`branch 'main'`, `anyOf {`), quoted text left out."""
    return set(_CONDITION.findall(_QUOTED.sub('""', block)))


def _stage_paths(stage: str) -> list[str]:
    """The changeset patterns of a stage's `when` block when they decide alone (with allOf and
    other narrowing conditions, an anyOf of changesets only); none under `not`, an anyOf with
    another condition, or a regular expression comparator."""
    block = next(_blocks(_WHEN, stage), "")
    paths = [m.group(2).strip().lstrip("/") for m in _CHANGESET.finditer(block)]
    if not paths or "REGEXP" in block or block.count("anyOf") > MAX_ANY_OF or \
            _conditions(block) - _NARROWING or any(
            _conditions(any_of) - _PATHS_ONLY for any_of in _blocks(_ANY_OF, block)):
        return []
    return [p for p in paths if p and "$" not in p]


def _pairs(text: str) -> dict[int, int]:
    """Offset of each `{` -> offset of its `}`, braces inside strings and comments left out (one
    pass); an unclosed `{` has none."""
    out: dict[int, int] = {}
    stack: list[int] = []
    i, n, quote = 0, len(text), ""
    while i < n:
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif c in "'\"":
            quote = text[i:i + 3] if text.startswith(c * 3, i) else c
            i += len(quote)
            continue
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif c == "{":
            stack.append(i)
        elif c == "}" and stack:
            out[stack.pop()] = i
        i += 1
    return out


def _filters(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    """Each stage's record (spanning to the next stage); a stage without a `when` of its own
    inside one with changesets (`stages { … }`, `parallel { … }`) takes that stage's."""
    lines, text = doc.lines, doc.text
    jobs = sorted(p.jobs, key=lambda j: j.line)
    starts, at = [0], 0  # offset of each line, counted as `doc.lines` counts them
    for line in text.splitlines(keepends=True):
        at += len(line)
        starts.append(at)
    pairs = _pairs(text)
    records, blocks = [], []  # blocks: (open, close, paths) of the stages around
    for n, job in enumerate(jobs):
        end = jobs[n + 1].line if n + 1 < len(jobs) else len(lines) + 1
        entry: dict[str, Any] = {"id": job.id, "line": job.line, "matrix": [], "dir": ""}
        if n + 1 < len(jobs):
            entry["end"] = end
        paths = _stage_paths("\n".join(lines[job.line - 1:end - 1]))
        opened = text.find("{", starts[job.line - 1] if job.line - 1 < len(starts) else 0)
        while blocks and blocks[-1][1] < opened:
            blocks.pop()
        if not paths and blocks:
            paths = blocks[-1][2]
        if opened in pairs:
            blocks.append((opened, pairs[opened], paths))
        if paths:
            entry.update(paths=paths, paths_ignore=[])
        records.append(entry)
    if any("paths" in r for r in records):  # a fact of the pipeline, on no line of its own
        yield Signal("jenkins", (), {"filters": [{"workflow": p.path, "events": {},
                                                 "jobs": records}]})


def _more(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    yield from _deploy_stages(doc, p)
    yield from _filters(doc, p)


DETECTOR = PipelineDetector("jenkins", "Jenkins pipelines (Jenkinsfile)",
                            "CI/CD pipelines on Jenkins", ci.JENKINS,
                            own_facts={"stages": "set", "filters": "records"},
                            facts=_stages, more=_more,
                            anchors=("Jenkinsfile",))
