"""Chart templates the chart does not ship by default: a template whose whole text is one
`{{ if .Values.a.b }}` … `{{ end }}` (or `{{ if and .Values.x .Values.y }}`, or
`{{ with .Values.x }}`) while the chart's own `values.yaml` leaves that value false, null, empty
or missing. Such a template is *offered*, not installed: its evidence is set aside with scope
"disabled" (README, "What counts as evidence").

Only plain `.Values` paths are evaluated; any other condition (`not`, `or`, `eq`, a function, a
variable, an `else` branch) is not, and the template counts. `values.yaml` is read with the safe
YAML reader under the same bounds as the repository's configuration (nesting, alias expansion,
size), never executed; one that cannot be read gives an errors entry and its templates count.
Decided afresh on every scan, so a changed `values.yaml` is always seen: only a template's guard
(a pure function of its bytes) is kept in the parse cache, so a cached template is not read.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from maturity_scan import config
from maturity_scan.engine.source import FileTooLarge
from maturity_scan.model import FileError
from maturity_scan.sdk import yamlsafe

MAX_VALUES_BYTES = 1 << 20
DETECTOR = "helm_values"  # the name on errors entries

# A plain path, maybe in parentheses: `.Values.a.b`, `( .Values.a.b )`.
_PLAIN = re.compile(r"^(\(\s*)?\.Values((?:\.[A-Za-z_]\w*)+)(?(1)\s*\))$")
_IF = re.compile(r"^(?:if|with)\s+(.*)$", re.DOTALL)
_AND = re.compile(r"^if\s+and\s+(.*)$", re.DOTALL)
_OPENS = re.compile(r"^(if|with|range|define|block)\b")
_MIDDLE = re.compile(r"^else\b")


_COMMENT_START = re.compile(r"\s*/\*")


def _actions(text: str) -> list[tuple[int, int, str]] | None:
    """The template's actions (start, end, body without delimiters and trim markers), comments
    left out, in one linear pass; None when text other than whitespace lies before the first
    or after the last, or an action is not closed."""
    out: list[tuple[int, int, str]] = []
    pos, tail = 0, False  # tail: text seen after the latest action
    while True:
        start = text.find("{{", pos)
        gap = text[pos:] if start < 0 else text[pos:start]
        if gap.strip():
            if not out:
                return None
            tail = True
        if start < 0:
            break
        inner = start + 3 if text.startswith("{{-", start) else start + 2
        comment = _COMMENT_START.match(text, inner) is not None
        end = text.find("*/", inner) if comment else inner
        end = text.find("}}", end) if end >= 0 else -1
        if end < 0:
            return None
        if not comment:
            out.append((start, end + 2, text[inner:end].strip().removesuffix("-").strip()))
            tail = False
        pos = end + 2
    return None if tail else out


def template_guard(text: str) -> tuple[tuple[str, ...], ...] | None:
    """The `.Values` paths (each a tuple of keys) that must all be truthy for the template to
    render anything, when one `if`/`with` of plain paths wraps the whole text; else None."""
    actions = _actions(text)
    if actions is None or not actions:
        return None
    first, last = actions[0][2], actions[-1][2]
    if last != "end":
        return None
    guard = _condition(first)
    if not guard:
        return None
    depth = 0
    for i, (_, _, body) in enumerate(actions):
        if _OPENS.match(body):
            depth += 1
        elif body == "end":
            depth -= 1
            if depth == 0 and i != len(actions) - 1:
                return None  # the first block closes before the end: not the whole text
        elif depth == 1 and _MIDDLE.match(body):
            return None  # an else branch renders when the value is off
    if depth != 0:
        return None
    return guard


def _plain(operand: str) -> tuple[str, ...] | None:
    m = _PLAIN.match(operand)
    return tuple(m.group(2).split(".")[1:]) if m else None


def _operands(args: str) -> list[str] | None:
    """The top-level operands of a function call's arguments (parentheses and quoted strings
    kept whole); None when they do not balance."""
    out, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(args + " "):
        if quote:
            quote = "" if ch == quote and args[i - 1] != "\\" else quote
        elif ch in "\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return None
        elif ch.isspace() and depth == 0:
            if args[start:i].strip():
                out.append(args[start:i].strip())
            start = i + 1
    return out if depth == 0 and not quote else None


def _condition(action: str) -> tuple[tuple[str, ...], ...] | None:
    """The plain `.Values` paths of which any one left off keeps the block from rendering:
    the path of `if`/`with`, or the plain-path operands of `if and` (`and` is false as soon as
    one operand is; operands not evaluated are left out). None for anything else."""
    m = _AND.match(action)
    if m is not None:
        ops = _operands(m.group(1))
        if not ops:
            return None
        paths = [p for p in map(_plain, ops) if p is not None]
        return tuple(paths) or None
    m = _IF.match(action)
    path = _plain(m.group(1).strip()) if m else None
    return (path,) if path else None


_UNKNOWN = object()


def _lookup(values: Any, keys: tuple[str, ...]) -> Any:
    """The value at a path: None when a key is missing; _UNKNOWN where Helm itself would fail
    (a field of a string or list)."""
    node = values
    for key in keys:
        if node is None:
            return None
        if not isinstance(node, dict):
            return _UNKNOWN
        node = node.get(key)
    return node


def is_off(values: Any, guard: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the chart's defaults leave the guard false (Go template truth: false, 0, null,
    empty string, list or map are false)."""
    for keys in guard:
        v = _lookup(values, keys)
        if v is not _UNKNOWN and not v:
            return True
    return False


