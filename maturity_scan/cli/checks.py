"""Checks a command makes before any work: a user mistake (an output path that cannot be
written, a floor naming no dimension, a misspelt waiver, an unknown pack named by the config)
is exit 2 with one line naming the option or config key, never a scan followed by a failure."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from maturity_scan import api, config
from maturity_scan.assess.packs import Pack
from maturity_scan.engine.pool import default_jobs
from maturity_scan.engine.source import Source
from maturity_scan.errors import UsageError


def output_file(path: Path | None, option: str) -> None:
    """`path` can be written as a file: its folder exists and is writable, and it is not a
    folder itself. Nothing is created."""
    if path is None or str(path) == "-":
        return
    where = f"{option} {path}"
    if path.is_dir():
        raise UsageError(f"{where}: is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{where}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and
                                                     not os.access(path, os.W_OK)):
        raise UsageError(f"{where}: not writable")


def output_dir(path: Path, option: str) -> None:
    """`path` is (made) a writable folder: created now, so a path that cannot be created fails
    before any work."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{option} {path}: exists and is not a folder") from None
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot create the folder "
                         f"({e.strerror or type(e).__name__})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: not writable")


def rule_dirs(dirs: Iterable[Path], option: str = "--rules") -> None:
    """Each `--rules` folder exists and holds rule files, as `rules validate` requires."""
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"{option} {d}: not a folder")
        if not config.rule_files(d):
            raise UsageError(f"{option} {d}: no rule files (*.yaml, *.yml) in this folder")


def pack(name: str | None, cfg: config.Config, dirs: Iterable[Path]) -> Pack:
    """The pack named by `--pack`, else by the config's `pack:` (an unknown one named with the
    config file and key), else the default."""
    dirs = tuple(dirs)
    if name is None and cfg.pack:
        try:
            return api.get_pack(cfg.pack, dirs)
        except UsageError:
            known = ", ".join(sorted(api.packs(dirs)))
            raise UsageError(f"{cfg.origin}: pack: {cfg.pack}: unknown pack (available: "
                             f"{known})") from None
    return api.get_pack(name or api.DEFAULT_PACK, dirs)


def floors(bars: Mapping[str, float], chosen: Pack, origin: str) -> None:
    """Every floor names a dimension of the pack and a level it has."""
    dims = {d.id: d for d in chosen.dimensions}
    for dim, level in bars.items():
        if dim not in dims:
            raise UsageError(f"{origin}: {dim}: unknown dimension in pack {chosen.id} "
                             f"(dimensions: {', '.join(dims)})")
        if level > dims[dim].max_level:
            raise UsageError(f"{origin}: {dim}={level:g}: above the highest level of {dim} in "
                             f"pack {chosen.id} ({dims[dim].max_level:g})")


def gate_floors(cfg: config.Config, fail_under: str | None, chosen: Pack) -> dict[str, float]:
    """The gate's floors (the config's, overridden by `--fail-under`), checked against the pack."""
    own = dict(cfg.gate.fail_under)
    floors(own, chosen, f"{cfg.origin or 'config'}: gate.fail_under")
    given = config.parse_fail_under("--fail-under", fail_under) if fail_under else {}
    floors(given, chosen, "--fail-under")
    return {**own, **given}


def waivers(cfg: config.Config, packs: Iterable[Pack]) -> None:
    """Every waived requirement exists in some pack: a misspelt id would waive nothing."""
    known = {rid for p in packs for rid in p.requirements}
    unknown = sorted(set(cfg.waivers) - known)
    if unknown:
        raise UsageError(f"{cfg.origin or 'config'}: waive.{unknown[0]}: no such requirement in "
                         "any pack (see `maturity-scan rules list`)")


def jobs(value: int | None) -> int | None:
    """`-j` capped at the cores this process may use: more workers only add start-up time."""
    return value if value is None else min(value, default_jobs())


def chart_extra() -> None:
    """`--chart` draws with matplotlib, the `[chart]` extra: said before any work."""
    import importlib.util
    import sys
    try:  # found, not imported: only reporters import matplotlib (docs/architecture.md)
        missing = sys.modules.get("matplotlib", True) is None or \
            importlib.util.find_spec("matplotlib") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        raise UsageError("--chart needs matplotlib, the [chart] extra: "
                         "pip install 'maturity-scan[chart]'") from None


def stamp(reports: list[dict[str, Any]], source: Source) -> None:
    """When and which commit: `scanned_at` (UTC) and `target.commit` (the revision scanned,
    else HEAD of the working tree's repository) on every report the command prints."""
    import datetime

    from maturity_scan import gitsafe
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = source.revision
    repo = source.repo() if commit is None else None
    if repo is not None:
        head = gitsafe.try_run(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                               max_bytes=1024)
        commit = head.strip() if head and head.strip() else None
    for rep in reports:
        rep["scanned_at"] = now
        if commit:
            rep["target"]["commit"] = commit
