"""Shell scripts read as commands: a CI step's `run:`, a hook's `entry`, a Dockerfile's `RUN`.
A script is split into simple commands outside quotes (`echo "a; docker build"` stays one),
wrappers and runners unwrapped (sudo, npx, `poetry run`, `python -m`, `docker run IMAGE`) so the
tool's own name comes first; then what a script does (runs tests, deploys) is looked up in
tables of programs and their subcommands. Nothing is ever run."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

# Always a prefix to the real command, and prefixes only before a subcommand (`poetry run X`).
_WRAPPERS = {"sudo", "env", "time", "exec", "npx", "pnpx", "bunx", "uvx", "nohup"}
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!"})
# (`npm run X` runs a package.json script named X, not a program X, so it is not unwrapped.)
_RUNNERS = {"poetry": {"run"}, "pdm": {"run"}, "hatch": {"run"}, "pipenv": {"run"},
            "uv": {"run"}, "rye": {"run"}, "pipx": {"run"}, "bundle": {"exec"},
            "npm": {"exec", "x"}, "yarn": {"dlx", "exec"}, "pnpm": {"dlx", "exec"},
            "bun": {"x"}, "coverage": {"run"}}  # `coverage run -m pytest`: pytest, measured


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


@lru_cache(maxsize=64)
def _line_commands(line: str) -> tuple[tuple[str, ...], ...]:
    """A line's simple commands, `$(…)` and backticks as separators: read once for `commands`
    and `calls` alike."""
    return tuple(tuple(w) for w in _simple_commands(line.replace("$(", "; ").replace("`", " ; ")))


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# A variable the program's path starts with (`${PREFIX}pytest` with PREFIX="venv/bin/").
_VAR_PREFIX = re.compile(r"\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*(?=/))")
_PYTHON = re.compile(r"^python[\d.]*$")


def _program_start(words: list[str]) -> int:
    """Where the program's own name is among `words`: after `FOO=bar`, wrappers (sudo, npx)
    and runners (`poetry run`) with their options. Index arithmetic, not repeated slicing: a
    line of ten thousand `A=1` stays linear."""
    i, n = 0, len(words)
    while i < n and words[i] in _KEYWORDS:  # `…; then kind create cluster; fi` on one line
        i += 1
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
        for words in map(list, _line_commands(line)):
            words = words[_program_start(words):]
            prefix = _VAR_PREFIX.match(words[0]) if words else None
            if prefix and prefix.end() < len(words[0]):  # `${PREFIX}pytest`, `$VENV/bin/pytest`
                words = [words[0][prefix.end():], *words[1:]]
                words = words[_program_start(words):]
            inner = _compose_command(words)
            if inner is not None:  # `docker compose run --rm app pytest`: pytest, in compose
                out.append(tuple(words))
                words = inner[_program_start(inner):]
            python = bool(words) and bool(_PYTHON.match(words[0].rsplit("/", 1)[-1]))
            if len(words) >= 3 and python and words[1] == "-m":  # also `venv/bin/python -m`
                words = words[2:]
                words = words[_program_start(words):]  # `python -m coverage run -m pytest`
            elif len(words) >= 2 and python:
                i = 1  # `python [-u -W x] manage.py test`: Django's manage.py is the program
                while i < len(words) and words[i].startswith("-") and words[i] not in ("-m", "-c"):
                    i += 2 if words[i] in ("-W", "-X") else 1
                if i < len(words) and words[i].rsplit("/", 1)[-1] == "manage.py":
                    words = words[i:]
            if len(words) >= 2 and words[0] == "php" and not words[1].startswith("-"):
                words = words[1:]  # `php artisan test`, `php vendor/bin/phpunit`: the script
            if inner is None and words and words[0] in ("docker", "podman") and \
                    "run" in words[1:3]:
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
                         "--workspace", "--filter", "-w", "--prefix", "-c", "--config",
                         "--source", "--omit", "--include", "--rcfile", "--data-file"}
# `docker run` / `podman run` options that take a value as the next word (`-v a:b IMAGE`: a:b is
# not the image). The one table for every reading of a container run.
DOCKER_RUN_VALUE_OPTIONS = frozenset({
    "-v", "--volume", "-e", "--env", "--env-file", "-w", "--workdir", "--name", "--network",
    "--net", "-p", "--publish", "--entrypoint", "-u", "--user", "--mount", "--platform", "-l",
    "--label", "--add-host", "--cpus", "-m", "--memory", "--pull", "--hostname", "-h",
    "--shm-size", "--ulimit", "--cap-add", "--cap-drop", "--security-opt", "--device", "--tmpfs",
    "--restart", "--log-driver", "--gpus", "--ipc", "--pid", "--group-add"})


def _compose_command(words: list[str]) -> list[str] | None:
    """The command a `docker compose run|exec [OPTIONS] SERVICE COMMAND…` (or
    `docker-compose …`) runs in its service container; None when `words` is not one."""
    if words[:1] == ["docker-compose"]:
        i = 1
    elif words[:2] in (["docker", "compose"], ["podman", "compose"], ["podman-compose"]):
        i = 2 if words[0] != "podman-compose" else 1
    else:
        return None
    while i < len(words) and words[i].startswith("-"):  # global options (-f file, -p name)
        i += 2 if words[i] in ("-f", "--file", "-p", "--project-name", "--profile",
                               "--env-file", "--project-directory") else 1
    if i >= len(words) or words[i] not in ("run", "exec"):
        return None
    rest = _container_command(words[i + 1:])  # [service, COMMAND…]
    return rest[1:] if len(rest) > 1 else []


def _container_command(args: list[str]) -> list[str]:
    """`docker run [OPTIONS] IMAGE [COMMAND…]` as `[image-name, COMMAND…]`."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in DOCKER_RUN_VALUE_OPTIONS else 1
    if i >= len(args):
        return []
    image = args[i].rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return [image, *args[i + 1:]]


