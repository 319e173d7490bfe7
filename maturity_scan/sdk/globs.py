"""Path patterns for detectors, compiled once into regular expressions.

A pattern with a `/` is anchored at the repository root (`.github/workflows/*.yml`); one
without matches the file name at any depth (`Dockerfile`). `*` stays inside one path segment,
`**/` spans any number of folders, `{a,b}` is an alternation, `[..]` a character class.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
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
