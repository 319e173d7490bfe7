"""Shared by the tool detectors (security scanners, supply chain, release, linters): the hooks of
the root `.pre-commit-config.yaml`, and which tool a hook runs. (Which CI steps use a tool is
`maturity_scan.sdk.ci.find`.)"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from maturity_scan.sdk import Document, ParseError, Signal, signal
from maturity_scan.sdk.ci import gitlab_includes
from maturity_scan.sdk.globs import compile_globs
from maturity_scan.sdk.shell import commands

PRE_COMMIT = "/.pre-commit-config.yaml"


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


def hook_tool(hooks: Mapping[str, str], programs: Mapping[str, str], hook_id: str,
              entry: str = "") -> str | None:
    """The tool a pre-commit hook runs: by its id (`hooks`: id -> tool), or a local hook's
    `entry` command (`programs`: command -> tool)."""
    if hook_id in hooks:
        return hooks[hook_id]
    return next((programs[w[0]] for w in commands(entry) if w[0] in programs), None)


def hook_signals(doc: Document, kind_name: str, hooks: Mapping[str, str],
                 programs: Mapping[str, str]) -> Iterator[Signal]:
    """A `kind_name` signal (tools, pre_commit) for each root pre-commit hook that runs one of
    the tools (`hook_tool`)."""
    for hook in pre_commit_hooks(doc):
        if (tool := hook_tool(hooks, programs, hook.id, hook.entry)) is not None:
            yield signal(kind_name, doc.path, hook.line, f"pre-commit hook {hook.id}",
                         tools=[tool], pre_commit=True)


# Files a root .gitlab-ci.yml includes locally, by GitLab's conventions (as gitlab_ci reads them)
GITLAB_FRAGMENTS = (".gitlab/**/*.y{a,}ml", "**/*.gitlab-ci.y{a,}ml")
_FRAGMENT = compile_globs(GITLAB_FRAGMENTS)


def gitlab_security_includes(doc: Document) -> Iterator[tuple[str, int]]:
    """`include: template:` / `component:` names with their lines, of the root .gitlab-ci.yml or
    of a fragment it includes (`.gitlab/ci/test.gitlab-ci.yml`; only when a root pipeline
    exists, and a broken fragment is the gitlab_ci detector's to report)."""
    if doc.path == ".gitlab-ci.yml":
        yield from gitlab_includes(doc)
        return
    if not _FRAGMENT.match(doc.path) or not doc.repo.exists(".gitlab-ci.yml"):
        return
    try:
        data = doc.yaml
    except ParseError:
        return
    inc = data.get("include") if isinstance(data, dict) else None
    for item in inc if isinstance(inc, list) else [inc]:
        for key in ("template", "component"):
            if isinstance(item, dict) and isinstance(item.get(key), str):
                yield item[key], getattr(item, "line", 0) or doc.line_of(r"^include:") or 1