def image_name(image: str) -> str:
    """`registry/org/name:tag@sha` -> `org/name`, lower-cased."""
    image = image.lower().split("@", 1)[0]
    colon = image.find(":", image.rfind("/") + 1)  # the tag (not a registry's port)
    if colon >= 0:
        image = image[:colon]
    return "/".join(image.split("/")[-2:])


_CONTAINER_RUN = re.compile(r"\s*+(?:sudo\s++)?(?:docker|podman)\s++(?:container\s++)?run\s++(.*)")


def container_runs(script: str) -> Iterator[list[str]]:
    """`docker|podman [container] run [options] IMAGE args` as `[name-of-image, *args]` (a
    command of its own, not text in an echo)."""
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
                i += 1 if "=" in words[i] or words[i] not in DOCKER_RUN_VALUE_OPTIONS else 2
            if i < len(words):
                yield [image_name(words[i]).rsplit("/", 1)[-1], *words[i + 1:]]


def invokes(script: str, program: str, *subcommand: str) -> bool:
    """Whether a script runs `program` (optionally with a first argument among `subcommand`)."""
    for words in commands(script):
        if words[0] == program and (not subcommand or any(w in subcommand for w in words[1:2])):
            return True
    return False


# What a script does.
# program -> first arguments that make it a test run (empty: any invocation)
TESTS: dict[str, tuple[str, ...]] = {
    "pytest": (), "py.test": (), "tox": (), "nox": (), "unittest": (), "jest": (), "vitest": (),
    "mocha": (), "karma": (), "ava": (), "rspec": (), "phpunit": (), "bats": (), "ctest": (),
    "go": ("test",), "cargo": ("test", "nextest"), "dotnet": ("test",), "swift": ("test",),
    "deno": ("test",), "mix": ("test",), "lein": ("test",),
    "flutter": ("test",), "rake": ("test", "spec"), "rails": ("test",), "helm": ("unittest",),
    "mvn": ("test", "verify", "install", "package"), "mvnw": ("test", "verify", "install"),
    "sbt": ("test", "+test"),
    "gradle": ("test", "check", "build"), "gradlew": ("test", "check", "build"),
    "npm": ("test", "t"), "yarn": ("test", "jest", "vitest", "mocha"),
    "pnpm": ("test", "jest", "vitest", "mocha"), "bun": ("test",),
    "make": ("test", "tests", "check", "unit", "unittest", "unit-test", "test-unit"),
    "just": ("test",), "task": ("test",), "hatch": ("test",), "playwright": ("test",),
    "cypress": ("run",),
    "manage.py": ("test",), "django-admin": ("test",), "django": ("test",),  # Django
    "artisan": ("test",), "pest": (), "paratest": (),  # Laravel, PHP
    # monorepo task runners running every package's test task, and other runners
    "turbo": ("test",), "nx": ("test",), "lerna": ("test",), "bazel": ("test",),
    "bazelisk": ("test",), "gotestsum": (), "ginkgo": (), "composer": ("test",),
    "xcodebuild": ("test",), "meson": ("test",), "kuttl": ("test",), "kubectl-kuttl": ("test",),
    "chainsaw": ("test",),
}
# What a runner taking any arguments (`ginkgo -r`, `gotestsum -- ./...`) does when these come
# first: nothing is tested.
_NOT_A_RUN = frozenset({"version", "--version", "-V", "help", "--help", "-h", "bootstrap",
                        "generate", "outline", "unfocus", "init", "tool"})
