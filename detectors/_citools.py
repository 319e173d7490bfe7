"""Shared by the security, supply-chain and release detectors: which CI steps use a tool.

A tool is "in CI" when a step `uses:` its action (or a `docker://` image of it) or a script
invokes its command (words as `maturity_scan.sdk.ci.commands` reads them, plus `docker run IMAGE`
with options before the image). Broken CI YAML is not reported here (the CI detectors own
that error). Hooks of the root `.pre-commit-config.yaml` are read here too, for the detectors
that count them.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from maturity_scan.sdk import Document, ParseError
from maturity_scan.sdk.ci import (GITHUB_WORKFLOWS, GITLAB, Job, Pipeline, Step, commands, pipeline,
                                  split_words)

CI_FILES: tuple[str, ...] = (*GITHUB_WORKFLOWS, *GITLAB)
PRE_COMMIT = "/.pre-commit-config.yaml"


@dataclass(frozen=True)
class Hit:
    job: Job
    step: Step
    line: int
    via: str  # "action" (incl. docker:// images), "run", "workflow" (a job-level `uses:`)
    words: list[str] = field(default_factory=list)  # the matched command (run hits)

    @property
    def inputs(self) -> dict[str, Any]:
        return dict(self.step.inputs) if self.via == "action" else {}


def ci(doc: Document) -> Pipeline | None:
    """The pipeline of a root workflow / `.gitlab-ci.yml`, None otherwise or when broken."""
    try:
        return pipeline(doc)
    except ParseError:
        return None
    except (TypeError, AttributeError, ValueError):
        return None  # odd shapes (`steps: 5`) in hostile YAML: the CI detector's business


def action_name(uses: str) -> str:
    """`owner/repo/path@ref` -> `owner/repo/path`; `docker://img:tag` -> `docker://img`."""
    uses = uses.strip().lower()
    if uses.startswith("docker://"):
        return "docker://" + re.split(r"[:@]", uses[9:], maxsplit=1)[0]
    return uses.split("@", 1)[0]


def _image(image: str) -> str:
    """`registry/org/name:tag@sha` -> `org/name`, lower-cased."""
    image = image.lower().split("@", 1)[0]
    colon = image.find(":", image.rfind("/") + 1)  # the tag (not a registry's port)
    if colon >= 0:
        image = image[:colon]
    return "/".join(image.split("/")[-2:])


def _search(doc: Document, rx: re.Pattern[str], start: int, end: int) -> int | None:
    """The first line in [start, end) matching `rx`. Searches stay inside one step (or job),
    so a file of many steps, or a step of many commands, is read in linear time."""
    lines = doc.lines
    for i in range(max(start, 1) - 1, min(end - 1, len(lines))):
        if rx.search(lines[i]):
            return i + 1
    return None


def _line(doc: Document, text: str, start: int, end: int) -> int:
    if not text:
        return start
    return _search(doc, re.compile(re.escape(text)), start, end) or start


class _Spans:
    """Where each job (and, in GitHub workflows, each step) of a pipeline starts: a search
    that begins in one stops where the next begins."""

    def __init__(self, doc: Document, p: Pipeline) -> None:
        starts = {job.line for job in p.jobs}
        if p.system == "github_actions":
            starts |= {step.line for job in p.jobs for step in job.steps}
        self.starts = sorted(starts)
        self.last = len(doc.lines) + 1

    def end(self, start: int) -> int:
        i = bisect_right(self.starts, start)
        return self.starts[i] if i < len(self.starts) else self.last


# `docker run` options that take a value (so `-v a:b image` finds the image, not `a:b`)
_VALUE_OPTS = {"-v", "--volume", "-e", "--env", "--env-file", "-w", "--workdir", "--name",
               "--network", "--net", "--entrypoint", "-u", "--user", "--mount", "-p",
               "--publish", "--platform", "-l", "--label", "--pull", "--cpus", "-m", "--memory",
               "--add-host", "--security-opt", "--cap-add", "--group-add", "--tmpfs", "-h"}


_CONTAINER_RUN = re.compile(r"\s*+(?:sudo\s++)?(?:docker|podman)\s++(?:container\s++)?run\s++(.*)")


def _container_runs(script: str) -> Iterator[list[str]]:
    """`docker|podman run [options] IMAGE args` as `[name-of-image, *args]` (a command of
    its own, not text in an echo)."""
    for line in re.sub(r"\\\n", " ", script).splitlines():
        for seg in re.split(r"\|\||&&|[;|&]|\$\(", line):
            m = _CONTAINER_RUN.match(seg)
            if not m:
                continue
            try:
                words = split_words(m.group(1), operators=False)  # shlex.split, in linear time
            except ValueError:
                continue
            i = 0
            while i < len(words) and words[i].startswith("-"):
                i += 1 if "=" in words[i] or words[i] not in _VALUE_OPTS else 2
            if i < len(words):
                yield [_image(words[i]).rsplit("/", 1)[-1], *words[i + 1:]]


_RUN_KEY = re.compile(r"^\s*(-\s+)?run\s*:")


def _script_line(doc: Document, p: Pipeline, job: Job, step: Step, end: int) -> int:
    """Where a step's script starts (so a tool's name in `image:` above it is not taken)."""
    if p.system == "gitlab_ci" and isinstance(job.raw, dict):
        keys = [k for k in ("before_script", "script") if k in job.raw]
        return min((int(job.raw.line_of(k)) for k in keys), default=step.line) \
            if hasattr(job.raw, "line_of") else step.line
    return _search(doc, _RUN_KEY, step.line, end) or step.line


def _program_patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """How a program's name is found on a line: as a command word (maybe with a path), else
    as a word at all."""
    name = re.escape(name)
    return (re.compile(r"(?:^|[\s;&|(`'\"])(?:[\w.~$-]*/)*" + name + r"(?=[\s;&|)`'\":]|$)"),
            re.compile(r"(?<![\w.-])" + name + r"(?![\w-])"))


def find(doc: Document, actions: Iterable[str] = (), programs: Iterable[str] = (),
         images: Iterable[str] = ()) -> Iterator[Hit]:
    """Steps of this CI file that use one of `actions` (prefixes, lower-case, e.g.
    "snyk/actions/"), run one of `programs`, or are `docker://` steps of `images` (`org/name`)."""
    p = ci(doc)
    if p is None:
        return
    actions, programs, images = tuple(actions), set(programs), set(images)
    spans = _Spans(doc, p)
    for job in p.jobs:
        if job.uses and actions and action_name(job.uses).startswith(actions):
            yield Hit(job, Step(job.line, job.id, job.uses),
                      _line(doc, job.uses, job.line, spans.end(job.line)), "workflow")
        for step in job.steps:
            end = spans.end(step.line)
            if p.system == "github_actions" and step.uses:
                name = action_name(step.uses)
                if (actions and name.startswith(actions)) or \
                        (name.startswith("docker://") and _image(name[9:]) in images):
                    yield Hit(job, step, _line(doc, step.uses, step.line, end), "action")
            if step.run and programs:
                yield from _run_hits(doc, p, job, step, programs, end)


def _run_hits(doc: Document, p: Pipeline, job: Job, step: Step, programs: set[str],
              end: int) -> Iterator[Hit]:
    """The commands of a step's script that run one of `programs`, each at the first line of
    the step's script naming it (looked up once per program, not once per command)."""
    start = _script_line(doc, p, job, step, end)
    end = max(end, start + 1)
    where: dict[str, int] = {}
    seen: set[tuple[int, tuple[str, ...]]] = set()
    for words in [*commands(step.run), *_container_runs(step.run)]:
        words[0] = re.sub(r"(?<=.)@[\w.^~-]*$", "", words[0])  # npx tool@1.2
        if words[0] not in programs:
            continue
        if words[0] not in where:
            command, word = _program_patterns(words[0])
            where[words[0]] = _search(doc, command, start, end) or \
                _search(doc, word, start, end) or step.line
        line = where[words[0]]
        if (line, tuple(words[:3])) not in seen:
            seen.add((line, tuple(words[:3])))
            yield Hit(job, step, line, "run", words)


