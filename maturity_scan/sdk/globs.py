"""Path patterns for detectors, compiled once into regular expressions.

A pattern with a `/` is anchored at the repository root (`.github/workflows/*.yml`); one
without matches the file name at any depth (`Dockerfile`). `*` stays inside one path segment,
`**/` spans any number of folders, `{a,b}` is an alternation, `[..]` a character class.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "{":
            end = pattern.find("}", i)
            if end == -1:
                out.append(re.escape(c))
            else:
                alts = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(_translate(a) for a in alts) + ")")
                i = end + 1
                continue
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def glob_to_regex(pattern: str) -> str:
    body = _translate(pattern.lstrip("/"))
    if "/" in pattern.rstrip("/"):
        return body
    return "(?:[^/]+/)*" + body


@lru_cache(maxsize=512)
def compile_globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex that matches a path when any of the patterns does."""
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("(?:" + "|".join(f"(?:{glob_to_regex(p)})" for p in patterns) + r")\Z")


def matches(path: str, patterns: Iterable[str]) -> bool:
    return compile_globs(tuple(patterns)).match(path) is not None


WILD = frozenset("*?[]{}/")  # a literal ending stops at these (`**/` may match no folder at all)


def expand(pattern: str) -> Iterator[str]:
    """The pattern with each `{a,b}` alternation spelt out (as `sdk.globs` reads them)."""
    start = pattern.find("{")
    end = pattern.find("}", start) if start != -1 else -1
    if start == -1 or end == -1:
        yield pattern
        return
    for alt in pattern[start + 1:end].split(","):
        for rest in expand(pattern[end + 1:]):
            yield pattern[:start] + alt + rest


def literal_ending(pattern: str) -> str:
    """The literal characters every match of `pattern` ends its file name with ('' if
    none)."""
    i = len(pattern)
    while i > 0 and pattern[i - 1] not in WILD:
        i -= 1
    return pattern[i:]


SELECT_UP_TO = 256  # paths: above this, compiling the patterns costs less than the pre-check


@lru_cache(maxsize=512)
def _endings(pattern: str) -> tuple[str, ...] | None:
    """The literal endings of the pattern's alternatives, or None when one has none."""
    out = tuple({literal_ending(alt) for alt in expand(pattern)})
    return None if "" in out else out


def select(patterns: tuple[str, ...], paths: Iterable[str]) -> list[str]:
    """The paths matching any of the patterns (as `compile_globs`), in their order. For a few
    paths, a pattern none of them ends like (its literal ending) is never compiled: a small
    repository's `glob` questions then compile little or nothing."""
    listed = paths if isinstance(paths, (list, tuple, frozenset, set)) else list(paths)
    if len(listed) <= SELECT_UP_TO:
        kept = []
        for p in patterns:
            ends = _endings(p)
            if ends is None or any(path.endswith(ends) for path in listed):
                kept.append(p)
        patterns = tuple(kept)
        if not patterns:
            return []
    rx = compile_globs(patterns)
    return [p for p in listed if rx.match(p)]
