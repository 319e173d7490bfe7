"""Workspaces of a monorepo: the member globs a root manifest lists (`package.json`
`workspaces`, `pnpm-workspace.yaml` `packages`, `go.work` `use`, Cargo `[workspace] members`, uv
`[tool.uv.workspace] members`), and the member folders they select. The globs are the
repository's: matched with RE2 (linear time whatever their shape), at most MAX_MEMBERS each."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import re2

from maturity_scan.sdk import Document, globs

FILES = ("package.json", "pnpm-workspace.yaml", "go.work", "Cargo.toml", "pyproject.toml")
MAX_MEMBERS = 200  # entries read per manifest (each is matched against every folder)
_SURROGATE = re.compile("[\ud800-\udfff]")
_DOUBLE_STARS = re.compile(r"(?:\*\*/)+")


def _lines(doc: Document, needle: str) -> int:
    return doc.line_of(re.escape(needle)) or 1


def members(doc: Document) -> Iterator[tuple[str, int]]:
    """(member glob, line) of a root workspace manifest; `!glob` excludes."""
    members: Any = None
    if doc.name == "package.json":
        data = doc.json
        ws = data.get("workspaces") if isinstance(data, dict) else None
        members = ws.get("packages") if isinstance(ws, dict) else ws
    elif doc.name == "pnpm-workspace.yaml":
        data = doc.yaml
        members = data.get("packages") if isinstance(data, dict) else None
    elif doc.name == "Cargo.toml":
        ws = doc.toml.get("workspace")
        members = ws.get("members") if isinstance(ws, dict) else None
    elif doc.name == "pyproject.toml":
        tool = doc.toml.get("tool")
        uv = tool.get("uv") if isinstance(tool, dict) else None
        ws = uv.get("workspace") if isinstance(uv, dict) else None
        members = ws.get("members") if isinstance(ws, dict) else None
    elif doc.name == "go.work":
        yield from _go_work(doc)
        return
    for m in members[:MAX_MEMBERS] if isinstance(members, list) else []:
        if isinstance(m, str) and m.strip():
            yield m.strip(), _lines(doc, m.strip())


def _go_work(doc: Document) -> Iterator[tuple[str, int]]:
    yield from _first(_go_use(doc), MAX_MEMBERS)


def _first(items: Iterable[tuple[str, int]], n: int) -> Iterator[tuple[str, int]]:
    for i, item in enumerate(items):
        if i == n:
            return
        yield item


def _go_use(doc: Document) -> Iterator[tuple[str, int]]:
    block = False
    for i, raw in enumerate(doc.lines, 1):
        line = raw.split("//", 1)[0].strip()
        if block:
            if line.startswith(")"):
                block = False
            elif line:
                yield line.strip('"'), i
        elif line.startswith("use"):
            rest = line[3:].strip()
            if rest.startswith("("):
                block = True
            elif rest:
                yield rest.strip('"'), i


def deploying(workspaces: list[dict[str, Any]], view: Any, anchor: Any,
              starts: Collection[str] = ()) -> Iterator[tuple[str, dict[str, Any]]]:
    """(folder, the manifest entry naming it) of each workspace member holding a file that
    `anchor` matches (relative to the member's folder), or one of `starts` (a package.json
    with a start script). `workspaces`: `{glob, file, line}` entries, a `!glob` excludes."""
    include = [w for w in workspaces if not w["glob"].startswith("!")]
    exclude = tuple("/" + _clean(w["glob"][1:]) for w in workspaces if w["glob"].startswith("!"))
    wanted: dict[str, dict[str, Any]] = {}  # member folder -> the manifest entry naming it
    entries: list[tuple[dict[str, Any], str]] = []  # (the first entry of each glob, the glob)
    for w in include[:MAX_MEMBERS]:
        pattern = "/" + _clean(w["glob"])
        if pattern not in ("/", "/.") and all(pattern != p for _, p in entries):
            entries.append((w, pattern))
    which, skip = _untrusted([p for _, p in entries]), _untrusted(exclude[:MAX_MEMBERS])
    if which is None:
        return
    for folder in sorted(view.dirs):  # one pass: the group that matched names the entry
        text = folder if folder.isascii() else _SURROGATE.sub("\ufffd", folder)  # RE2: UTF-8
        m = which.fullmatch(text)
        if m and m.lastindex and not (skip is not None and skip.fullmatch(text)):
            wanted[folder] = entries[m.lastindex - 1][0]
    if not wanted:
        return
    deploys = {d for d in wanted if d in starts}
    for p in view.paths:  # one pass: each path against the members above it
        d = posixpath.dirname(p)
        while d:
            if d in wanted and d not in deploys and anchor.match(p[len(d) + 1:]):
                deploys.add(d)
            d = posixpath.dirname(d)
    for folder in sorted(deploys):
        yield folder, wanted[folder]


def _untrusted(patterns: Sequence[str]) -> Any:
    """The repository's globs as one RE2 over a whole path (linear time, whatever they are),
    a group per glob; None when there are none or RE2 refuses them."""
    if not patterns:
        return None
    try:
        return re2.compile("(?:" + "|".join(f"({globs.glob_to_regex(p)})" for p in patterns)
                           + ")")
    except re2.error:
        return None


def _clean(pattern: str) -> str:
    """A member glob as written, without `./` and a trailing `/`; `**/**/` is `**/`."""
    pattern = pattern.strip().strip('"')
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return _DOUBLE_STARS.sub("**/", pattern.rstrip("/"))
