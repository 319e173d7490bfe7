"""`maturity-scan explain [PATH] DIMENSION`: why a dimension is at its level, and the road ahead."""
from __future__ import annotations

from pathlib import Path

import click

from maturity_scan import api
from maturity_scan.cli import checks
from maturity_scan.cli.options import (config_option, emit, load_config, rules_dir_option,
                                       scan_options)
from maturity_scan.config import Components
from maturity_scan.engine.source import open_source
from maturity_scan.errors import UsageError
from maturity_scan.reporters import components, explain


@click.command("explain")
@click.argument("args", nargs=-1, required=True, metavar="[PATH] DIMENSION")
@click.option("--rev", help="Explain this git revision (read from the object store).")
@click.option("--pack", help=f"Rule pack (default: the config's, else {api.DEFAULT_PACK}).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text",
              show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(min=0), help="Parser worker processes.")
@click.option("--component", help="Explain one component of a monorepo (its id, name or "
                                   "folder, as scan --components lists them).")
@rules_dir_option
@config_option
def explain_command(args: tuple[str, ...], rev: str | None, pack: str | None, fmt: str,
                    jobs: int | None, rule_dirs: tuple[Path, ...],
                    config_file: Path | None, component: str | None = None) -> None:
    """Why DIMENSION is at its level (evidence -> requirement -> level), and what to do next,
    in the order that unlocks levels soonest."""
    if len(args) > 2:
        raise UsageError("explain takes [PATH] DIMENSION")
    path, dim = (Path(args[0]), args[1]) if len(args) == 2 else (Path("."), args[0])
    if len(args) == 1 and (Path(dim).is_dir() or "/" in dim):
        raise UsageError(f"explain {dim}: missing argument DIMENSION (explain [PATH] DIMENSION, "
                         "e.g. `maturity-scan explain . iac`)")
    source = open_source(path, rev)
    checks.rule_dirs(rule_dirs)
    cfg = load_config(path, config_file)
    dirs = (*cfg.rule_dirs, *rule_dirs)
    checks.waivers(cfg, api.packs(dirs).values())
    chosen = checks.pack(pack, cfg, dirs)
    if dim not in {d.id for d in chosen.dimensions}:
        known = ", ".join(d.id for d in chosen.dimensions)
        raise UsageError(f"{dim}: no such dimension in pack {chosen.id} (dimensions: {known})")
    rep = api.scan_report(source, chosen.id, scan_options(cfg, checks.jobs(jobs)), rule_dirs=dirs,
                          waivers=cfg.waivers, archetypes=cfg.archetypes,
                          components=(cfg.components or Components()) if component else None)
    checks.stamp([rep], source)
    if component:
        rep = components.component_report(rep, component)
    from maturity_scan.cli.scan import terminal_width
    emit(explain.render(rep, dimension_id=dim, fmt=fmt, width=terminal_width()), None)