_NPM_TEST_SCRIPT = re.compile(r"^test(:|$|-)")
_TEST_TARGET = re.compile(r"^tests?[-_:.]")  # make test-unit, make test-${target}
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
        hit = next((w for w in positional if w in allowed or table is TESTS and
                    words[0] in ("make", "just", "task") and _TEST_TARGET.match(w)), None) \
            if allowed else \
            (words[1] if len(words) > 1 else "")
        if not allowed and table is TESTS and hit in _NOT_A_RUN:
            continue  # `pytest --version`, `ginkgo bootstrap`
        if hit is not None:
            if "-DskipTests" in words or "-x" in words and "test" in words:
                continue
            if table is DEPLOYS and _changes_nothing(words, hit):
                continue
            return f"{words[0]} {hit}".strip()
    return ""


def _changes_nothing(words: list[str], hit: str) -> bool:
    """A deploy command that only reads or rehearses: `kubectl rollout status|history` (waits
    for or lists a rollout; only restart, undo and resume change one), `argocd app get|list|
    diff|wait`, `terragrunt run-all plan`, `--dry-run` (client or server: validation, not a
    deploy)."""
    if any(w.startswith("--dry-run") and w != "--dry-run=none" for w in words):
        return True
    changing = _CHANGING_VERBS.get((words[0], hit))
    if changing:
        verb = [w for w in words[words.index(hit) + 1:] if not w.startswith("-")][:1]
        return not verb or verb[0] not in changing
    return False


# A deploy command's group whose next verb decides (`argocd app get` reads, `argocd app sync`
# deploys; `terragrunt run-all plan` plans).
_CHANGING_VERBS: dict[tuple[str, str], frozenset[str]] = {
    ("kubectl", "rollout"): frozenset({"restart", "undo", "resume"}),
    ("argocd", "app"): frozenset({"sync", "create", "set", "rollback", "patch"}),
    ("copilot", "svc"): frozenset({"deploy"}),
    ("terragrunt", "run-all"): frozenset({"apply"}),
}


# --- what a script hands over to: task runners and scripts ------------------------------------
# Package-manager commands that are not scripts of package.json (`yarn install`, `pnpm add`).
_PM_BUILTINS = frozenset({
    "install", "i", "ci", "add", "remove", "rm", "uninstall", "update", "up", "upgrade", "init",
    "create", "publish", "pack", "link", "unlink", "audit", "outdated", "config", "cache", "why",
    "info", "view", "version", "login", "logout", "exec", "dlx", "x", "set", "help", "list",
    "ls", "import", "rebuild", "prune", "dedupe", "fetch", "store", "workspaces", "workspace",
    "global", "bin", "env", "node", "npm", "patch", "licenses", "plugin", "setup", "ci"})
_SCRIPT_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh", "source", "."})
# `scripts/test`, `script/cibuild`: "scripts to rule them all", extensionless, run without `./`
_SCRIPT_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*\.(sh|bash)$|^\./[\w./-]+$|^scripts?/[\w-]+$")


@dataclass(frozen=True)
class Call:
    """A script handing over to a recipe: `runner` is make, just, task, npm, tox, nox or
    script; `name` the target (script: the path as written, without `./`)."""

    runner: str
    name: str

    @property
    def label(self) -> str:
        if self.runner == "tox" and not self.name:
            return "tox"
        return {"npm": "npm run ", "script": "", "tox": "tox -e ", "nox": "nox -s ",
                "docker": "CMD of ", "docker-build": "RUN of ",
                "compose": "command of "}.get(
            self.runner, self.runner + " ") + self.name


