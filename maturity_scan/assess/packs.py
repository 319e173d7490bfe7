"""Rule packs: YAML files in `rules/` (and any `--rules DIR`), loaded, validated, typed.

Validation is strict because a gate that silently skips a broken rule quietly lowers the bar:
every problem is a UsageError naming the file, the rule and the offending key.

A pack can come from the scanned repository (its config's `rules:`), so it is read with the
limits of config files (size, nesting, alias expansion) and its regular expressions run on RE2,
whose matching time is linear in the text: no pattern can make a scan hang.

Validating is the slow part of every command (the round-trip YAML parser keeps line numbers for
the error messages, then the schema, then the checks): a `PackStore` keeps each validated pack
as JSON, keyed by a digest of everything its validation read (the file's path and text, the
shared conditions, the schema, the detectors' kinds, this module's code and the tool's
version), so a changed
file is validated again and an unchanged one is read back in a millisecond. `rules validate`
always validates.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import re2

from maturity_scan import config
from maturity_scan.errors import UsageError
from maturity_scan.model import FactType, KindSpec
from maturity_scan.sdk import yamlsafe

if TYPE_CHECKING:  # imported where used: only a pack that is validated needs them
    import jsonschema

# Repository archetypes (the `archetype` signal's `types`), which `applies_to` names.
ARCHETYPES = ("library", "cli", "service", "operator", "infrastructure", "gitops",
              "examples", "docs")
OPERATORS = ("equals", "at_least", "at_most", "contains", "contains_any", "in", "matches")
NUMERIC = {FactType.COUNT, FactType.NUMBER}


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    hint: str
    when: Mapping[str, Any]
    ref: str = ""
    applies_to: tuple[str, ...] = ()  # archetypes it applies to; empty: every repository
    hints: Mapping[str, str] | None = None  # by stack (python, go, ...): the hint for that stack


@dataclass(frozen=True)
class Level:
    level: float
    name: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Dimension:
    id: str
    title: str
    levels: tuple[Level, ...]
    note: str = ""
    applies_to: tuple[str, ...] = ()  # archetypes it applies to; empty: every repository

    @property
    def max_level(self) -> float:
        return self.levels[-1].level


@dataclass(frozen=True)
class Pack:
    id: str
    title: str
    description: str
    dimensions: tuple[Dimension, ...]
    requirements: Mapping[str, Requirement]
    path: str
    step: float = 1.0
    note: str = ""
    aliases: Mapping[str, str] | None = None  # old requirement id -> current id

    def dimension(self, dim_id: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.id == dim_id), None)


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("maturity_scan.schema").joinpath("rules.schema.json").read_text()


def _schema() -> dict[str, Any]:
    return json.loads(_schema_text())  # type: ignore[no-any-return]


def _path_text(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, message: str, line: int | None = None) -> None:
        loc = f"{self.file}:{line}" if line else self.file
        raise UsageError(f"{loc}: {where}: {message}")


def _line(node: Any, key: Any = None) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        return int(lc.key(key)[0]) + 1 if key is not None else int(lc.line) + 1
    except (KeyError, TypeError, AttributeError):
        return int(lc.line) + 1


def _rule_name(data: Any, path: Sequence[Any]) -> tuple[str, Any]:
    """The rule a schema error is about (`requirement X`, `dimension Y`) and its node."""
    if len(path) >= 2 and path[0] in ("requirements", "dimensions") and isinstance(path[1], int):
        try:
            node = data[path[0]][path[1]]
            return f"{path[0][:-1]} {node.get('id', f'#{path[1] + 1}')}", node
        except (IndexError, KeyError, TypeError, AttributeError):
            pass
    return "pack", data


def _schema_error(problems: _Problems, data: Any, err: jsonschema.ValidationError) -> None:
    path = list(err.absolute_path)
    rule, node = _rule_name(data, path)
    key = _path_text(path[2:] if rule != "pack" else path) or "(top level)"
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        key = ".".join(filter(None, [key if key != "(top level)" else "", extra[0]]))
        msg = f"unknown key (allowed: {', '.join(sorted(err.schema.get('properties', {})))})"
    elif err.validator == "oneOf":
        msg = ("a condition needs exactly one of all / any / not / kind / fact / requirement "
               f"(got {', '.join(sorted(err.instance)) if isinstance(err.instance, dict) else err.instance})")
    elif err.validator == "required":
        msg = err.message.replace("'", "")
    else:
        msg = err.message
    target = node
    for part in path[2:] if rule != "pack" else path:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            break
    problems.fail(f"{rule}: {key}", msg, _line(target) or _line(node))


def walk(cond: Mapping[str, Any],
         where: str = "when") -> Iterator[tuple[Mapping[str, Any], str]]:
    """Every condition of a rule's `when`, itself first, each with its place
    (`when.all[0].not`)."""
    yield cond, where
    for op in ("all", "any"):
        for i, sub in enumerate(cond.get(op) or []):
            yield from walk(sub, f"{where}.{op}[{i}]")
    if "not" in cond:
        yield from walk(cond["not"], f"{where}.not")


def _check_condition(problems: _Problems, rid: str, cond: Mapping[str, Any], where: str,
                     kinds: Mapping[str, KindSpec], req_ids: set[str]) -> None:
    line = _line(cond)
    if "kind" in cond:
        if cond["kind"] not in kinds:
            problems.fail(f"requirement {rid}: {where}.kind",
                          f"unknown kind {cond['kind']}", line)
        extra = set(cond) - {"kind", "min_evidence"}
        if extra:
            problems.fail(f"requirement {rid}: {where}.{sorted(extra)[0]}",
                          "not valid with kind (only min_evidence is)", line)
    if "requirement" in cond:
        if cond["requirement"] not in req_ids:
            problems.fail(f"requirement {rid}: {where}.requirement",
                          f"unknown requirement {cond['requirement']}", line)
        if len(cond) > 1:
            problems.fail(f"requirement {rid}: {where}", "requirement takes no other keys", line)
    if "fact" in cond:
        kind, _, fact = cond["fact"].partition(".")
        if kind not in kinds:
            problems.fail(f"requirement {rid}: {where}.fact", f"unknown kind {kind}", line)
        ftype = kinds[kind].facts.get(fact)
        if ftype is None:
            known = ", ".join(sorted(kinds[kind].facts)) or "none"
            problems.fail(f"requirement {rid}: {where}.fact",
                          f"unknown fact {cond['fact']} (facts of {kind}: {known})", line)
        if ftype is FactType.RECORDS:
            problems.fail(f"requirement {rid}: {where}.fact",
                          f"{cond['fact']} is a list of records, not testable by rules", line)
        ops = [op for op in OPERATORS if op in cond]
        if len(ops) > 1:
            problems.fail(f"requirement {rid}: {where}",
                          f"one operator per fact condition (got {', '.join(ops)})", line)
        extra = set(cond) - {"fact", *OPERATORS}
        if extra:
            problems.fail(f"requirement {rid}: {where}.{sorted(extra)[0]}",
                          "not valid with fact", line)
        for op in ops:
            # on a set, at_least / at_most compare its size ("at least 2 overlays")
            ok = {"at_least": ftype in NUMERIC | {FactType.SET},
                  "at_most": ftype in NUMERIC | {FactType.SET},
                  "contains": ftype is FactType.SET, "contains_any": ftype is FactType.SET,
                  "matches": ftype in (FactType.TEXT, FactType.SET),
                  "in": ftype in (FactType.TEXT, FactType.NUMBER, FactType.COUNT),
                  "equals": True}[op]
            if not ok:
                problems.fail(f"requirement {rid}: {where}.{op}",
                              f"bad operator for {cond['fact']}, a {ftype.value} fact", line)
            if op == "matches":
                problem = regex_problem(cond[op])
                if problem:
                    problems.fail(f"requirement {rid}: {where}.matches", problem, line)


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error comes back as an exception; no noise on stderr
    return options


@lru_cache(maxsize=512)
def rule_regex(pattern: str) -> Any:
    """A rule's `matches` pattern compiled for RE2 (linear-time matching, no backtracking).
    Raises re2.error for a pattern RE2 does not accept; packs are validated at load."""
    return re2.compile(pattern, _re2_options())


def regex_problem(pattern: str) -> str | None:
    """Why a `matches` pattern cannot be used, or None."""
    try:
        rule_regex(pattern)
        return None
    except re2.error as e:
        why = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) \
            else str(e)
    try:
        re.compile(pattern)
    except re.error as e:
        return f"invalid regular expression ({e.msg})"
    return (f"unsupported regular expression syntax ({why}): rules use RE2, which matches in "
            "linear time and has no backreferences or lookaround")


def _load_yaml(path: Path, text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        yamlsafe.check_bounds(text, max_depth=config.MAX_DEPTH, max_nodes=config.MAX_NODES)
    except yamlsafe.YamlError as e:
        raise UsageError(f"{path}: {e}") from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        raise UsageError(f"{path}{where}: invalid YAML: {problem}") from None
    except RecursionError:  # not reached within MAX_DEPTH; a last line of defence
        raise UsageError(f"{path}: invalid YAML: nested too deeply") from None


# Validated packs by (path, text, kinds): one command loads the packs several times (to check
# the --pack name, to assess, to render SARIF), and validation is the slow part.
_VALIDATED: dict[tuple[str, str, str, tuple[Any, ...]], Pack] = {}


def _kinds_key(kinds: Mapping[str, KindSpec]) -> tuple[Any, ...]:
    return tuple((k, tuple(sorted((f, t.value) for f, t in spec.facts.items())))
                 for k, spec in sorted(kinds.items()))


CONDITIONS_FILE = "_conditions.yaml"
SHARED = "shared."  # the ids of shared conditions start so


def _conditions_text() -> str:
    return (builtin_dir() / CONDITIONS_FILE).read_text(encoding="utf-8")


def shared_conditions(kinds: Mapping[str, KindSpec]) -> dict[str, Requirement]:
    """The shared conditions (rules/_conditions.yaml): practices defined once, which every
    pack references as `{requirement: shared.<name>}`, so that packs differ in how they stage
    a practice, never in what it is."""
    text = _conditions_text()
    key = ("<conditions>", text, _kinds_key(kinds))
    if key not in _CONDITIONS:
        path = builtin_dir() / CONDITIONS_FILE
        problems = _Problems(str(path))
        data = _load_yaml(path, text)
        items = data.get("conditions") if isinstance(data, dict) else None
        if not isinstance(items, list):
            problems.fail("conditions", "expected a list of conditions")
        found: dict[str, Requirement] = {}
        for raw in items:
            if not isinstance(raw, dict) or not {"id", "title", "when"} <= set(raw) or \
                    not str(raw["id"]).startswith(SHARED) or raw["id"] in found:
                problems.fail("conditions", f"each needs a unique id shared.<name>, a title and "
                              f"a when (at {raw!r:.80})", _line(raw))
            found[raw["id"]] = Requirement(raw["id"], raw["title"], raw.get("hint", raw["title"]),
                                           raw["when"], raw.get("ref", ""))
        # A condition on kinds (or facts) this registry does not have (a test's, a trimmed
        # plugin set) is left out: a pack referencing it then fails as an unknown requirement.
        usable = {rid: req for rid, req in found.items()
                  if all(c["kind"] in kinds if "kind" in c else
                         c["fact"].partition(".")[2] in getattr(
                             kinds.get(c["fact"].partition(".")[0]), "facts", {})
                         for c, _ in walk(req.when) if "kind" in c or "fact" in c)}
        for req in usable.values():
            for cond, where in walk(req.when):
                _check_condition(problems, req.id, cond, where, kinds, set(usable))
        _CONDITIONS[key] = usable
    return _CONDITIONS[key]


_CONDITIONS: dict[tuple[str, str, tuple[Any, ...]], dict[str, Requirement]] = {}


def load_pack(path: Path, kinds: Mapping[str, KindSpec],
              store: PackStore | None = None) -> Pack:
    """Load and fully validate one rule file (or read it back validated from `store`)."""
    text = config.read_bounded(path, regular_only=True, what="rule file")
    key = (str(path), text, _conditions_text(), _kinds_key(kinds))
    if key not in _VALIDATED:
        if len(_VALIDATED) >= 64:
            _VALIDATED.clear()
        pack = store.get(key, kinds) if store is not None else None
        if pack is None:
            pack = _validated(path, text, kinds)
            if store is not None:
                store.put(key, pack)
        _VALIDATED[key] = pack
    return _VALIDATED[key]


def _validated(path: Path, text: str, kinds: Mapping[str, KindSpec]) -> Pack:
    import jsonschema
    import networkx as nx

    problems = _Problems(str(path))
    data = _load_yaml(path, text)
    if not isinstance(data, dict):
        problems.fail("pack", "a rule file is a mapping with pack, title, dimensions, "
                      "requirements")
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        _schema_error(problems, data, jsonschema.exceptions.best_match(errors))

    reqs: dict[str, Requirement] = dict(shared_conditions(kinds))
    aliases: dict[str, str] = {}
    for raw in data["requirements"]:
        rid = raw["id"]
        if rid.startswith(SHARED):
            problems.fail(f"requirement {rid}", "shared.* ids are the shared conditions of "
                          "rules/_conditions.yaml; reference them, do not redefine them", _line(raw))
        if rid in reqs or rid in aliases:
            problems.fail(f"requirement {rid}", "duplicate id", _line(raw))
        reqs[rid] = Requirement(rid, raw["title"], raw["hint"], raw["when"], raw.get("ref", ""),
                                tuple(raw.get("applies_to") or ()), dict(raw.get("hints") or {}))
        for alias in raw.get("aliases") or []:
            aliases[alias] = rid
    ids = set(reqs) | set(aliases)
    refs = nx.DiGraph()
    for raw in data["requirements"]:
        for cond, where in walk(raw["when"]):
            _check_condition(problems, raw["id"], cond, where, kinds, ids)
            if "requirement" in cond:
                refs.add_edge(aliases.get(cond["requirement"], cond["requirement"]), raw["id"])
    try:
        ring = [a for a, _ in nx.find_cycle(refs)]
        start = ring.index(min(ring))  # deterministic: start at the smallest id
        ring = ring[start:] + ring[:start]
        problems.fail(f"requirement {ring[0]}", "cycle: " + " -> ".join([*ring, ring[0]]))
    except nx.NetworkXNoCycle:
        pass

    step = float(data.get("step", 1))
    dims: list[Dimension] = []
    for raw in data["dimensions"]:
        did = raw["id"]
        if any(d.id == did for d in dims):
            problems.fail(f"dimension {did}", "duplicate id", _line(raw))
        levels = sorted(raw["levels"], key=lambda lv: float(lv["level"]))
        expected = 1.0
        seen: set[float] = set()
        for lv in levels:
            value = float(lv["level"])
            if value in seen:
                problems.fail(f"dimension {did}: level {lv['level']}", "duplicate level", _line(lv))
            if abs(value - expected) > 1e-9:
                problems.fail(f"dimension {did}: level {lv['level']}",
                              f"level gap: expected level {expected:g} (step {step:g})", _line(lv))
            seen.add(value)
            expected = value + step
            for rid in lv.get("requires") or []:
                if rid not in ids:
                    problems.fail(f"dimension {did}: level {lv['level']}: requires",
                                  f"unknown requirement {rid}", _line(lv))
        if levels[0].get("requires"):
            problems.fail(f"dimension {did}: level 1", "level 1 needs no evidence "
                          "(every repository starts there)", _line(levels[0]))
        dims.append(Dimension(did, raw["title"], tuple(
            Level(float(lv["level"]), lv.get("name", ""),
                  tuple(aliases.get(r, r) for r in lv.get("requires") or []))
            for lv in levels), raw.get("note", ""), tuple(raw.get("applies_to") or ())))
    pack = Pack(data["pack"], data["title"], data.get("description", ""), tuple(dims), reqs,
                str(path), step, data.get("note", ""), aliases)
    # Plain dicts, lists and strings from here on (no YAML node types): a pack read back from
    # a PackStore is then equal to the one validated.
    return _pack_from_json(json.loads(json.dumps(_pack_json(pack), default=str)))


# --- validated packs kept between runs ------------------------------------------------------

STORE_FORMAT = "1"  # of the stored JSON: bump when _pack_json changes
STORE_MAX_FILES = 256  # the oldest go first beyond this


def _pack_json(pack: Pack) -> dict[str, Any]:
    return {
        "id": pack.id, "title": pack.title, "description": pack.description, "path": pack.path,
        "step": pack.step, "note": pack.note, "aliases": dict(pack.aliases or {}),
        "dimensions": [{"id": d.id, "title": d.title, "note": d.note,
                        "applies_to": list(d.applies_to),
                        "levels": [{"level": lv.level, "name": lv.name,
                                    "requires": list(lv.requires)} for lv in d.levels]}
                       for d in pack.dimensions],
        "requirements": [{"id": r.id, "title": r.title, "hint": r.hint, "when": r.when,
                          "ref": r.ref, "applies_to": list(r.applies_to),
                          "hints": None if r.hints is None else dict(r.hints)}
                         for r in pack.requirements.values()],
    }


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("not a list of strings")
    return tuple(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _pack_from_json(data: dict[str, Any]) -> Pack:
    """The pack `_pack_json` wrote; TypeError/KeyError/ValueError when `data` is not one."""
    reqs: dict[str, Requirement] = {}
    for r in data["requirements"]:
        hints = r["hints"]
        if hints is not None and not (isinstance(hints, dict) and
                                      all(isinstance(v, str) for v in hints.values())):
            raise TypeError("bad hints")
        if not isinstance(r["when"], dict):
            raise TypeError("bad condition")
        reqs[_text(r["id"])] = Requirement(r["id"], _text(r["title"]), _text(r["hint"]),
                                           r["when"], _text(r["ref"]),
                                           _strings(r["applies_to"]), hints)
    dims = tuple(Dimension(_text(d["id"]), _text(d["title"]), tuple(
        Level(float(lv["level"]), _text(lv["name"]), _strings(lv["requires"]))
        for lv in d["levels"]), _text(d["note"]), _strings(d["applies_to"]))
        for d in data["dimensions"])
    aliases = data["aliases"]
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise TypeError("bad aliases")
    return Pack(_text(data["id"]), _text(data["title"]), _text(data["description"]), dims, reqs,
                _text(data["path"]), float(data["step"]), _text(data["note"]), aliases)


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """This module's code: the validation that a stored pack passed."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    except OSError:
        return "?"


