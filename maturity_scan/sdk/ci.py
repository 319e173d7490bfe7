"""CI pipelines read structurally: jobs and steps, each step an action it uses and/or a shell
script it runs (GitHub Actions, GitLab CI, CircleCI, Azure Pipelines, Bitbucket Pipelines,
Jenkins). A tool counts as "run in CI" when a step uses its action or a script line invokes its
command (`find`), never because its name appears in a comment or an unrelated string.

Only the places each platform reads count (SIGNALS.md): workflows under the root
`.github/workflows/`, `.gitlab-ci.yml` at the root, and so on.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from maturity_scan.model import Evidence, Signal
from maturity_scan.sdk import recipes
from maturity_scan.sdk.document import Document, ParseError
from maturity_scan.sdk.shell import Call, calls, commands, container_runs, image_name

GITHUB_WORKFLOWS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
GITLAB = (".gitlab-ci.yml",)
CIRCLECI = (".circleci/config.yml",)
AZURE = ("azure-pipelines.yml", "azure-pipelines.yaml")
AZURE_PATTERNS = (*AZURE, ".azure-pipelines/**/*.y{a,}ml")
BITBUCKET = ("bitbucket-pipelines.yml",)
JENKINS = ("Jenkinsfile", "Jenkinsfile.*", "*.jenkinsfile")
CI_PATTERNS: tuple[str, ...] = (*GITHUB_WORKFLOWS, *GITLAB, *CIRCLECI, *AZURE_PATTERNS,
                                *BITBUCKET, *JENKINS)
# Local composite actions: steps a workflow runs through `uses: ./.github/actions/x`.
GITHUB_ACTIONS_LOCAL = (".github/actions/**/action.{yml,yaml}",)
CI_FILES: tuple[str, ...] = (*GITHUB_WORKFLOWS, *GITHUB_ACTIONS_LOCAL, *GITLAB)  # where tool
# detectors look for steps


@dataclass(frozen=True)
class Step:
    line: int
    name: str = ""
    uses: str = ""  # "owner/repo[/path]@ref" (GitHub), image or orb elsewhere
    run: str = ""  # shell script text
    inputs: Mapping[str, Any] = field(default_factory=dict)  # GitHub `with:`
    condition: str = ""  # GitHub `if:` (see `job_events`)
    workdir: str = ""  # GitHub `working-directory` (the step's, else its job's or workflow's)

    @property
    def action(self) -> str:
        """`uses` without its ref, lower-cased: "aquasecurity/trivy-action"."""
        return self.uses.split("@", 1)[0].lower()

    @property
    def ref(self) -> str:
        return self.uses.split("@", 1)[1] if "@" in self.uses else ""


@dataclass(frozen=True)
class Job:
    id: str
    line: int
    steps: tuple[Step, ...]
    environment: str = ""  # deployment environment (GitHub `environment`, GitLab `environment`)
    services: tuple[str, ...] = ()  # service container images
    uses: str = ""  # a reusable workflow called by this job (GitHub)
    raw: Any = None
    condition: str = ""  # GitHub `if:` (see `job_events`)
    container: str = ""  # the image the job's steps run in (GitHub `container:`)


@dataclass(frozen=True)
class Pipeline:
    system: str  # signal kind of the CI system: "github_actions", "gitlab_ci", …
    path: str
    jobs: tuple[Job, ...]
    triggers: tuple[str, ...] = ()
    raw: Any = None

    def steps(self) -> Iterator[tuple[Job, Step]]:
        for job in self.jobs:
            for step in job.steps:
                yield job, step


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _line(node: Any, key: Any = None, default: int = 1) -> int:
    if key is not None and hasattr(node, "line_of"):
        return int(node.line_of(key))
    return int(getattr(node, "line", default) or default)


def _env_name(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return str(value["name"])
    return ""


def _github_triggers(wf: Mapping[Any, Any]) -> tuple[str, ...]:
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads the bare key `on` as true
    if isinstance(on, str):
        return (on,)
    if isinstance(on, list):
        return tuple(str(t) for t in on)
    if isinstance(on, dict):
        return tuple(str(t) for t in on)
    return ()


def _workdir(node: Mapping[Any, Any], default: str) -> str:
    """`defaults: run: working-directory:` of a workflow or job, else `default`."""
    d = node.get("defaults")
    run = d.get("run") if isinstance(d, dict) else None
    wd = run.get("working-directory") if isinstance(run, dict) else None
    return wd if isinstance(wd, str) else default


def _github(doc: Document, wf: Any) -> Pipeline | None:
    if not isinstance(wf, dict) or not isinstance(wf.get("jobs"), dict):
        return None
    jobs = []
    top = _workdir(wf, "")
    for job_id, job in wf["jobs"].items():
        if not isinstance(job, dict):
            continue
        steps = []
        job_dir = _workdir(job, top)
        for raw in _list(job.get("steps")):
            if not isinstance(raw, dict):
                continue
            cond = raw.get("if")
            wd = raw.get("working-directory")
            steps.append(Step(_line(raw), str(raw.get("name") or ""),
                              str(raw.get("uses") or ""), str(raw.get("run") or ""),
                              raw.get("with") if isinstance(raw.get("with"), dict) else {},
                              cond if isinstance(cond, str) else "",
                              wd if isinstance(wd, str) else job_dir))
        services = job.get("services") if isinstance(job.get("services"), dict) else {}
        images = tuple(str(s.get("image", name)) if isinstance(s, dict) else str(s)
                       for name, s in services.items())
        uses = job.get("uses")
        container = job.get("container")
        container = container.get("image") if isinstance(container, dict) else container
        cond = job.get("if")
        jobs.append(Job(str(job_id), _line(wf["jobs"], job_id), tuple(steps),
                        _env_name(job.get("environment")), images,
                        uses if isinstance(uses, str) else "", job,
                        cond if isinstance(cond, str) else "",
                        container if isinstance(container, str) else ""))
    return Pipeline("github_actions", doc.path, tuple(jobs), _github_triggers(wf), wf)


_GITLAB_RESERVED = {"stages", "variables", "include", "default", "workflow", "image",
                    "services", "before_script", "after_script", "cache", "pages_disabled"}


def _script(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_script(v) for v in value)
    return ""


_GITLAB_INHERITED = ("before_script", "script", "after_script", "image", "services",
                     "environment")
MAX_EXTENDS = 10  # GitLab's own limit on `extends:` levels


def _extended(cfg: Mapping[Any, Any], job: Mapping[Any, Any]) -> dict[str, Any]:
    """The keys a GitLab job takes from the jobs it `extends:` (hidden `.base` jobs or others,
    the later of a list winning, its own keys winning over all), `MAX_EXTENDS` levels deep,
    never round a cycle."""
    merged: dict[str, Any] = {}
    chain: list[Mapping[Any, Any]] = []

    def walk(node: Mapping[Any, Any], depth: int, seen: frozenset[str]) -> None:
        ext = node.get("extends")
        for base in ([ext] if isinstance(ext, str) else ext if isinstance(ext, list) else []):
            parent = cfg.get(base) if isinstance(base, str) else None
            if isinstance(parent, dict) and base not in seen and depth < MAX_EXTENDS:
                walk(parent, depth + 1, seen | {base})
        chain.append(node)

    walk(job, 0, frozenset())
    for node in chain:
        for key in _GITLAB_INHERITED:
            if key in node:
                merged[key] = node[key]
    return merged


def _gitlab(doc: Document, cfg: Any) -> Pipeline | None:
    if not isinstance(cfg, dict):
        return None
    jobs = []
    for name, raw_job in cfg.items():
        if not isinstance(name, str) or name in _GITLAB_RESERVED or name.startswith("."):
            continue
        if not isinstance(raw_job, dict) or not any(k in raw_job for k in (
                "script", "trigger", "extends", "run")):
            continue
        job = {**_extended(cfg, raw_job), **raw_job} if "extends" in raw_job else raw_job
        script = "\n".join(_script(job.get(k)) for k in ("before_script", "script",
                                                         "after_script"))
        image = job.get("image")
        image = image.get("name") if isinstance(image, dict) else image
        line = _line(raw_job, "script") if "script" in raw_job else _line(cfg, name)
        step = Step(line, name, str(image or ""), script)
        services = tuple(str(s.get("name") if isinstance(s, dict) else s)
                         for s in _list(job.get("services")) if s)
        jobs.append(Job(name, _line(cfg, name), (step,), _env_name(job.get("environment")),
                        services, "", raw_job))
    return Pipeline("gitlab_ci", doc.path, tuple(jobs), (), cfg)


def _circleci(doc: Document, cfg: Any) -> Pipeline | None:
    if not isinstance(cfg, dict) or not isinstance(cfg.get("jobs"), dict):
        return None
    jobs = []
    for job_id, job in cfg["jobs"].items():
        if not isinstance(job, dict):
            continue
        steps = []
        for raw in _list(job.get("steps")):
            if isinstance(raw, dict) and "run" in raw:
                run = raw["run"]
                cmd = run.get("command") if isinstance(run, dict) else run
                steps.append(Step(_line(raw), "", "", cmd if isinstance(cmd, str) else ""))
            elif isinstance(raw, dict) and raw:
                steps.append(Step(_line(raw), "", str(next(iter(raw)))))  # an orb command
            elif isinstance(raw, str):
                steps.append(Step(_line(job, "steps"), "", raw))
        images = tuple(str(d.get("image")) for d in _list(job.get("docker"))
                       if isinstance(d, dict) and d.get("image"))
        jobs.append(Job(str(job_id), _line(cfg["jobs"], job_id), tuple(steps), "",
                        images[1:], "", job))  # the first image is the job's own container
    return Pipeline("circleci", doc.path, tuple(jobs), (), cfg)


_AZURE_SCRIPTS = ("script", "bash", "powershell", "pwsh")


def _azure_jobs(node: Any, out: list[Job]) -> None:
    """Jobs of an Azure pipeline at any depth (stages -> jobs -> steps, or steps alone)."""
    if not isinstance(node, dict):
        return
    for stage in _list(node.get("stages")):
        _azure_jobs(stage, out)
    for job in _list(node.get("jobs")):
        _azure_jobs(job, out)
    if isinstance(node.get("steps"), list) or "deployment" in node:
        steps = list(_list(node.get("steps")))
        strategy = node.get("strategy")
        if isinstance(strategy, dict):  # deployment jobs nest steps under a strategy
            for phase in strategy.values():
                for hook in (phase.values() if isinstance(phase, dict) else ()):
                    if isinstance(hook, dict):
                        steps.extend(_list(hook.get("steps")))
        parsed = []
        for raw in steps:
            if not isinstance(raw, dict):
                continue
            script = next((raw[k] for k in _AZURE_SCRIPTS if isinstance(raw.get(k), str)), "")
            task = raw.get("task") if isinstance(raw.get("task"), str) else ""
            inputs = raw.get("inputs") if isinstance(raw.get("inputs"), dict) else {}
            parsed.append(Step(_line(raw), str(raw.get("displayName") or ""), task, script,
                               inputs))
        name = node.get("deployment") or node.get("job") or "job"
        out.append(Job(str(name), _line(node), tuple(parsed),
                       _env_name(node.get("environment")) if "deployment" in node else "",
                       (), "", node))


def _azure(doc: Document, cfg: Any) -> Pipeline | None:
    if not isinstance(cfg, dict) or not any(k in cfg for k in ("stages", "jobs", "steps")):
        return None
    jobs: list[Job] = []
    _azure_jobs(cfg, jobs)
    return Pipeline("azure_pipelines", doc.path, tuple(jobs), (), cfg)


def _bitbucket_steps(node: Any) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _bitbucket_steps(item)
    elif isinstance(node, dict):
        if isinstance(node.get("step"), dict):
            yield node["step"]
        for key in ("parallel", "steps", "stage"):
            if key in node:
                yield from _bitbucket_steps(node[key])


def _bitbucket(doc: Document, cfg: Any) -> Pipeline | None:
    if not isinstance(cfg, dict) or not isinstance(cfg.get("pipelines"), dict):
        return None
    jobs = []
    for trigger, branch in cfg["pipelines"].items():
        groups = branch.values() if isinstance(branch, dict) else [branch]
        for group in groups:
            for step in _bitbucket_steps(group):
                script = _script(step.get("script"))
                name = str(step.get("name") or trigger)
                jobs.append(Job(name, _line(step), (Step(_line(step), name, "", script),),
                                str(step.get("deployment") or ""), (), "", step))
    return Pipeline("bitbucket_pipelines", doc.path, tuple(jobs),
                    tuple(str(k) for k in cfg["pipelines"]), cfg)


# Read in one pass over the text, whatever it holds: every run of whitespace is taken
# possessively (`\s*+`, no backtracking into it), a line's leading blanks never span lines, an
# unclosed string ends at the end of its stage, and line numbers are counted forward once.
_JENKINS_PIPELINE = re.compile(r"^[^\S\n]*+(?:pipeline|node)\b\s*+[({]", re.M)
_JENKINS_STAGE = re.compile(r"""\bstage\s*+\(\s*+(['"])(.+?)\1""")
_JENKINS_SH = re.compile(r"""\b(?:sh|bat|powershell)\s*+(?:\(\s*+)?(?:script\s*+:\s*+)?"""
                         r"""('{3}|"{3}|'|")(.*?)\1""", re.S)


class _LineCounter:
    """1-based line numbers of offsets asked for in increasing order, in linear time overall."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.offset:  # not expected: count afresh
            return self.text.count("\n", 0, offset) + 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _jenkins(doc: Document) -> Pipeline | None:
    """A Jenkinsfile read as text (Groovy is never run): one job per `stage('…')`, its
    `sh '…'` steps as scripts."""
    text = doc.text
    if not _JENKINS_PIPELINE.search(text) and not _JENKINS_STAGE.search(text):
        return None
    stages = [(m.start(), m.group(2)) for m in _JENKINS_STAGE.finditer(text)] or [(0, "build")]
    lines = _LineCounter(text)
    jobs = []
    for i, (start, name) in enumerate(stages):
        end = stages[i + 1][0] if i + 1 < len(stages) else len(text)
        line = lines.at(start)
        steps = tuple(Step(lines.at(m.start()), name, "", m.group(2))
                      for m in _JENKINS_SH.finditer(text, start, end))
        jobs.append(Job(name, line, steps, "", (), "", None))
    return Pipeline("jenkins", doc.path, tuple(jobs), (), None)


def _is_jenkinsfile(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "Jenkinsfile" or name.endswith(".jenkinsfile") or \
        (name.startswith("Jenkinsfile.") and name.rsplit(".", 1)[-1] not in NOT_JENKINS)


NOT_JENKINS = {"md", "txt", "rst", "adoc", "html", "png", "svg", "json", "yaml", "yml", "bak"}


def _composite(doc: Document, action: Any) -> Pipeline | None:
    """A local composite action (`runs.using: composite`) as a pipeline of one job, "action",
    whose steps are its `runs.steps`."""
    runs = action.get("runs") if isinstance(action, dict) else None
    if not isinstance(runs, dict) or not isinstance(runs.get("steps"), list):
        return None
    wf = {"jobs": {"action": {"steps": runs["steps"]}}}
    p = _github(doc, wf)
    if p is None:
        return None
    job = p.jobs[0]
    job = Job(job.id, int(getattr(runs, "line", 1) or 1), job.steps, raw=runs)
    return Pipeline("github_actions", doc.path, (job,), (), action)


def _read(doc: Document) -> Pipeline | None:
    path = doc.path
    if path.startswith(".github/workflows/") and path.count("/") == 2:
        return _github(doc, doc.yaml)
    if path.startswith(".github/actions/") and doc.name in ("action.yml", "action.yaml"):
        return _composite(doc, doc.yaml)
    if path == ".gitlab-ci.yml":
        return _gitlab(doc, doc.yaml)
    if path == ".circleci/config.yml":
        return _circleci(doc, doc.yaml)
    if path in AZURE or path.startswith(".azure-pipelines/"):
        return _azure(doc, doc.yaml)
    if path == "bitbucket-pipelines.yml":
        return _bitbucket(doc, doc.yaml)
    if _is_jenkinsfile(path):
        return _jenkins(doc)
    return None


_READERS: dict[str, Callable[[Document, Any], Pipeline | None]] = {
    "github_actions": _github, "gitlab_ci": _gitlab, "circleci": _circleci,
    "azure_pipelines": _azure, "bitbucket_pipelines": _bitbucket}


def read_as(doc: Document, system: str) -> Pipeline | None:
    """A file another CI file includes (GitLab `include: local:`), read as `system`'s format
    wherever it lies. Parse errors propagate as ParseError."""
    reader = _READERS.get(system)
    return doc.cached(f"ci:{system}", lambda: reader(doc, doc.yaml)) if reader else None


def gitlab_local_includes(p: Pipeline) -> Iterator[tuple[str, int]]:
    """`include: local:` paths of a GitLab pipeline (and bare `include: /path.yml` strings), and
    of its child pipelines (`trigger: include:`), root-relative, with their lines; wildcards and
    paths leaving the root are left out."""
    if not isinstance(p.raw, dict):
        return
    items: list[tuple[Any, Any]] = []
    for node in [p.raw, *(job.get("trigger") for job in p.raw.values() if isinstance(job, dict))]:
        inc = node.get("include") if isinstance(node, dict) else None  # a child pipeline too
        items += [(i, node) for i in (inc if isinstance(inc, list) else [inc] if inc else [])]
    for item, node in items:
        path = item.get("local") if isinstance(item, dict) else \
            item if isinstance(item, str) and not item.startswith(("http://", "https://")) \
            else None
        if not isinstance(path, str) or "*" in path or "$" in path:
            continue
        parts = [s for s in path.split("/") if s not in ("", ".")]
        if ".." in parts or not parts:
            continue
        line = getattr(item, "line", 0) or (node.line_of("include")
                                            if hasattr(node, "line_of") else 1)
        yield "/".join(parts), int(line)


def pipeline(doc: Document) -> Pipeline | None:
    """The CI pipeline a file defines, or None when it is not one (read once per Document).
    Parse errors propagate as ParseError."""
    return doc.cached("ci", lambda: _read(doc))  # type: ignore[no-any-return]


def lenient_pipeline(doc: Document) -> Pipeline | None:
    """The pipeline, or None also when the file is broken: for detectors that look at CI files
    for their own tool (the CI system's detector owns the file's errors)."""
    try:
        return pipeline(doc)
    except ParseError:
        return None
    except (TypeError, AttributeError, ValueError):
        return None  # odd shapes (`steps: 5`) in hostile YAML: the CI detector's business


# --- which steps use a tool ------------------------------------------------------------------
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


def action_name(uses: str) -> str:
    """`owner/repo/path@ref` -> `owner/repo/path`; `docker://img:tag` -> `docker://img`."""
    uses = uses.strip().lower()
    if uses.startswith("docker://"):
        return "docker://" + re.split(r"[:@]", uses[9:], maxsplit=1)[0]
    return uses.split("@", 1)[0]


def _search(doc: Document, rx: re.Pattern[str], start: int, end: int) -> int | None:
    """The first line in [start, end) matching `rx`. Searches stay inside one step (or job),
    so a file of many steps, or a step of many commands, is read in linear time."""
    lines = doc.lines
    for i in range(max(start, 1) - 1, min(end - 1, len(lines))):
        if rx.search(lines[i]):
            return i + 1
    return None


def _text_line(doc: Document, text: str, start: int, end: int) -> int:
    if not text:
        return start
    return _search(doc, re.compile(re.escape(text)), start, end) or start


class Spans:
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
    "snyk/actions/"), run one of `programs` (as `shell.commands` reads scripts, plus
    `docker run IMAGE`), or are `docker://` steps of `images` (`org/name`). A broken file
    has none (`lenient_pipeline`)."""
    p = lenient_pipeline(doc)
    if p is None:
        return
    actions, programs, images = tuple(actions), set(programs), set(images)
    spans = Spans(doc, p)
    for job in p.jobs:
        if job.uses and actions and action_name(job.uses).startswith(actions):
            yield Hit(job, Step(job.line, job.id, job.uses),
                      _text_line(doc, job.uses, job.line, spans.end(job.line)), "workflow")
        for step in job.steps:
            end = spans.end(step.line)
            if p.system == "github_actions" and step.uses:
                name = action_name(step.uses)
                if (actions and name.startswith(actions)) or \
                        (name.startswith("docker://") and image_name(name[9:]) in images):
                    yield Hit(job, step, _text_line(doc, step.uses, step.line, end), "action")
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
    for words in [*commands(step.run), *container_runs(step.run)]:
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
    p = lenient_pipeline(doc)
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


# --- when a GitHub job runs --------------------------------------------------------------------
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "merge_group"})
_EXPR = re.compile(r"^\s*\$\{\{(.*)}}\s*$", re.S)
_EVENT_TEST = re.compile(r"""^\(*\s*github\.event_name\s*(==|!=)\s*['"]([\w-]+)['"]\s*\)*$""")
_REF_BRANCH = re.compile(r"""^\(*\s*github\.ref\s*==\s*['"]refs/heads/""")
_REF_TAG = re.compile(r"""^\(*\s*(?:github\.ref\s*==\s*['"]refs/tags/|"""
                      r"""startsWith\(\s*github\.ref\s*,\s*['"]refs/tags/)""", re.I)
_EVENT_IN = re.compile(r"""^\(*\s*contains\(\s*fromJSON\(\s*'\[([^\]]*)\]'\s*\)\s*,\s*"""
                       r"""github\.event_name\s*\)\s*\)*$""", re.I)


def narrow_events(events: Iterable[str], conditions: str | Iterable[str]) -> tuple[str, ...]:
    """`job_events` through each of `conditions` in turn (a job's `if:`, then a step's)."""
    out = tuple(sorted(set(events)))
    for cond in [conditions] if isinstance(conditions, str) else conditions:
        out = job_events(out, cond) if cond else out
    return out


def job_events(triggers: Iterable[str], condition: str) -> tuple[str, ...]:
    """The events a job runs on: the workflow's triggers narrowed by the job's `if:`. Read:
    `github.event_name == 'x'` / `!= 'x'`, `contains(fromJSON('["a","b"]'), github.event_name)`,
    `github.ref == 'refs/heads/…'` (not a pull request's merge ref), `github.ref ==
    'refs/tags/…'` / `startsWith(github.ref, 'refs/tags/')` (a tag push), joined by `&&`, or
    event tests alone joined by `||`. Anything else leaves the events as they are."""
    events = set(triggers)
    m = _EXPR.match(condition or "")
    expr = (m.group(1) if m else condition or "").strip()
    if not expr or len(expr) > 2000:
        return tuple(sorted(events))
    if "||" in expr:
        allowed: set[str] = set()
        for part in expr.split("||"):
            e = _EVENT_TEST.match(part.strip())
            if e is None or e.group(1) != "==":
                return tuple(sorted(events))
            allowed.add(e.group(2))
        return tuple(sorted(events & allowed))
    for part in expr.split("&&"):
        part = part.strip()
        if (e := _EVENT_TEST.match(part)) is not None:
            events = events & {e.group(2)} if e.group(1) == "==" else events - {e.group(2)}
        elif (e := _EVENT_IN.match(part)) is not None:
            events &= {w.strip().strip("\"'") for w in e.group(1).split(",")}
        elif _REF_TAG.match(part):
            events -= PULL_REQUEST_EVENTS | {"schedule"}
        elif _REF_BRANCH.match(part):
            events -= {"pull_request", "merge_group"}
    return tuple(sorted(events))


# --- what a GitHub step runs -------------------------------------------------------------------
# `with:` inputs of wrapper actions that hold a command (nick-invision/retry `command:`).
COMMAND_INPUTS = ("command", "run", "script", "shell-command", "cmd")
# Well-known actions and the command they stand for (their `args:` input appended).
ACTION_COMMANDS: dict[str, str] = {
    "cypress-io/github-action": "cypress run",
    "aquasecurity/trivy-action": "trivy",
    "anchore/scan-action": "grype",
    "snyk/actions": "snyk test",
    "returntocorp/semgrep-action": "semgrep ci",
    "semgrep/semgrep-action": "semgrep ci",
    "github/codeql-action/analyze": "codeql database analyze",
    "zizmorcore/zizmor-action": "zizmor .",
    "woodruffw/zizmor-action": "zizmor .",
    "ossf/scorecard-action": "scorecard",
    "bridgecrewio/checkov-action": "checkov",
    "aquasecurity/tfsec-action": "tfsec",
    "checkmarx/kics-github-action": "kics scan",
    "hadolint/hadolint-action": "hadolint",
    "super-linter/super-linter": "super-linter",
    "github/super-linter": "super-linter",
    "oxsecurity/megalinter": "megalinter",
    "docker/build-push-action": "docker buildx build",
    "helm/chart-testing-action": "",  # installs ct: the run steps after it use it
    "helm/kind-action": "kind create cluster",
    "absaoss/k3d-action": "k3d cluster create",
    "medyagh/setup-minikube": "minikube start",
    "nolar/setup-k3d-k3s": "k3d cluster create",
    "container-tools/kind-action": "kind create cluster",
    "engineerd/setup-kind": "kind create cluster",
    "manusa/actions-setup-minikube": "minikube start",
    "rinx/setup-k3d": "k3d cluster create",
}


def action_command(step: Step) -> str:
    """The command a step stands for besides its `run:`: a wrapper action's command input,
    else the command a well-known action runs (with its `args:`); "" when neither."""
    for key in COMMAND_INPUTS:
        value = step.inputs.get(key)
        if isinstance(value, str) and value.strip():
            return value
    if not step.uses:
        return ""
    name = action_name(step.uses)
    base = next((cmd for action, cmd in ACTION_COMMANDS.items()
                 if name == action or name.startswith(action + "/")), "")
    if not base:
        return ""
    args = step.inputs.get("args")
    if isinstance(args, str) and "\n" not in args.strip() and name != "docker/build-push-action":
        return f"{base} {args.strip()}"
    return base


def local_target(uses: str, base: str = "") -> str:
    """The repository path a local `uses: ./path` names (an action's folder or a reusable
    workflow's file; "." for `uses: ./`, the repository's own root `action.yml`), "" when it
    is not local or leaves the root."""
    if not uses.startswith("./"):
        return ""
    parts = [p for p in uses[2:].split("@", 1)[0].split("/") if p not in ("", ".")]
    if ".." in parts:
        return ""
    return "/".join(parts) or "."


# --- following calls -----------------------------------------------------------------------
# A CI detector analyses each file on its own (each read and parsed once) into records, the
# RECORDS fact `links` of its kind: "act" records (what a line of a unit does: its evidence and
# facts) and "call" records (a line of a unit that hands over to another unit). Units are
# "workflow:<path>", "action:<folder>", "gitlab-include:<path>" and the recipes `make:<target>`,
# `just:…`, `task:…`, `npm:<script>`, `tox:<env>`, `nox:<session>`, `script:<path>`, and a
# Dockerfile's `docker:<path>` (what the image runs) and `docker-build:<path>` (its RUN lines;
# GitHub Actions only, see detectors/github_actions.py). Its
# `conclude` hands the records to `follow`, which walks from the calls of the CI file's own jobs
# (those with events, "e") and reports what they reach with evidence on both sides.
MAX_DEPTH = 4  # calls followed from a job: reusable workflow -> action -> recipe -> recipe
MAX_EXPANSIONS = 20_000  # units expanded in one repository, whatever its shape
Narrow = Callable[[Signal, tuple[str, ...]], "Signal | None"]


def act_record(unit: str, sig: Signal, cond: str | list[str] = "") -> dict[str, Any]:
    e = sig.evidence[0]
    return {"k": "act", "u": unit, "p": e.path, "l": e.line, "d": e.detail,
            "f": dict(sig.facts), "c": cond}


def call_record(unit: str, path: str, line: int, detail: str, target: str,
                cond: str | list[str] = "",
                events: Iterable[str] | None = None) -> dict[str, Any]:
    """A line of `unit` that runs `target`; `events` only for a CI file's own jobs (the roots
    `follow` starts from; `()` where a system has no events)."""
    return {"k": "call", "u": unit, "p": path, "l": line, "d": detail, "t": target, "c": cond,
            "e": None if events is None else list(events)}


_BUILD_VALUE_OPTIONS = frozenset({
    "-t", "--tag", "-f", "--file", "--build-arg", "--target", "--platform", "--label",
    "--cache-from", "--cache-to", "--secret", "-o", "--output", "--progress", "--network",
    "--ssh", "--iidfile", "--metadata-file", "--builder", "--add-host", "--shm-size",
    "--ulimit", "--build-context", "--annotation", "--attest", "--allow", "--cgroup-parent"})


def _repo_path(path: str) -> str:
    """A root-relative path a step names (`./test`), "" when it leaves the root or is built
    from an expression, a variable or a URL."""
    if not path or any(c in path for c in ("$", "{", "://", "@")) or path.startswith("/"):
        return ""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "" if ".." in parts else "/".join(parts) or "."


def _dockerfile(context: str, file: str) -> str:
    """The Dockerfile a build reads: `-f`/`file:` (from the root), else CONTEXT/Dockerfile."""
    if file:
        return _repo_path(file)
    ctx = _repo_path(context)
    return "" if not ctx else "Dockerfile" if ctx == "." else f"{ctx}/Dockerfile"


def _built_images(step: Step) -> Iterator[tuple[list[str], str]]:
    """(image names, Dockerfile) of the images a step builds: `docker [buildx|image] build -t
    NAME [-f FILE] CONTEXT`, docker/build-push-action `tags:`/`context:`/`file:`."""
    if step.action == "docker/build-push-action":
        tags = step.inputs.get("tags")
        context = step.inputs.get("context")
        file = step.inputs.get("file")
        names = re.split(r"[\s,]+", tags.strip()) if isinstance(tags, str) else []
        path = _dockerfile(context if isinstance(context, str) else ".",
                           file if isinstance(file, str) else "")
        if path and names:
            yield names, path
    for w in commands(step.run) if step.run else ():
        if w[0] not in ("docker", "podman") or "build" not in w[1:3] or w[1] == "compose":
            continue
        args = w[w.index("build") + 1:]
        tags, file, positional, i = [], "", [], 0
        while i < len(args):
            a, value = args[i], args[i + 1] if i + 1 < len(args) else ""
            if a.startswith("-"):
                opt, _, inline = a.partition("=")
                if opt in ("-t", "--tag"):
                    tags.append(inline or value)
                elif opt in ("-f", "--file"):
                    file = inline or value
                i += 2 if opt in _BUILD_VALUE_OPTIONS and not inline else 1
                continue
            positional.append(a)
            i += 1
        path = _dockerfile(positional[0], file) if len(positional) == 1 else ""
        if path and tags:
            yield tags, path


COMPOSE_DEFAULTS = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def _compose_runs(words: list[str]) -> Iterator[tuple[str, str]]:
    """(compose file, service) of a `docker compose [-f F…] run [OPTIONS] SERVICE` with no
    command of its own (the service's `command:` runs); each `-f` file, else the defaults."""
    i = 1 if words[:1] == ["docker-compose"] else 2 if words[:2] == ["docker", "compose"] else 0
    files: list[str] = []
    while i and i < len(words) and words[i].startswith("-"):
        opt, _, inline = words[i].partition("=")
        value = inline or (words[i + 1] if i + 1 < len(words) else "")
        if opt in ("-f", "--file"):
            files.append(value)
        i += 2 if opt in ("-f", "--file", "-p", "--project-name", "--profile", "--env-file",
                          "--project-directory") and not inline else 1
    if not i or words[i:i + 1] != ["run"]:
        return
    args, j = words[i + 1:], 0
    while j < len(args) and args[j].startswith("-"):
        j += 2 if args[j] in ("-e", "--env", "-v", "--volume", "-w", "--workdir", "--name",
                              "-p", "--publish", "-u", "--user", "-l", "--label",
                              "--entrypoint") else 1
    if j != len(args) - 1 or any(a.startswith("--entrypoint") for a in args):
        return  # no service, or a command (or entrypoint) of its own
    for file in files or COMPOSE_DEFAULTS:
        path = _repo_path(file)
        if path:
            yield path, args[j]


def docker_calls(step: Step, images: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(unit, label) of the Dockerfiles a step hands over to: building one runs its RUN lines
    (`docker-build:<path>`), and `docker run NAME` with no command of its own, after a step of
    the same job built NAME, runs its ENTRYPOINT/CMD (`docker:<path>`). Left out: a step run in
    another folder (`working-directory`)."""
    if step.workdir.strip().strip("./"):
        return
    for names, path in _built_images(step):
        for name in names:
            images[image_name(name).rsplit("/", 1)[-1]] = path
        yield f"docker-build:{path}", f"docker build ({path})"
    for words in commands(step.run) if step.run else ():
        for file, service in _compose_runs(words):
            yield f"compose:{file}#{service}", f"docker compose run {service} ({file})"
    for run in container_runs(step.run) if step.run and images else ():
        if run[0] in images and len(run) == 1:
            yield f"docker:{images[run[0]]}", f"docker run {run[0]} ({images[run[0]]})"


def recipe_links(doc: Document,
                 step: Callable[[str, str, int, str, bool], Iterable[Signal]],
                 after: Callable[[list[Signal]], list[Signal]] = list) -> list[dict[str, Any]]:
    """Records of the recipes of a task-runner file or script (`recipes.read`): each line's
    signals as `step(path, where, line, text, hands_over)` gives them (`hands_over`: the line
    runs another recipe, so a `make x` there is followed rather than taken as is), and the
    recipes it calls."""
    links: list[dict[str, Any]] = []
    for recipe in recipes.read(doc):
        unit = f"{recipe.runner}:{recipe.name}"
        where = "tox [testenv]" if recipe.runner == "tox" and not recipe.name else \
            recipe.name if recipe.runner == "script" else Call(recipe.runner, recipe.name).label
        acts: list[Signal] = []
        started: list[str] = []  # environments the recipe started so far (kind, compose …)
        images: dict[str, str] = {}  # images the recipe built (`docker_calls`)
        for line, text in recipe.body:
            # a Dockerfile's commands run in the image, not at the root: their calls stay
            inside = recipe.runner in ("docker", "docker-build", "compose")
            line_calls = [(f"{c.runner}:{c.name}", c.label) for c in calls(text)] + \
                list(docker_calls(Step(line, run=text), images)) if not inside else []
            new = list(step(doc.path, where, line, text, bool(line_calls)))
            acts += new
            started += [e for a in new for e in a.facts.get("environments") or ()
                        if e not in started]
            for target, label in line_calls:
                if target != unit:
                    # after an environment, also the call into it (`<target>@env:<stacks>`),
                    # as a CI job's own calls are recorded
                    for t in [target, *([f"{target}@env:{'+'.join(started)}"] if started
                                        else [])]:
                        links.append(call_record(unit, doc.path, line,
                                                 f"{where} -> {label}", t))
        links += [act_record(unit, a) for a in after(acts)]
    return links


def script_calls(doc: Document, unit: str, where: str, step: Step, start: int, end: int,
                 cond: str = "", events: Iterable[str] | None = ()) -> list[dict[str, Any]]:
    """Call records of what a step's script hands over to, each at the first line in
    [start, end) naming its target (else the step's line)."""
    out = []
    for call in calls(step.run) if step.run else ():
        line = _search(doc, re.compile(r"(?<![\w.-])" + re.escape(call.name) + r"(?![\w-])"),
                       start, end) or step.line
        out.append(call_record(unit, doc.path, line, f"{where} -> {call.label}",
                               f"{call.runner}:{call.name}", cond, events))
    return out


def _supported(sig: Signal, events: tuple[str, ...]) -> Signal | None:
    supports = frozenset(k for k, v in sig.facts.items() if v)
    if not supports:
        return None
    return Signal(sig.kind, tuple(Evidence(e.path, e.line, e.detail, supports)
                                  for e in sig.evidence), sig.facts)


def conclude_calls(found: Iterable[Signal], narrow: Narrow = _supported,
                   kind: str = "") -> Iterator[Signal]:
    """A CI detector's conclusion: the signals its files gave, then what their calls run (the
    `links` records are gathered here and never reported)."""
    links: list[dict[str, Any]] = []
    for sig in found:
        if "links" in sig.facts:
            links += sig.facts["links"]
        else:
            yield sig
    yield from follow(links, narrow, kind)


def follow(links: Iterable[dict[str, Any]], narrow: Narrow = _supported,
           kind: str = "") -> Iterator[Signal]:
    """What the calls of a CI file's jobs run, through the records of the units they call:
    one signal per act reached, its evidence the chain of calls then the act, its facts as
    `narrow(signal, events)` leaves them for the events the chain runs on (GitHub `if:`s
    narrow them again on the way). From each root call every unit is expanded at most once
    and at most `MAX_DEPTH` calls deep, and a repository has at most `MAX_EXPANSIONS`: linear
    in the records whatever the recipes' shape."""
    acts: dict[str, list[dict[str, Any]]] = {}
    graph: dict[str, list[dict[str, Any]]] = {}
    for rec in links:
        (acts if rec.get("k") == "act" else graph).setdefault(str(rec.get("u")), []).append(rec)
    seen: set[tuple[Any, ...]] = set()
    budget = [MAX_EXPANSIONS]

    def resolve(target: str, events: tuple[str, ...], chain: tuple[dict[str, Any], ...],
                visited: set[str]) -> Iterator[Signal]:
        budget[0] -= 1
        if budget[0] < 0:
            return
        if target not in acts and target not in graph and target.startswith("tox:"):
            target = "tox:"  # an environment of the base [testenv]
        if target.startswith("action:.") and target[8:9] in ("", "@"):
            target = "action:" + target[8:]  # `uses: ./`: the root action's unit is "action:"
        for act in acts.get(target, ()):
            ev = narrow_events(events, act.get("c") or "") if events else events
            evidence = tuple(Evidence(c["p"], c["l"], c["d"], frozenset()) for c in chain) + \
                (Evidence(act["p"], act["l"], act["d"], frozenset()),)
            key = (evidence, ev)
            if key in seen:
                continue
            seen.add(key)
            sig = narrow(Signal(kind or str(act.get("kind", "")), evidence, dict(act["f"])), ev)
            if sig is not None:
                yield sig
        if len(chain) >= MAX_DEPTH:
            return
        for call in graph.get(target, ()):
            nxt = str(call["t"])
            if nxt in visited:
                continue
            visited.add(nxt)
            ev = narrow_events(events, call.get("c") or "") if events else events
            yield from resolve(nxt, ev, (*chain, call), visited)

    for roots in list(graph.values()):
        for call in roots:
            if call.get("e") is None:
                continue  # a call inside an action or recipe: followed from its callers
            target = str(call["t"])
            yield from resolve(target, tuple(call["e"]), (call,), {str(call["u"]), target})


# --- end-to-end tests in CI ------------------------------------------------------------------
CLUSTER_ACTIONS = ("helm/kind-action", "absaoss/k3d-action", "medyagh/setup-minikube",
                   "nolar/setup-k3d-k3s", "container-tools/kind-action", "engineerd/setup-kind",
                   "manusa/actions-setup-minikube", "rinx/setup-k3d")
CLUSTER_COMMANDS: dict[str, tuple[str, ...]] = {"kind": ("create",), "k3d": ("cluster",),
                                                "minikube": ("start",), "ctlptl": ("create",)}
CLUSTER_DEPLOYS: dict[str, tuple[str, ...]] = {
    "kubectl": ("apply", "create", "rollout"), "helm": ("upgrade", "install"),
    "helmfile": ("apply", "sync"), "skaffold": ("run", "deploy"),
    # GitOps and package tools that install into the cluster: `flux install` / `flux create
    # kustomization …` (a Flux fleet reconciled in kind), `timoni apply` / `timoni bundle apply`
    "flux": ("install", "bootstrap", "create"), "timoni": ("apply",)}
E2E_RUNNERS: dict[str, tuple[str, ...]] = {
    "cypress": ("run",), "playwright": ("test",),
    # Kubernetes end-to-end test runners: Kyverno Chainsaw, KUTTL (`kubectl kuttl test`)
    "chainsaw": ("test",), "kubectl-kuttl": ("test",), "kubectl": ("kuttl",)}
# runners whose end-to-end mode is a flag: `up test run tests/* --e2e` (Upbound; without the
# flag it runs composition unit tests)
E2E_FLAGGED: dict[str, tuple[tuple[str, ...], str]] = {"up": (("test",), "--e2e")}


def e2e_steps(p: Pipeline) -> Iterator[tuple[Job, Step, str]]:
    """Steps of a pipeline that run end-to-end tests, with what they run: a deploy into a
    cluster an earlier step (or the same script) of the job created (kind, k3d, minikube), a
    test command run after it (bats, go test … against that cluster), or an end-to-end runner
    (Cypress, Playwright, also through their actions; Chainsaw, KUTTL, `up test --e2e`)."""
    from maturity_scan.sdk.shell import TESTS, commands, runs

    for job in p.jobs:
        cluster = ""
        for step in job.steps:
            run = step.run or (action_command(step) if p.system == "github_actions" and
                               step.uses else "")
            created = (step.uses and action_name(step.uses) in CLUSTER_ACTIONS and
                       p.system == "github_actions") or (run and runs(run, CLUSTER_COMMANDS))
            deploy = runs(run, CLUSTER_DEPLOYS) if run else ""
            if deploy and (cluster or created and run and runs(run, CLUSTER_COMMANDS)):
                made = cluster or runs(run, CLUSTER_COMMANDS).split(" ")[0]
                yield job, step, f"{deploy} into a {made} cluster"
            elif cluster and run and runs(run, TESTS):  # a suite against the job's own cluster
                test = " ".join(w for w in runs(run, TESTS).split(" ") if not w.startswith("-"))
                yield job, step, f"{test} against a {cluster} cluster"
            runner = runs(run, E2E_RUNNERS) if run else ""
            if not runner and run:
                runner = next((f"{w[0]} {w[1]} {E2E_FLAGGED[w[0]][1]}" for w in commands(run)
                               if w[0] in E2E_FLAGGED and w[1:2] and
                               w[1] in E2E_FLAGGED[w[0]][0] and E2E_FLAGGED[w[0]][1] in w), "")
            if runner:
                yield job, step, runner
            if created:
                cluster = cluster or (runs(run, CLUSTER_COMMANDS) if run else "").split(" ")[0] \
                    or "local"