def _positional(words: list[str], value_options: frozenset[str]) -> list[str]:
    out, i = [], 0
    while i < len(words):
        w = words[i]
        if w.startswith("-"):
            i += 2 if w in value_options and "=" not in w else 1
            continue
        if not _ASSIGNMENT.match(w):
            out.append(w)
        i += 1
    return out


_MAKE_VALUE_OPTIONS = frozenset({"-C", "-f", "--file", "--makefile", "--directory", "-j", "-I",
                                 "-o", "-W", "-l", "-t", "--taskfile", "-d", "--dir",
                                 "--justfile", "--working-directory", "--set", "--shell"})


def calls(script: str) -> Iterator[Call]:
    """The recipes a script runs: `make test lint`, `just x`, `task x`, `npm run x` /
    `npm test` / `yarn x` / `pnpm x`, `tox -e a,b`, `nox -s x`, `./scripts/x.sh` /
    `bash scripts/x.sh`. Targets with a variable in them are left out, and so is all after a
    `cd` into another folder."""
    script = re.sub(r"\\\n", " ", script)
    for line in script.splitlines():
        for words in map(list, _line_commands(line)):
            words = words[_program_start(words):]
            if words[:1] in (["cd"], ["pushd"]) and words[1:2] not in (
                    [], ["."], ["$GITHUB_WORKSPACE"], ["${GITHUB_WORKSPACE}"], ["$CI_PROJECT_DIR"],
                    ["${{ github.workspace }}"]):
                return  # another folder: its recipes are not the root's
            yield from _calls(words)


def _calls(words: list[str]) -> Iterator[Call]:
    if not words:
        return
    prog, args = words[0], words[1:]
    if prog in ("make", "gmake", "just", "task"):
        runner = "make" if prog == "gmake" else prog
        if any(a in ("-C", "--directory", "-f", "--file", "-d", "--dir", "--justfile", "-t",
                     "--taskfile") or a.startswith(("--directory=", "--file=")) for a in args):
            return  # another folder's recipes: not followed
        for target in _positional(args, _MAKE_VALUE_OPTIONS):
            if "$" not in target:
                yield Call(runner, target)
    elif prog in ("npm", "yarn", "pnpm", "bun"):
        pos = _positional(args, frozenset({"--filter", "-w", "--workspace", "--prefix", "-C",
                                           "--dir", "--cwd"}))
        if any(a.startswith(("--filter", "-w", "--workspace", "--prefix", "-C", "--cwd", "--dir"))
               for a in args):
            return  # a workspace's own package.json: not followed
        if pos[:1] == ["run"] or (prog in ("npm", "bun") and pos[:1] == ["run-script"]):
            name = pos[1] if len(pos) > 1 else ""
        elif pos[:1] in (["test"], ["t"]) and prog != "bun":
            name = "test"
        elif prog in ("yarn", "pnpm") and pos and pos[0] not in _PM_BUILTINS:
            name = pos[0]
        else:
            return
        if name and "$" not in name:
            yield Call("npm", name)
    elif prog == "tox":
        if any(a in ("--version", "-h", "--help", "--showconfig", "-l", "-a") for a in args):
            return
        if not any(a == "-e" or a.startswith(("-e", "--env")) for a in args) and \
                _positional(args, frozenset({"-c", "--conf", "-p", "--parallel"}))[:1] in (
                    [], ["run"], ["r"], ["run-parallel"], ["p"]):
            yield Call("tox", "")  # the envlist: what the base [testenv] runs
            return
        for i, a in enumerate(args):
            value = args[i + 1] if a == "-e" and i + 1 < len(args) else \
                a[len("-e"):] if a.startswith("-e") and len(a) > 2 else \
                a.split("=", 1)[1] if a.startswith("--env=") else ""
            for env in value.split(","):
                if env and "$" not in env and "{" not in env:
                    yield Call("tox", env)
    elif prog == "nox":
        for i, a in enumerate(args):
            if a in ("-s", "--session", "--sessions") and i + 1 < len(args):
                if "$" not in args[i + 1]:
                    yield Call("nox", args[i + 1])
    else:
        if prog in _SCRIPT_SHELLS and args and not args[0].startswith("-"):
            prog = args[0]
        if _SCRIPT_NAME.match(prog) and "$" not in prog and ".." not in prog.split("/"):
            path = prog[2:] if prog.startswith("./") else prog
            if path and not path.startswith("/"):
                yield Call("script", path)
