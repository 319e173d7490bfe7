"""Git hooks run before commits: the root `.pre-commit-config.yaml`, husky (`.husky/<hook>`
scripts, a `husky.hooks` key in the root package.json) and lefthook (`lefthook.yml`), with the
hooks they run: linters, formatters, terraform/helm hooks, secret scanners, tests."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.detectors._citools import PRE_COMMIT, pre_commit_hooks
from maturity_scan.detectors._secrets import HOOKS as SECRET_HOOKS, PROGRAMS as SECRET_TOOLS
from maturity_scan.sdk import Document, ParseError, Signal, kind, signal
from maturity_scan.sdk.shell import commands

GIT_HOOKS = {"pre-commit", "pre-push", "commit-msg", "prepare-commit-msg", "post-checkout",
             "post-merge", "post-commit", "pre-rebase", "pre-merge-commit", "post-rewrite"}
LINTERS = ("ruff", "flake8", "pylint", "mypy", "eslint", "golangci-lint", "shellcheck",
           "hadolint", "yamllint", "markdownlint", "tflint", "actionlint", "stylelint",
           "rubocop", "clippy", "bandit", "codespell", "checkov", "ansible-lint", "helmlint",
           "biome", "oxlint", "pyright", "vulture", "sqlfluff", "commitlint", "lint-staged")
FORMATTERS = ("black", "isort", "prettier", "ruff-format", "gofmt", "goimports", "terraform_fmt",
              "terraform-fmt", "clang-format", "rustfmt", "autopep8", "yapf", "shfmt",
              "google-java-format", "ktlint", "dprint", "terragrunt_fmt")
_TEST_ID = re.compile(r"(^|[-_])(py)?tests?($|[-_])|^(jest|vitest|unittest|go-unit-tests|tox)")
_TERRAFORM = re.compile(r"^(terraform|terragrunt|tofu|infracost)[-_]|^(tflint|tfsec|tfupdate)")
_TEST_PROGRAMS = {"pytest", "tox", "nox", "jest", "vitest", "mocha", "phpunit", "rspec", "ava",
                  "karma", "playwright", "unittest"}
_TEST_VIA = {"go": "test", "cargo": "test", "dotnet": "test", "mvn": "test", "mvnw": "test",
             "gradle": "test", "gradlew": "test", "deno": "test", "bun": "test"}
SECRET_PROGRAMS = set(SECRET_TOOLS)
_IAC_PROGRAMS = {"terraform", "tofu", "terragrunt"}


def runs_tests(script: str) -> bool:
    for w in commands(script):
        args = [a for a in w[1:] if not a.startswith("-")]
        if w[0] in _TEST_PROGRAMS or _TEST_VIA.get(w[0]) in args[:1]:
            return True
        if w[0] in ("npm", "yarn", "pnpm", "make", "just", "task") and args and \
                (args[0] in ("test", "t") or args[0] == "run" and args[1:2] and
                 args[1].startswith("test") or args[0].startswith("test")):
            return True
    return False


def _tools(name: str, table: tuple[str, ...]) -> list[str]:
    low = name.lower()
    return [t for t in table if t == low or re.search(rf"(^|[-_/]){re.escape(t)}($|[-_])", low)]


def facts_for(hook_id: str, repo: str = "", script: str = "") -> dict[str, Any]:
    words = list(commands(script)) if script else []
    # a local hook's `entry` names its tool as a command: `terraform fmt` is terraform_fmt
    programs = [w[0] if w[0] not in _IAC_PROGRAMS or len(w) < 2 or w[1].startswith("-")
                else f"{w[0]}_{w[1]}" for w in words]
    return {"hooks": [hook_id],
            "linters": sorted({t for n in (hook_id, *programs) for t in _tools(n, LINTERS)}),
            "formatters": sorted({t for n in (hook_id, *programs) for t in _tools(n, FORMATTERS)}),
            "terraform_hooks": bool(_TERRAFORM.search(hook_id)) or "pre-commit-terraform" in repo
            or any(w[0] in _IAC_PROGRAMS or w[0] == "tflint" for w in words),
            "helm_hooks": "helm" in hook_id or "chart-testing" in hook_id or
            any(w[0] == "helm" or w[0] == "ct" and w[1:2] == ["lint"] for w in words),
            "secret_scanning": hook_id in SECRET_HOOKS or
            hook_id in SECRET_PROGRAMS or any(w[0] in SECRET_PROGRAMS for w in commands(script)),
            "runs_tests": (bool(_TEST_ID.search(hook_id)) and hook_id != "name-tests-test") or
            bool(script and runs_tests(script))}


def _lefthook_runs(body: Any, depth: int = 0) -> str:
    """The scripts of a lefthook command or job, with those of its nested `group:` jobs."""
    if not isinstance(body, dict) or depth > 5:
        return ""
    runs = [body["run"]] if isinstance(body.get("run"), str) else []
    group = body.get("group")
    jobs = group.get("jobs") if isinstance(group, dict) else None
    for job in jobs if isinstance(jobs, list) else []:
        runs.append(_lefthook_runs(job, depth + 1))
    return "\n".join(r for r in runs if r)


class PreCommitDetector:
    id = "pre_commit"
    description = "Git hooks: pre-commit framework, husky, lefthook, and what they run"
    kinds = {"pre_commit": kind(
        "Checks run before every commit", frameworks="set", hooks="set", linters="set",
        formatters="set", terraform_hooks="flag", helm_hooks="flag", secret_scanning="flag",
        runs_tests="flag")}
    patterns = (PRE_COMMIT, ".husky/*", "/lefthook.{yml,yaml}", "/.lefthook.{yml,yaml}",
                "/package.json")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.path == PRE_COMMIT.lstrip("/"):
            # `repo: meta` hooks check the config itself (check-hooks-apply, identity): a config
            # of only those runs nothing on the code
            hooks = [h for h in pre_commit_hooks(doc, strict=True) if h.repo != "meta"]
            for h in hooks:
                yield signal("pre_commit", doc.path, h.line, f"hook {h.id}",
                             frameworks=["pre-commit"], **facts_for(h.id, h.repo, h.entry))
        elif doc.path.startswith(".husky/"):
            if doc.name in GIT_HOOKS:
                yield from self._script(doc, doc.text, "husky", 1)
        elif doc.name == "package.json":
            try:
                pkg = doc.json
            except ParseError:
                return  # not ours to report
            husky = pkg.get("husky") if isinstance(pkg, dict) else None
            hooks = husky.get("hooks") if isinstance(husky, dict) else None
            if isinstance(hooks, dict):
                line = doc.line_of(r'^\s*"husky"\s*:') or 1
                for name, script in hooks.items():
                    if name in GIT_HOOKS and isinstance(script, str):
                        yield from self._script(doc, script, "husky", line)
        else:
            cfg = doc.yaml
            if isinstance(cfg, dict):
                for name, hook in cfg.items():
                    if name in GIT_HOOKS and isinstance(hook, dict):
                        yield from self._lefthook(doc, hook)

    def _script(self, doc: Document, script: str, framework: str, line: int) -> Iterator[Signal]:
        for words in commands(script):
            if words[0] in (".", "source", "set", "exit", "echo", "cd", "[", "test", "if",
                            "then", "fi", "true", "dirname", "export", "read", "exec"):
                continue
            cmd = words[0] if words[0] not in ("npm", "yarn", "pnpm", "make") else \
                " ".join(words[:2] if words[1:2] != ["run"] else words[:3])
            at = doc.line_of(re.escape(words[0])) if doc.path.startswith(".husky/") else line
            yield signal("pre_commit", doc.path, at or line, f"{framework} runs {cmd}",
                         frameworks=[framework], **facts_for(cmd, "", " ".join(words)))

    def _lefthook(self, doc: Document, hook: dict[str, Any]) -> Iterator[Signal]:
        items: list[tuple[str, Any, int]] = []
        for section in ("commands", "scripts"):
            body = hook.get(section)
            if isinstance(body, dict):
                items += [(str(k), v, body.line_of(k)) for k, v in body.items()]
        jobs = hook.get("jobs")
        for job in jobs if isinstance(jobs, list) else []:
            if isinstance(job, dict):
                items.append((str(job.get("name") or job.get("run") or "job"), job, job.line))
        for name, body, line in items:
            run = _lefthook_runs(body)
            yield signal("pre_commit", doc.path, line, f"lefthook {name}",
                         frameworks=["lefthook"],
                         **facts_for(name, "", run))


DETECTOR = PreCommitDetector()