def _chart_of(path: str, paths: frozenset[str]) -> str | None:
    parts = path.split("/")
    if not parts[-1].endswith((".yaml", ".yml")) or parts[-1].startswith("_"):
        return None
    for i, part in enumerate(parts[:-1]):
        if part == "templates":
            chart = "/".join(parts[:i])
            if posixpath.join(chart, "Chart.yaml") in paths:
                return chart
    return None


def _values(chart: str, paths: frozenset[str], read: Callable[[str, int], bytes],
            errors: list[FileError]) -> Any:
    path = posixpath.join(chart, "values.yaml")
    if path not in paths:
        return None  # no defaults: every value is missing
    try:
        text = read(path, MAX_VALUES_BYTES).decode("utf-8", "replace")
        yamlsafe.check_bounds(text, max_depth=config.MAX_DEPTH, max_nodes=config.MAX_NODES)
        docs = yamlsafe.load_all(text)
    except yamlsafe.YamlError as e:
        errors.append(FileError(path, DETECTOR, f"{e}; the chart's templates count as shipped"))
        return _UNKNOWN
    except (OSError, KeyError, ValueError, FileTooLarge) as e:  # too large, unreadable
        errors.append(FileError(path, DETECTOR, f"could not be read ({type(e).__name__}); the "
                                "chart's templates count as shipped"))
        return _UNKNOWN
    docs = [d for d in docs if d is not None]
    if not docs:
        return None
    if len(docs) > 1 or not isinstance(docs[0], dict):
        errors.append(FileError(path, DETECTOR, "not one YAML mapping; the chart's templates "
                                "count as shipped"))
        return _UNKNOWN
    return docs[0]


GUARD_VERSION = "1"  # of template_guard's answers: bump when it decides differently
GUARD_NOTE = f"\0helm_guard\0{GUARD_VERSION}"  # its name in a parse-cache row (engine.cache)


def guard_note(guard: tuple[tuple[str, ...], ...] | None) -> list[list[str]]:
    """A guard as the parse cache keeps it (JSON): no guard is an empty list."""
    return [list(keys) for keys in guard or ()]


def guard_from_note(note: Any) -> tuple[tuple[str, ...], ...] | None:
    """The guard a parse-cache note holds; ValueError when it is not one of ours."""
    if not isinstance(note, list) or not all(
            isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)
            for keys in note):
        raise ValueError("not a template guard")
    return tuple(tuple(keys) for keys in note) or None


class DefaultsOff:
    """Decides, template by template as the scan reads them (or finds their guard in the parse
    cache), which chart templates render nothing with the chart's default values. Each chart's
    `values.yaml` is read afresh, once, when one of its templates has a guard; one that cannot
    be read adds an errors entry to `errors` and its templates count."""

    def __init__(self, paths: frozenset[str], read: Callable[[str, int], bytes],
                 errors: list[FileError]) -> None:
        self.paths, self.read, self.errors = paths, read, errors
        self._values: dict[str, Any] = {}

    def chart(self, path: str) -> str | None:
        """The chart `path` is a template of, or None."""
        return _chart_of(path, self.paths)

    def off(self, chart: str, guard: tuple[tuple[str, ...], ...] | None) -> bool:
        if guard is None:
            return False
        if chart not in self._values:
            self._values[chart] = _values(chart, self.paths, self.read, self.errors)
        return self._values[chart] is not _UNKNOWN and is_off(self._values[chart], guard)
