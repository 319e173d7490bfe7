"""Two reports of the same pack compared: per dimension the level before and after, the
requirements gained and lost (lost ones with the evidence they had), and the signal kinds
gained and lost. A dimension whose level drops is a regression."""
from __future__ import annotations

import difflib
from typing import Any

from maturity_scan.assess.packs import Pack
from maturity_scan.engine.source import Source
from maturity_scan.errors import UsageError
from maturity_scan.report import visible


def _holding(dim: dict[str, Any], pack: Pack) -> dict[str, dict[str, Any]]:
    """Every requirement of the dimension that holds (waivers aside), with its evidence when the
    report carries it: those of reached levels are in `met`; on the road ahead, the ones not
    listed as missing hold too."""
    out = {m["requirement"]: m for m in dim["met"] if not m.get("waived")}
    missing = {m["requirement"] for step in dim.get("road", []) for m in step["missing"]}
    levels = {lv.level: lv for d in pack.dimensions if d.id == dim["id"] for lv in d.levels}
    for step in dim.get("road", []):
        for rid in levels[step["level"]].requires if step["level"] in levels else ():
            if rid not in missing and rid not in out:
                req = pack.requirements[rid]
                out[rid] = {"requirement": rid, "title": req.title, "evidence": []}
    return out


def compare(base: dict[str, Any], head: dict[str, Any], pack: Pack) -> dict[str, Any]:
    if base["pack"] != head["pack"]:
        raise UsageError(f"cannot compare pack {base['pack']} with pack {head['pack']}")
    dims = _dimensions(base["dimensions"], head["dimensions"], pack)
    base_kinds = {s["kind"]: s for s in base["signals"]}
    head_kinds = {s["kind"]: s for s in head["signals"]}
    out = {
        "pack": head["pack"], "pack_title": head.get("pack_title", head["pack"]),
        "base": base["target"], "head": head["target"],
        "dimensions": dims,
        "signals_gained": [{"kind": k, "evidence": head_kinds[k]["evidence"][:5]}
                           for k in sorted(set(head_kinds) - set(base_kinds))],
        "signals_lost": [{"kind": k, "evidence": base_kinds[k]["evidence"][:5]}
                         for k in sorted(set(base_kinds) - set(head_kinds))],
        "regressions": [d["id"] for d in dims if d["change"] == "down"],
        "errors": head["errors"],
    }
    if "components" in base and "components" in head:  # scan --components on both sides
        out.update(_components(base["components"], head["components"], pack))
    return out


def _components(base: list[dict[str, Any]], head: list[dict[str, Any]],
                pack: Pack) -> dict[str, Any]:
    """Each component on both sides (by id) compared like the repository; one whose level drops
    in a dimension is a `component_regressions` entry, naming it. Components added or removed
    are listed, not judged."""
    before = {c["id"]: c for c in base}
    after = {c["id"]: c for c in head}
    comps, regressions = [], []
    for cid in sorted(set(before) & set(after)):
        c = after[cid]
        dims = _dimensions(before[cid]["dimensions"], c["dimensions"], pack)
        comps.append({"id": cid, "name": c["name"], "path": c["path"], "dimensions": dims})
        regressions += [{"component": cid, "name": c["name"], "path": c["path"],
                         "dimension": d["id"], "before": d["before"], "after": d["after"]}
                        for d in dims if d["change"] == "down"]
    return {"components": comps, "component_regressions": regressions,
            "components_added": [{k: after[c][k] for k in ("id", "name", "path")}
                                 for c in sorted(set(after) - set(before))],
            "components_removed": [{k: before[c][k] for k in ("id", "name", "path")}
                                   for c in sorted(set(before) - set(after))]}


def component_failures(changes: dict[str, Any]) -> list[str]:
    """The gate's failure line for each component whose level dropped (names from the
    repository shown safe for a terminal)."""
    return [f"component {visible(r['name'])} ({visible(r['path'])}): {r['dimension']}: level "
            f"dropped from {r['before']:g} to {r['after']:g}"
            for r in changes.get("component_regressions", [])]


def _dimensions(base: list[dict[str, Any]], head: list[dict[str, Any]],
                pack: Pack) -> list[dict[str, Any]]:
    """Per dimension of `head`: the level before and after, requirements gained and lost."""
    base_dims = {d["id"]: d for d in base}
    dims = []
    for d in head:
        b = base_dims.get(d["id"], {"id": d["id"], "level": 1, "met": [], "road": []})
        if d["level"] is None or b["level"] is None:
            continue  # not applicable (to the base or the head): no level to compare
        before, after = _holding(b, pack), _holding(d, pack)
        dims.append({
            "id": d["id"], "title": d["title"], "before": b["level"], "after": d["level"],
            "max_level": d["max_level"],
            "change": "same" if d["level"] is None or b["level"] is None  # not applicable
            else "down" if d["level"] < b["level"] else "up" if d["level"] > b["level"]
            else "same",
            "requirements_gained": [{k: after[r][k] for k in ("requirement", "title", "evidence")}
                                    for r in sorted(set(after) - set(before))],
            "requirements_lost": [{k: before[r][k] for k in ("requirement", "title", "evidence")}
                                  for r in sorted(set(before) - set(after))],
            "next_steps": d.get("next_steps", [])[:3],
        })
    return dims


MAX_LINES_TO_MAP = 20_000  # beyond this a lost line is located at its file, not a line


def head_line(base_text: str, head_text: str, line: int) -> int | None:
    """Where line `line` of the base version of a file is in the head version: the same line
    moved, or where it was removed; None when the files are too long to compare."""
    a, b = base_text.splitlines(), head_text.splitlines()
    if max(len(a), len(b)) > MAX_LINES_TO_MAP:
        return None
    at = line - 1
    for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i1 <= at < i2:  # (an insertion, i1 == i2, holds no base line)
            found = j1 + (at - i1) if tag == "equal" else j1
            return min(found, max(len(b) - 1, 0)) + 1
    return max(len(b), 1)


def locate_lost(changes: dict[str, Any], base: Source, head: Source) -> None:
    """Give each piece of evidence a lost requirement had its place in the head: `head` is
    `{"path", "line"}` where the file still is (the line where the evidence was removed), or
    None where the file is gone. Base line numbers never point into head files."""
    cache: dict[str, tuple[str | None, str | None]] = {}

    def texts(path: str) -> tuple[str | None, str | None]:
        if path not in cache:
            got = []
            for source in (base, head):
                try:
                    got.append(source.read(path).decode("utf-8", "replace"))
                except (OSError, KeyError, ValueError):
                    got.append(None)
            cache[path] = (got[0], got[1])
        return cache[path]

    for d in changes["dimensions"]:
        for lost in d["requirements_lost"]:
            for e in lost["evidence"]:
                before, after = texts(e["path"])
                if after is None:
                    e["head"] = None
                    continue
                where: dict[str, Any] = {"path": e["path"]}
                if e.get("line") and before is not None:
                    mapped = head_line(before, after, e["line"])
                    if mapped:
                        where["line"] = mapped
                e["head"] = where
