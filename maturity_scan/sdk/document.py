"""A file as detectors see it: its bytes and, on first use, each parse of them, memoised.

However many detectors look at a file, each format is parsed at most once (a failure is
remembered too), and so is anything derived from it through `cached` (its CI pipeline, its
Kubernetes objects). Every parse error is a `ParseError` whose message never quotes the file.
"""
from __future__ import annotations

import configparser
import json
import posixpath
import re
import tomllib
from collections.abc import Callable
from typing import Any, TypeVar

from maturity_scan.sdk import yamlsafe
from maturity_scan.sdk.globs import select

T = TypeVar("T")


class ParseError(ValueError):
    """The file cannot be read as the format asked for. The message says why, without
    quoting contents."""


class RepoView:
    """What a detector may know about the rest of the repository: which paths exist."""

    def __init__(self, paths: frozenset[str]) -> None:
        self.paths = paths
        self._dirs: frozenset[str] | None = None

    def exists(self, path: str) -> bool:
        return posixpath.normpath(path) in self.paths

    @property
    def dirs(self) -> frozenset[str]:
        """Every folder that holds a listed file, at any depth."""
        if self._dirs is None:
            dirs: set[str] = set()
            for p in self.paths:
                d = posixpath.dirname(p)
                while d and d not in dirs:
                    dirs.add(d)
                    d = posixpath.dirname(d)
            self._dirs = frozenset(dirs)
        return self._dirs

    def glob(self, *patterns: str) -> list[str]:
        """Listed paths matching any of the patterns (see `globs`), sorted."""
        return sorted(select(patterns, self.paths))

    def has_dir(self, path: str) -> bool:
        return posixpath.normpath(path) in self.dirs


def _hcl(text: str) -> Any:
    try:
        import pygohcl  # HashiCorp's own parser: ~40x faster than python-hcl2 (issue 2)
    except ImportError:  # no wheel for this platform: the pure-Python fallback
        import hcl2
        try:
            return hcl2.loads(text)
        except Exception as e:  # lark raises many types
            raise ParseError(f"invalid HCL ({type(e).__name__})") from None
    try:
        return pygohcl.loads(text)
    except pygohcl.HCLParseError as e:
        msg = str(e)
        m = re.search(r":(\d+),(\d+)-", msg)
        where = f" at line {m.group(1)}" if m else ""
        raise ParseError(f"invalid HCL{where}") from None
    except Exception as e:
        raise ParseError(f"invalid HCL ({type(e).__name__})") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply") from None


def _ini(text: str) -> configparser.ConfigParser:
    # No interpolation: `%(x)s` in an untrusted alembic.ini is text, never expanded.
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as e:
        lineno = getattr(e, "lineno", None)
        where = f" at line {lineno}" if lineno else ""
        raise ParseError(f"invalid INI{where} ({type(e).__name__})") from None
    return parser


def _toml(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        where = f" at line {m.group(1)}" if m else ""
        raise ParseError(f"invalid TOML{where}") from None


def _yaml(text: str) -> list[Any]:
    try:
        return yamlsafe.load_all(text)
    except yamlsafe.YamlError as e:
        raise ParseError(str(e)) from None


class Document:
    def __init__(self, path: str, data: bytes, repo: RepoView | None = None) -> None:
        self.path = path
        self.data = data
        self.repo = repo or RepoView(frozenset({path}))
        self._memo: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def dir(self) -> str:
        return posixpath.dirname(self.path)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per file, whoever asks: the value, or the `ParseError` it raised,
        is kept under `key` (a name of the reader's own, e.g. "ci", "k8s")."""
        if key not in self._memo:
            try:
                self._memo[key] = (True, compute())
            except ParseError as e:
                self._memo[key] = (False, e)
        ok, value = self._memo[key]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def _parse(self, fmt: str, parse: Callable[[str], Any]) -> Any:
        return self.cached(fmt, lambda: parse(self.text))

    def _decode(self) -> str:
        if b"\0" in self.data[:8192]:
            raise ParseError("binary file")
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ParseError(f"not valid UTF-8 (byte offset {e.start})") from None

    @property
    def text(self) -> str:
        return self.cached("text", self._decode)

    @property
    def yaml_documents(self) -> list[Any]:
        """Every document of a YAML stream (`---`), empty ones dropped."""
        return [d for d in self._parse("yaml", _yaml) if d is not None]

    @property
    def yaml(self) -> Any:
        """The first non-empty YAML document, or None for an empty file."""
        docs = self.yaml_documents
        return docs[0] if docs else None

    @property
    def json(self) -> Any:
        return self._parse("json", _json)

    @property
    def hcl(self) -> dict[str, Any]:
        return self._parse("hcl", _hcl)  # type: ignore[no-any-return]

    @property
    def ini(self) -> configparser.ConfigParser:
        return self._parse("ini", _ini)  # type: ignore[no-any-return]

    @property
    def toml(self) -> dict[str, Any]:
        return self._parse("toml", _toml)  # type: ignore[no-any-return]

    @property
    def lines(self) -> list[str]:
        return self.cached("lines", lambda: self.text.splitlines())

    def line_of(self, pattern: str | re.Pattern[str], start: int = 1) -> int | None:
        """1-based number of the first line at or after `start` matching a regex."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        for i, line in enumerate(self.lines[start - 1:], start):
            if rx.search(line):
                return i
        return None
