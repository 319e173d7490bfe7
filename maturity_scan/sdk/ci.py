"""CI pipelines read structurally: jobs and steps, each step an action it uses and/or a shell
script it runs. A tool counts as "run in CI" when a step uses its action or a script line
invokes its command, never because its name appears in a comment or an unrelated string.

Only the places each platform reads count (SIGNALS.md): workflows under the root
`.github/workflows/`, `.gitlab-ci.yml` at the root, and so on.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from maturity_scan.sdk.document import Document

GITHUB_WORKFLOWS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
GITLAB = (".gitlab-ci.yml",)
CIRCLECI = (".circleci/config.yml",)
AZURE = ("azure-pipelines.yml", "azure-pipelines.yaml")
AZURE_PATTERNS = (*AZURE, ".azure-pipelines/**/*.y{a,}ml")
BITBUCKET = ("bitbucket-pipelines.yml",)
JENKINS = ("Jenkinsfile", "Jenkinsfile.*", "*.jenkinsfile")
CI_PATTERNS: tuple[str, ...] = (*GITHUB_WORKFLOWS, *GITLAB, *CIRCLECI, *AZURE_PATTERNS,
                                *BITBUCKET, *JENKINS)


@dataclass(frozen=True)
class Step:
    line: int
    name: str = ""
    uses: str = ""  # "owner/repo[/path]@ref" (GitHub), image or orb elsewhere
    run: str = ""  # shell script text
    inputs: Mapping[str, Any] = field(default_factory=dict)  # GitHub `with:`

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


def _github(doc: Document, wf: Any) -> Pipeline | None:
    if not isinstance(wf, dict) or not isinstance(wf.get("jobs"), dict):
        return None
    jobs = []
    for job_id, job in wf["jobs"].items():
        if not isinstance(job, dict):
            continue
        steps = []
        for raw in _list(job.get("steps")):
            if not isinstance(raw, dict):
                continue
            steps.append(Step(_line(raw), str(raw.get("name") or ""),
                              str(raw.get("uses") or ""), str(raw.get("run") or ""),
                              raw.get("with") if isinstance(raw.get("with"), dict) else {}))
        services = job.get("services") if isinstance(job.get("services"), dict) else {}
        images = tuple(str(s.get("image", name)) if isinstance(s, dict) else str(s)
                       for name, s in services.items())
        uses = job.get("uses")
        jobs.append(Job(str(job_id), _line(wf["jobs"], job_id), tuple(steps),
                        _env_name(job.get("environment")), images,
                        uses if isinstance(uses, str) else "", job))
    return Pipeline("github_actions", doc.path, tuple(jobs), _github_triggers(wf), wf)


_GITLAB_RESERVED = {"stages", "variables", "include", "default", "workflow", "image",
                    "services", "before_script", "after_script", "cache", "pages_disabled"}


def _script(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_script(v) for v in value)
    return ""


def _gitlab(doc: Document, cfg: Any) -> Pipeline | None:
    if not isinstance(cfg, dict):
        return None
    jobs = []
    for name, job in cfg.items():
        if not isinstance(name, str) or name in _GITLAB_RESERVED or name.startswith("."):
            continue
        if not isinstance(job, dict) or not any(k in job for k in ("script", "trigger",
                                                                   "extends", "run")):
            continue
        script = "\n".join(_script(job.get(k)) for k in ("before_script", "script",
                                                         "after_script"))
        image = job.get("image")
        image = image.get("name") if isinstance(image, dict) else image
        line = _line(job, "script") if "script" in job else _line(cfg, name)
        step = Step(line, name, str(image or ""), script)
        services = tuple(str(s.get("name") if isinstance(s, dict) else s)
                         for s in _list(job.get("services")) if s)
        jobs.append(Job(name, _line(cfg, name), (step,), _env_name(job.get("environment")),
                        services, "", job))
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


def pipeline(doc: Document) -> Pipeline | None:
    """The CI pipeline a file defines, or None when it is not one (memoised on the Document).
    Parse errors propagate as ParseError."""
    if "ci" not in doc._memo:
        p = None
        path = doc.path
        if path.startswith(".github/workflows/") and path.count("/") == 2:
            p = _github(doc, doc.yaml)
        elif path == ".gitlab-ci.yml":
            p = _gitlab(doc, doc.yaml)
        elif path == ".circleci/config.yml":
            p = _circleci(doc, doc.yaml)
        elif path in AZURE or path.startswith(".azure-pipelines/"):
            p = _azure(doc, doc.yaml)
        elif path == "bitbucket-pipelines.yml":
            p = _bitbucket(doc, doc.yaml)
        elif _is_jenkinsfile(path):
            p = _jenkins(doc)
        doc._memo["ci"] = p
    return doc._memo["ci"]  # type: ignore[no-any-return]


# --- shell commands -------------------------------------------------------------------------
# Always a prefix to the real command, and prefixes only before a subcommand (`poetry run X`).
_WRAPPERS = {"sudo", "env", "time", "exec", "npx", "pnpx", "bunx", "uvx", "nohup"}
# (`npm run X` runs a package.json script named X, not a program X, so it is not unwrapped.)
_RUNNERS = {"poetry": {"run"}, "pdm": {"run"}, "hatch": {"run"}, "pipenv": {"run"},
            "uv": {"run"}, "rye": {"run"}, "pipx": {"run"}, "bundle": {"exec"},
            "npm": {"exec", "x"}, "yarn": {"dlx", "exec"}, "pnpm": {"dlx", "exec"},
            "bun": {"x"}}


_BLANKS = " \t\r\n"
_OPERATORS = ";&|()"
_PLAIN = re.compile(r"[^ \t\r\n'\"\\#;&|()]+")
_PLAIN_WITHOUT_OPERATORS = re.compile(r"[^ \t\r\n'\"\\#]+")
_OPERATOR_RUN = re.compile(r"[;&|()]+")
_DOUBLE_QUOTED_STOP = re.compile(r'["\\]')


def split_words(line: str, operators: bool = True) -> list[str]:
    """`shlex` in POSIX mode with `whitespace_split` (and `punctuation_chars=";&|()"` when
    `operators`: runs of them are tokens of their own), comments dropped, but in linear time
    (shlex grows each token a character at a time, quadratic in a long word). Unbalanced
    quotes or a trailing backslash raise ValueError, as shlex does."""
    plain = _PLAIN if operators else _PLAIN_WITHOUT_OPERATORS
    tokens: list[str] = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in _BLANKS:
            i += 1
        elif c == "#":
            break
        elif operators and c in _OPERATORS:
            m = _OPERATOR_RUN.match(line, i)
            assert m is not None
            tokens.append(m.group())
            i = m.end()
        else:
            i = _word(line, i, tokens, plain, operators)
    return tokens


def _word(line: str, i: int, tokens: list[str], plain: re.Pattern[str], operators: bool) -> int:
    """Read the word at `i` (quotes and escapes resolved) into `tokens`; the offset after it."""
    parts: list[str] = []
    n = len(line)
    while i < n:
        c = line[i]
        if c in _BLANKS or (operators and c in _OPERATORS):
            break
        if c == "#":  # shlex starts a comment even inside a word
            i = n
            break
        if c == "'":
            close = line.find("'", i + 1)
            if close < 0:
                raise ValueError("No closing quotation")
            parts.append(line[i + 1:close])
            i = close + 1
        elif c == '"':
            i = _double_quoted(line, i + 1, parts)
        elif c == "\\":
            if i + 1 >= n:
                raise ValueError("No escaped character")
            parts.append(line[i + 1])
            i += 2
        else:
            m = plain.match(line, i)
            assert m is not None
            parts.append(m.group())
            i = m.end()
    tokens.append("".join(parts))
    return i


def _double_quoted(line: str, i: int, parts: list[str]) -> int:
    """The rest of a double-quoted string from `i` into `parts`; the offset after its quote.
    A backslash escapes only `"` and `\\` (kept before anything else), as in shlex."""
    while True:
        m = _DOUBLE_QUOTED_STOP.search(line, i)
        if m is None:
            raise ValueError("No closing quotation")
        parts.append(line[i:m.start()])
        if m.group() == '"':
            return m.end()
        if m.end() >= len(line):
            raise ValueError("No escaped character")
        escaped = line[m.end()]
        parts.append(escaped if escaped in '"\\' else "\\" + escaped)
        i = m.end() + 1


def _simple_commands(line: str) -> Iterator[list[str]]:
    """A line split into simple commands at `;`, `&&`, `||`, `|`, `&` and parentheses outside
    quotes, comments dropped: `echo "a; docker build"` stays one command."""
    try:
        tokens = split_words(line)
    except ValueError:  # unbalanced quotes: fall back to words
        tokens = line.split()
    words: list[str] = []
    for token in tokens:
        if token and set(token) <= set(_OPERATORS):
            if words:
                yield words
            words = []
        else:
            words.append(token)
    if words:
        yield words


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^python[\d.]*$")


def _program_start(words: list[str]) -> int:
    """Where the program's own name is among `words`: after `FOO=bar`, wrappers (sudo, npx)
    and runners (`poetry run`) with their options. Index arithmetic, not repeated slicing: a
    line of ten thousand `A=1` stays linear."""
    i, n = 0, len(words)
    while i < n and _ASSIGNMENT.match(words[i]):
        i += 1
    while i < n and (words[i] in _WRAPPERS or
                     i + 1 < n and words[i + 1] in _RUNNERS.get(words[i], ())):
        i += 2 if words[i] in _RUNNERS else 1
        while i < n and words[i].startswith("-"):
            i += 2 if words[i] in _RUNNER_VALUE_OPTIONS else 1
    return i


def commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a shell script as words, wrappers (sudo, npx, `python -m`,
    `docker run IMAGE`) unwrapped so the tool's own name comes first."""
    for words in _commands(script):
        yield list(words)  # a copy: callers may rewrite words[0]


