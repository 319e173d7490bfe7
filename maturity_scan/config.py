"""Per-repository configuration: `.maturity-scan.yaml` at the root, or `[tool.maturity-scan]`
in `pyproject.toml`; `--config FILE` overrides discovery.

    pack: devops                 # default pack
    rules: [ci/maturity-rules]   # extra rule directories (relative to the config file)
    archetype: service           # what the repository is, overriding what is inferred
    waive:                       # requirements switched off, each with a reason
      security.workflow_hardening: "GitLab mirror only; GitHub workflows are not used"
    exclude: ["examples/**", "docs/**"]     # paths never scanned
    include_set_aside: [test, vendored]     # count test data / vendored copies as practice
    components:                  # judge each service of a monorepo on its own (scan --components)
      include: ["services/*"]    # folders that are components, whatever discovery says
      exclude: ["services/legacy-*"]        # discovered components (folder or name) left out
    gate:
      fail_under: {iac: 3, security: 2}     # absolute floors for the gate
      allow_incomplete: false               # see the gate's documentation

Unknown keys and bad values are usage errors (exit 2) naming the key.

The repository's own config (and one committed at a git revision) is untrusted input like the
rest of the repository: it is read with the limits of repository files (size, nesting, alias
expansion) and its rule folders stay inside the repository (relative, no `..`, no symlink out
of it). A file given with `--config` is the user's choice: its rule folders may be anywhere.
"""
from __future__ import annotations

import os
import posixpath
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from maturity_scan.errors import UsageError
from maturity_scan.model import SCOPES
from maturity_scan.sdk import yamlsafe

CONFIG_FILE = ".maturity-scan.yaml"
KEYS = {"pack", "rules", "waive", "exclude", "gate", "include_set_aside", "archetype",
        "components"}
# What a repository is (`archetype: service`, or a list), overriding what is inferred: the
# dimensions and requirements whose `applies_to` names none of these are not applicable.
ARCHETYPES = ("library", "cli", "service", "operator", "infrastructure", "gitops", "examples",
              "docs")
GATE_KEYS = {"fail_under", "allow_incomplete"}
COMPONENT_KEYS = {"include", "exclude"}
RULE_FILES = ("*.yaml", "*.yml")

# The size cap of repository files: a scan skips larger ones (`engine.scan`, --max-file-size).
MAX_FILE_BYTES = 2 << 20
# Limits for configuration and rule packs, parsed in the main process: the size cap of
# repository files; nesting and node counts far above any real pack (devops.yaml: depth 9,
# 1,523 nodes) and far below what would cost the validators seconds.
MAX_BYTES = MAX_FILE_BYTES
MAX_DEPTH = 64
MAX_NODES = 100_000


@dataclass(frozen=True)
class GatePolicy:
    fail_under: Mapping[str, float] = field(default_factory=dict)
    allow_incomplete: bool = False