_MATRIX = re.compile(r"\$\{\{\s*matrix\.([\w-]+)\s*}}")


def matrix_values(job: Job, value: Any) -> list[Any] | None:
    """The values a `${{ matrix.x }}` input takes in the job's matrix (with `include`), or
    None when `value` is not a matrix expression."""
    m = _MATRIX.search(value) if isinstance(value, str) else None
    if m is None:
        return None
    strategy = job.raw.get("strategy") if isinstance(job.raw, dict) else None
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if not isinstance(matrix, dict):
        return []
    axis = matrix.get(m.group(1))
    found = list(axis) if isinstance(axis, list) else []
    include = matrix.get("include")
    for inc in include if isinstance(include, list) else []:
        if isinstance(inc, dict) and m.group(1) in inc:
            found.append(inc[m.group(1)])
    return found


def gitlab_includes(doc: Document) -> Iterator[tuple[str, int]]:
    """`include: template:` names and `include: component:` paths of `.gitlab-ci.yml`, with
    their lines (CI/CD components replace templates: `…/components/secret-detection/…@1`)."""
    p = ci(doc)
    if p is None or p.system != "gitlab_ci" or not isinstance(p.raw, dict):
        return
    inc = p.raw.get("include")
    items = inc if isinstance(inc, list) else [inc]
    for item in items:
        for key in ("template", "component"):
            if isinstance(item, dict) and isinstance(item.get(key), str):
                yield item[key], getattr(item, "line", 0) or p.raw.line_of("include")


def include_detail(name: str) -> str:
    return f"component {name.split('@')[0]}" if "@" in name else f"template {name}"


@dataclass(frozen=True)
class Hook:
    repo: str
    id: str
    line: int
    entry: str = ""


def pre_commit_hooks(doc: Document, strict: bool = False) -> list[Hook]:
    """Hooks of the root `.pre-commit-config.yaml`. Parse errors are only raised when
    `strict` (the pre_commit detector owns them)."""
    if doc.path != PRE_COMMIT.lstrip("/"):
        return []
    try:
        cfg = doc.yaml
    except ParseError:
        if strict:
            raise
        return []
    out: list[Hook] = []
    if not isinstance(cfg, dict) or not isinstance(cfg.get("repos"), list):
        return out
    for repo in cfg["repos"]:
        if not isinstance(repo, dict) or not isinstance(repo.get("hooks"), list):
            continue
        url = str(repo.get("repo") or "")
        for hook in repo["hooks"]:
            if isinstance(hook, dict) and hook.get("id") is not None:
                entry = hook.get("entry")
                out.append(Hook(url, str(hook["id"]), getattr(hook, "line", 0) or 1,
                                entry if isinstance(entry, str) else ""))
    return out