@lru_cache(maxsize=4)
def _commands(script: str) -> tuple[tuple[str, ...], ...]:
    # Detectors ask about the same step's script once per tool they know: read it once.
    out = []
    script = re.sub(r"\\\n", " ", script)
    for line in script.splitlines():
        for words in _simple_commands(line.replace("$(", "; ").replace("`", " ; ")):
            words = words[_program_start(words):]
            if len(words) >= 3 and _PYTHON.match(words[0]) and words[1] == "-m":
                words = words[2:]
            if words and words[0] in ("docker", "podman") and "run" in words[1:3]:
                words = _container_command(words[words.index("run") + 1:])
            if words:
                words[0] = words[0].rsplit("/", 1)[-1]  # ./bin/trivy -> trivy
                if words[0].find("@") > 0:
                    words[0] = words[0].split("@", 1)[0]  # npx semantic-release@25 -> semantic-release
                out.append(tuple(words))
    return tuple(out)


# Options of wrappers and runners that take a value (`uv run --group dev tox`: dev is not the
# program).
_RUNNER_VALUE_OPTIONS = {"--group", "--only-group", "--with", "--python", "-p", "--extra",
                         "--env-file", "--package", "--directory", "--project", "--from",
                         "--index", "--index-url", "-e", "--env", "-u", "--user", "-C",
                         "--workspace", "--filter", "-w", "--prefix", "-c", "--config"}
