"""Shared by dockerfile and alembic: which files are Dockerfiles, and their instructions read
with a small line-continuation-aware parser (never built, never run)."""
from __future__ import annotations

import re
from collections.abc import Iterator

PATTERNS = ("Dockerfile", "*.Dockerfile", "*.dockerfile", "Dockerfile.*", "Containerfile",
            "Containerfile.*", "dockerfile")
# Names the patterns claim that are not Dockerfiles (`Dockerfile.md`, `Dockerfile.sh` …).
NOT_DOCKERFILE = re.compile(r"\.(md|markdown|rst|txt|adoc|html|json|ya?ml|sh|py|go|js|ts|orig|"
                            r"bak|swp|lock|dockerignore)$", re.IGNORECASE)
_INSTR = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$", re.DOTALL)
_ESCAPE = re.compile(r"^#\s*escape\s*=\s*(\S)", re.IGNORECASE)


def instructions(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) with continuations joined and comments skipped."""
    escape = "\\"
    buf: list[str] = []
    start = 0
    for i, raw in enumerate(lines, 1):
        if not buf and i <= 5 and _ESCAPE.match(raw.strip()):
            escape = _ESCAPE.match(raw.strip()).group(1)  # type: ignore[union-attr]
            continue
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and buf):
            continue  # comments and blank lines inside a continuation are dropped
        if not stripped:
            continue
        if not buf:
            start = i
        if stripped.endswith(escape):
            buf.append(stripped[:-1])
            continue
        buf.append(stripped)
        m = _INSTR.match(" ".join(buf))
        buf = []
        if m:
            yield start, m.group(1).upper(), m.group(2).strip()
    if buf:
        m = _INSTR.match(" ".join(buf))
        if m:
            yield start, m.group(1).upper(), m.group(2).strip()