@dataclass(frozen=True)
class Components:
    """`components:`: a list of folder globs (include), or `{include: [...], exclude: [...]}`.
    Set at all, it turns per-component assessment on (as `scan --components` does)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    origin: str = ""  # the config file that set them, for the components it adds


@dataclass(frozen=True)
class Config:
    pack: str | None = None
    rule_dirs: tuple[Path, ...] = ()
    rule_paths: tuple[str, ...] = ()  # `rules:` as written, normalized (inside the repository
    #                                   unless the config came from --config)
    waivers: Mapping[str, str] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    include_set_aside: tuple[str, ...] = ()  # scopes of evidence counted again (model.SCOPES)
    gate: GatePolicy = GatePolicy()
    archetypes: tuple[str, ...] = ()  # `archetype:`; () lets the scan infer them
    components: Components | None = None  # `components:`; None when not set
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


def _components(origin: str, value: Any) -> Components | None:
    """`components:` as a list of folder globs or a mapping of include / exclude globs, each
    relative to the root and never above it."""
    if value is None:
        return None
    if isinstance(value, (list, str)):
        value = {"include": value}
    if not isinstance(value, dict):
        raise UsageError(f"{origin}: components: expected a list of folder globs or a mapping "
                         "with include / exclude")
    unknown = sorted(set(map(str, value)) - COMPONENT_KEYS)
    if unknown:
        raise UsageError(f"{origin}: components.{unknown[0]}: unknown key "
                         f"(known: {', '.join(sorted(COMPONENT_KEYS))})")
    out = {}
    for key in sorted(COMPONENT_KEYS):
        globs = _str_list(origin, f"components.{key}", value.get(key) or [])
        for g in globs:
            if g.startswith("/") or ".." in g.split("/"):
                raise UsageError(f"{origin}: components.{key}: {g}: must be a folder glob "
                                 "inside the repository (relative, no `..`)")
        out[key] = tuple(g.strip("/") if g.strip("/") else "." for g in globs)
    return Components(out["include"], out["exclude"], os.path.basename(origin))


def _confined_path(origin: str, rel: str) -> str:
    """A repository-relative folder, lexically normalized: never absolute, never above the
    root (`..`), so it means the same in a work tree and in a revision's git objects."""
    if rel.startswith("/"):
        raise UsageError(f"{origin}: rules: {rel}: must be a folder inside the repository "
                         "(a relative path; give folders elsewhere with --rules)")
    if ".." in rel.split("/"):
        raise UsageError(f"{origin}: rules: {rel}: must be a folder inside the repository "
                         "(no `..`; give folders elsewhere with --rules)")
    return posixpath.normpath(rel)


def from_mapping(data: Any, origin: str, base: Path, *, confined: bool = True) -> Config:
    """Settings from a parsed config. `confined`: rule folders must lie inside the repository
    (everything but an explicit --config file)."""
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
    rules = _str_list(origin, "rules", data.get("rules") or [])
    kinds = data.get("archetype") or []
    kinds = _str_list(origin, "archetype", [kinds] if isinstance(kinds, str) else kinds)
    wrong = sorted(set(kinds) - set(ARCHETYPES))
    if wrong:
        raise UsageError(f"{origin}: archetype: unknown archetype {wrong[0]} "
                         f"(known: {', '.join(ARCHETYPES)})")
    rule_paths = tuple(_confined_path(origin, r) if confined else os.path.normpath(r)
                       for r in rules)
    included = _str_list(origin, "include_set_aside", data.get("include_set_aside") or [])
    if set(included) - set(SCOPES):
        raise UsageError(f"{origin}: include_set_aside: unknown scope "
                         f"{sorted(set(included) - set(SCOPES))[0]} (known: {', '.join(SCOPES)})")
    return Config(
        pack=pack,
        rule_dirs=tuple(Path(os.path.normpath(base / p)) for p in rule_paths),
        rule_paths=rule_paths,
        waivers={str(k): str(v) for k, v in waive.items()},
        exclude=_str_list(origin, "exclude", data.get("exclude") or []),
        include_set_aside=included,
        gate=GatePolicy(parse_fail_under(f"{origin}: gate.fail_under",
                                         gate.get("fail_under") or {}), allow),
        archetypes=tuple(dict.fromkeys(kinds)),
        components=_components(origin, data.get("components")),
        origin=origin,
    )