# `docker run` options that take a value as the next word (`-v a:b` is not the image).
_RUN_VALUE_OPTIONS = {"-v", "--volume", "-e", "--env", "--env-file", "-w", "--workdir", "--name",
                      "--network", "--net", "-p", "--publish", "--entrypoint", "-u", "--user",
                      "--mount", "--platform", "-l", "--label", "--add-host", "--cpus", "-m",
                      "--memory", "--pull", "--hostname", "-h", "--shm-size", "--ulimit",
                      "--cap-add", "--cap-drop", "--security-opt", "--device", "--tmpfs",
                      "--restart", "--log-driver", "--gpus", "--ipc", "--pid", "--group-add"}


def _container_command(args: list[str]) -> list[str]:
    """`docker run [OPTIONS] IMAGE [COMMAND…]` as `[image-name, COMMAND…]`."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _RUN_VALUE_OPTIONS else 1
    if i >= len(args):
        return []
    image = args[i].rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return [image, *args[i + 1:]]


def invokes(script: str, program: str, *subcommand: str) -> bool:
    """Whether a script runs `program` (optionally with a first argument among `subcommand`)."""
    for words in commands(script):
        if words[0] == program and (not subcommand or any(w in subcommand for w in words[1:2])):
            return True
    return False


# --- what a script does ---------------------------------------------------------------------
# program -> first arguments that make it a test run (empty: any invocation)
TESTS: dict[str, tuple[str, ...]] = {
    "pytest": (), "py.test": (), "tox": (), "nox": (), "unittest": (), "jest": (), "vitest": (),
    "mocha": (), "karma": (), "ava": (), "rspec": (), "phpunit": (), "bats": (), "ctest": (),
    "go": ("test",), "cargo": ("test", "nextest"), "dotnet": ("test",), "swift": ("test",),
    "deno": ("test",), "mix": ("test",), "sbt": ("test",), "lein": ("test",),
    "flutter": ("test",), "rake": ("test", "spec"), "rails": ("test",), "helm": ("unittest",),
    "mvn": ("test", "verify", "install", "package"), "mvnw": ("test", "verify", "install"),
    "gradle": ("test", "check", "build"), "gradlew": ("test", "check", "build"),
    "npm": ("test", "t"), "yarn": ("test",), "pnpm": ("test",), "bun": ("test",),
    "make": ("test", "tests", "check", "unit", "unittest", "unit-test", "test-unit"),
    "just": ("test",), "task": ("test",), "hatch": ("test",), "playwright": ("test",),
    "cypress": ("run",),
}
_NPM_TEST_SCRIPT = re.compile(r"^test(:|$|-)")
DEPLOYS: dict[str, tuple[str, ...]] = {
    "helm": ("upgrade", "install"), "helmfile": ("apply", "sync"),
    "kubectl": ("apply", "rollout", "set", "replace", "create"),
    "terraform": ("apply",), "tofu": ("apply",), "terragrunt": ("apply", "run-all"),
    "pulumi": ("up",), "cdk": ("deploy",), "serverless": ("deploy",), "sls": ("deploy",),
    "sam": ("deploy",), "flyctl": ("deploy",), "fly": ("deploy",), "vercel": ("deploy", "--prod"),
    "netlify": ("deploy",), "firebase": ("deploy",), "argocd": ("app",), "kamal": ("deploy",),
    "skaffold": ("run", "deploy"), "eb": ("deploy",), "copilot": ("deploy", "svc"),
    "wrangler": ("deploy", "publish"),
}

def runs(script: str, table: dict[str, tuple[str, ...]]) -> str:
    """The first command of `script` found in `table` (program -> first arguments that count,
    empty for any), as "program arg"; "" when none. `npm run test*` counts for TESTS."""
    for words in commands(script):
        allowed = table.get(words[0])
        if allowed is None:
            continue
        if words[0] in ("npm", "yarn", "pnpm", "bun") and words[1:2] == ["run"]:
            if len(words) > 2 and _NPM_TEST_SCRIPT.match(words[2]) and table is TESTS:
                return " ".join(words[:3])
            continue
        positional = [w for w in words[1:] if not w.startswith("-")][:2]  # `make -C d test`
        hit = next((w for w in positional if w in allowed), None) if allowed else \
            (words[1] if len(words) > 1 else "")
        if hit is not None:
            if "-DskipTests" in words or "-x" in words and "test" in words:
                continue
            return f"{words[0]} {hit}".strip()
    return ""
