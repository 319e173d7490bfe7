"""Shared by the tool detectors (security scanners, supply chain, release, linters): the hooks of
the root `.pre-commit-config.yaml`, and which tool a hook runs. (Which CI steps use a tool is
`maturity_scan.sdk.ci.find`.)"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from maturity_scan.sdk import Document, ParseError, Signal, signal
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