def _parse_toml(text: str, origin: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{origin}: invalid TOML ({e})") from None
    except RecursionError:
        raise UsageError(f"{origin}: invalid TOML (nested too deeply)") from None


def parse_yaml(text: str, origin: str) -> Any:
    """One YAML document, refused before it is built when it nests or expands beyond the
    limits (a few hundred bytes of aliases can otherwise take gigabytes)."""
    try:
        yamlsafe.check_bounds(text, max_depth=MAX_DEPTH, max_nodes=MAX_NODES)
    except yamlsafe.YamlError as e:
        raise UsageError(f"{origin}: {e}") from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(f"{origin}: invalid YAML{where}") from None
    except RecursionError:  # not reached within MAX_DEPTH; a last line of defence
        raise UsageError(f"{origin}: invalid YAML (nested too deeply)") from None


def check_size(text: str, origin: str) -> None:
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogateescape")) > MAX_BYTES:
        raise UsageError(f"{origin}: larger than {MAX_BYTES:,} bytes (refused)")


def from_text(text: str, origin: str, base: Path, *, confined: bool = True) -> Config:
    """A config from file contents (also used for a config read from a git revision)."""
    check_size(text, origin)
    if origin.endswith("pyproject.toml"):
        data = _parse_toml(text, origin)
        section = data.get("tool", {}).get("maturity-scan") if isinstance(data, dict) else None
        return from_mapping(section, origin, base, confined=confined)
    return from_mapping(parse_yaml(text, origin), origin, base, confined=confined)


def read_bounded(path: Path, *, regular_only: bool, follow: bool = True,
                 what: str = "config") -> str:
    """At most MAX_BYTES of a file. `regular_only` (files of the repository, rule files): a
    FIFO or device is refused rather than opened (a FIFO would block the command forever);
    `follow=False`: so is a symbolic link."""
    flags = os.O_RDONLY | (os.O_NONBLOCK if regular_only else 0) | \
        (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if not follow and path.is_symlink():
            raise UsageError(f"{path}: cannot read {what} (a symbolic link)") from None
        raise UsageError(f"{path}: cannot read {what} ({type(e).__name__})") from None
    try:
        if regular_only and not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{path}: cannot read {what} (not a regular file)")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise UsageError(f"{path}: cannot read {what} ({type(e).__name__})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise UsageError(f"{path}: larger than {MAX_BYTES:,} bytes (refused)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: cannot read {what} (UnicodeDecodeError)") from None


def load_file(path: Path) -> Config:
    """A config file named on the command line: the user's choice, its rule folders may be
    anywhere (relative ones are relative to the file)."""
    text = read_bounded(path, regular_only=False)
    return from_text(text, str(path), path.parent.resolve(), confined=False)


def rule_files(directory: Path) -> list[Path]:
    """The packs of a rule folder: its YAML files, but for `_*` ones (the built-in folder's
    `_conditions.yaml` holds shared conditions, not a pack)."""
    return sorted(p for pattern in RULE_FILES for p in directory.glob(pattern)
                  if not p.name.startswith("_"))


def _check_rule_dir(root: Path, cfg: Config, rel: str) -> None:
    """A configured rule folder of the work tree: inside the root once symlinks are followed
    (the folder and each rule file), and holding at least one rule file."""
    top = root.resolve()
    folder = root / rel
    where = f"{cfg.origin}: rules: {rel}"
    if not folder.resolve().is_relative_to(top):
        raise UsageError(f"{where}: leads outside the repository (a symbolic link); give "
                         "folders elsewhere with --rules")
    if not folder.is_dir():
        raise UsageError(f"{where}: not a folder of rule files")
    files = rule_files(folder)
    for f in files:
        if not f.resolve().is_relative_to(top):
            raise UsageError(f"{where}: {f.name} leads outside the repository (a symbolic link)")
    if not files:
        raise UsageError(f"{where}: no rule files (*.yaml, *.yml) in this folder")


def discover(root: Path) -> Config:
    """The repository's own config: `.maturity-scan.yaml`, else `[tool.maturity-scan]` in
    `pyproject.toml`, else the defaults."""
    for name in (CONFIG_FILE, "pyproject.toml"):
        path = root / name
        if path.is_file() and not path.is_symlink():
            text = read_bounded(path, regular_only=True, follow=False)
            cfg = from_text(text, str(path), root)
            if cfg.origin and (name != "pyproject.toml" or cfg != Config(origin=cfg.origin)):
                for rel in cfg.rule_paths:
                    _check_rule_dir(root, cfg, rel)
                return cfg
    return Config()