class PackStore:
    """Validated packs as JSON files in `directory` (created 0700, files 0600, written whole
    then renamed): one file per digest of everything the validation read, plus this module's
    code and `salt` (the tool's version). A missing, unreadable or malformed file is a miss, never an error; the
    conditions of a pack read back are checked again against the kinds (cheap, and a tampered
    file then fails like a bad pack would)."""

    def __init__(self, directory: Path, salt: str) -> None:
        self.directory = directory
        self.salt = salt

    def _file(self, key: tuple[Any, ...]) -> Path:
        h = hashlib.sha256()
        for part in (STORE_FORMAT, self.salt, _code_digest(), _schema_text(), repr(key)):
            h.update(part.encode("utf-8", "surrogateescape"))
            h.update(b"\0")
        return self.directory / f"{h.hexdigest()}.json"

    def get(self, key: tuple[Any, ...], kinds: Mapping[str, KindSpec]) -> Pack | None:
        try:
            with open(self._file(key), encoding="utf-8") as f:
                pack = _pack_from_json(json.load(f))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        if pack.path != key[0]:
            return None
        problems = _Problems(pack.path)
        ids = set(pack.requirements) | set(pack.aliases or {})
        try:
            for req in pack.requirements.values():
                for cond, where in walk(req.when):
                    _check_condition(problems, req.id, cond, where, kinds, ids)
        except (UsageError, TypeError, KeyError, AttributeError, ValueError):
            return None
        return pack

    def put(self, key: tuple[Any, ...], pack: Pack) -> None:
        target = self._file(key)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".pack-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(_pack_json(pack), f, separators=(",", ":"))
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
            self._prune()
        except OSError:
            pass  # a store that cannot be written only costs time

    def _prune(self) -> None:
        files = [p for p in self.directory.glob("*.json")]
        if len(files) <= STORE_MAX_FILES:
            return
        def age(p: Path) -> float:
            try:
                return p.stat().st_mtime
            except OSError:
                return 0.0
        for p in sorted(files, key=age)[:len(files) - STORE_MAX_FILES // 2]:
            try:
                p.unlink()
            except OSError:
                pass


def builtin_dir() -> Path:
    return Path(str(resources.files("maturity_scan.rules")))


def load_packs(kinds: Mapping[str, KindSpec], extra_dirs: Sequence[Path] = (),
               store: PackStore | None = None) -> dict[str, Pack]:
    """The built-in packs, then each extra directory's, a later pack replacing one of the same
    id (so an organization can publish its own ladder without touching Python code)."""
    packs: dict[str, Pack] = {}
    for directory in [builtin_dir(), *extra_dirs]:
        if not directory.is_dir():
            raise UsageError(f"{directory}: not a directory of rule files")
        files = config.rule_files(directory)
        if not files:  # a pack silently missing would let the built-in one judge instead
            raise UsageError(f"{directory}: no rule files (*.yaml, *.yml) in this folder")
        for path in files:
            pack = load_pack(path, kinds, store)
            if pack.id in packs and packs[pack.id].path != str(path) and \
                    Path(packs[pack.id].path).parent == directory:
                raise UsageError(f"{path}: pack {pack.id}: duplicate id (also {packs[pack.id].path})")
            packs[pack.id] = pack
    return packs
