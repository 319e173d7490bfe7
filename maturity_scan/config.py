"""Per-repository configuration: `.maturity-scan.yaml` at the root, or `[tool.maturity-scan]`
in `pyproject.toml`; `--config FILE` overrides discovery.

    pack: devops                 # default pack
    rules: [ci/maturity-rules]   # extra rule directories (relative to the config file)
    waive:                       # requirements switched off, each with a reason
      security.workflow_hardening: "GitLab mirror only; GitHub workflows are not used"
    exclude: ["examples/**", "docs/**"]     # paths never scanned
    gate:
      fail_under: {iac: 3, security: 2}     # absolute floors for the gate
      allow_incomplete: false               # see the gate's documentation

Unknown keys and bad values are usage errors (exit 2) naming the key.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from maturity_scan.errors import UsageError

CONFIG_FILE = ".maturity-scan.yaml"
KEYS = {"pack", "rules", "waive", "exclude", "gate"}
GATE_KEYS = {"fail_under", "allow_incomplete"}


@dataclass(frozen=True)
class GatePolicy:
    fail_under: Mapping[str, float] = field(default_factory=dict)
    allow_incomplete: bool = False


@dataclass(frozen=True)
class Config:
    pack: str | None = None
    rule_dirs: tuple[Path, ...] = ()
    waivers: Mapping[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    gate: GatePolicy = GatePolicy()
    origin: str = ""  # where it was read from, for messages; "" when there was none


def _str_list(origin: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{origin}: {key}: expected a list of strings")
    return tuple(value)


def parse_fail_under(origin: str, value: Any) -> dict[str, float]:
    """`{iac: 3}` from a config, or `iac=3,security=2` from the command line."""
    if isinstance(value, str):
        pairs: dict[str, Any] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            dim, sep, level = item.partition("=")
            if not sep or not dim:
                raise UsageError(f"{origin}: {item!r}: expected DIMENSION=LEVEL")
            pairs[dim.strip()] = level.strip()
        value = pairs
    if not isinstance(value, dict):
        raise UsageError(f"{origin}: expected a mapping of dimension to level")
    out: dict[str, float] = {}
    for dim, level in value.items():
        try:
            out[str(dim)] = float(level)
        except (TypeError, ValueError):
            raise UsageError(f"{origin}: {dim}: level must be a number, got {level!r}") from None
        if out[str(dim)] < 1:
            raise UsageError(f"{origin}: {dim}: level must be at least 1")
    return out


def from_mapping(data: Any, origin: str, base: Path) -> Config:
    if data is None:
        return Config(origin=origin)
    if not isinstance(data, dict):
        raise UsageError(f"{origin}: expected a mapping of settings")
    unknown = sorted(set(map(str, data)) - KEYS)
    if unknown:
        raise UsageError(f"{origin}: {unknown[0]}: unknown key (known: {', '.join(sorted(KEYS))})")
    pack = data.get("pack")
    if pack is not None and (not isinstance(pack, str) or not pack):
        raise UsageError(f"{origin}: pack: expected a pack name")
    waive = data.get("waive") or {}
    if not isinstance(waive, dict):
        raise UsageError(f"{origin}: waive: expected a mapping of requirement id to reason")
    for rid, reason in waive.items():
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f"{origin}: waive.{rid}: a waiver needs a reason")
    gate = data.get("gate") or {}
    if not isinstance(gate, dict):
        raise UsageError(f"{origin}: gate: expected a mapping")
    unknown = sorted(set(map(str, gate)) - GATE_KEYS)
    if unknown:
        raise UsageError(f"{origin}: gate.{unknown[0]}: unknown key "
                         f"(known: {', '.join(sorted(GATE_KEYS))})")
    allow = gate.get("allow_incomplete", False)
    if not isinstance(allow, bool):
        raise UsageError(f"{origin}: gate.allow_incomplete: expected true or false")
    return Config(
        pack=pack,
        rule_dirs=tuple(base / p for p in _str_list(origin, "rules", data.get("rules") or [])),
        waivers={str(k): str(v) for k, v in waive.items()},
        exclude=_str_list(origin, "exclude", data.get("exclude") or []),
        gate=GatePolicy(parse_fail_under(f"{origin}: gate.fail_under",
                                         gate.get("fail_under") or {}), allow),
        origin=origin,
    )


def from_text(text: str, origin: str, base: Path) -> Config:
    """A config from file contents (also used for a config read from a git revision)."""
    if origin.endswith("pyproject.toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise UsageError(f"{origin}: invalid TOML ({e})") from None
        return from_mapping(data.get("tool", {}).get("maturity-scan"), origin, base)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(f"{origin}: invalid YAML{where}") from None
    return from_mapping(data, origin, base)


def load_file(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot read config ({type(e).__name__})") from None
    return from_text(text, str(path), path.parent)


def discover(root: Path) -> Config:
    """The repository's own config: `.maturity-scan.yaml`, else `[tool.maturity-scan]` in
    `pyproject.toml`, else the defaults."""
    for name in (CONFIG_FILE, "pyproject.toml"):
        path = root / name
        if path.is_file() and not path.is_symlink():
            cfg = load_file(path)
            if cfg.origin and (name != "pyproject.toml" or cfg != Config(origin=cfg.origin)):
                return cfg
    return Config()
