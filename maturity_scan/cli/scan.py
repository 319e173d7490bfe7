"""`maturity-scan scan [PATH]`: a repository's level per dimension, and the gate on it."""
from __future__ import annotations

from pathlib import Path

import click

from maturity_scan import api, reporters
from maturity_scan.cli.options import (ALL_PACKS, config_option, emit, floors, load_config,
                                       rules_dir_option, scan_options)
from maturity_scan.engine.pool import Limits
from maturity_scan.engine.scan import DEFAULT_MAX_FILE_BYTES
from maturity_scan.engine.source import open_source
from maturity_scan.errors import GateFailed
from maturity_scan.gate import policy


@click.command("scan")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--rev", help="Scan this git revision straight from the object store.")
@click.option("--pack", help=f"Rule pack (default: the config's, else {api.DEFAULT_PACK}); "
                             "`all` for every pack.")
@click.option("--format", "fmt", type=click.Choice(tuple(reporters.FORMATS)), default="text",
              show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("-j", "--jobs", type=click.IntRange(min=0),
              help="Parser worker processes (default: one per core; 0: no isolation).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=DEFAULT_MAX_FILE_BYTES,
              show_default=True, help="Files larger than this many bytes are skipped.")
@click.option("--file-timeout", type=click.FloatRange(min=0.1), default=Limits.seconds_per_file,
              show_default=True, help="Seconds one file may take to parse.")
@click.option("--scan-timeout", type=click.FloatRange(min=1), default=Limits.seconds_total,
              show_default=True,
              help="Seconds the whole scan may take; files left then are reported unparsed.")
@click.option("--worker-memory", type=click.IntRange(min=512), default=Limits.memory_bytes >> 20,
              show_default=True, help="Address-space cap of each parser worker, in MiB.")
@rules_dir_option
@config_option
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="Fail (exit 1) when any dimension falls below this baseline.")
@click.option("--write-baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="Record this scan's levels (with pack and tool version) as a baseline.")
@click.option("--fail-under", help="Fail (exit 1) below these floors: DIM=LEVEL[,DIM=LEVEL…].")
@click.option("--allow-incomplete", is_flag=True,
              help="Let the gate pass although files the rules depend on could not be parsed.")
def scan_command(path: Path, rev: str | None, pack: str | None, fmt: str, output: Path | None,
                 jobs: int | None, max_file_size: int, file_timeout: float, scan_timeout: float,
                 worker_memory: int, rule_dirs: tuple[Path, ...], config_file: Path | None,
                 baseline: Path | None, write_baseline: Path | None, fail_under: str | None,
                 allow_incomplete: bool) -> None:
    """Scan a repository and report its maturity level per dimension."""
    source = open_source(path, rev)  # a missing path is exit 2 before anything else
    cfg = load_config(path, config_file)
    dirs = (*cfg.rule_dirs, *rule_dirs)
    options = scan_options(cfg, jobs, max_file_bytes=max_file_size,
                           limits=Limits(file_timeout, worker_memory << 20,
                                         seconds_total=scan_timeout))
    name = pack or cfg.pack or api.DEFAULT_PACK
    if name == ALL_PACKS:
        packs = api.packs(dirs)
        reps = api.scan_reports(source, list(packs), options, rule_dirs=dirs,
                                waivers=cfg.waivers)
        emit(reporters.render_all(reps, fmt, packs), output)
        return
    chosen = api.get_pack(name, dirs)
    bars = floors(cfg, fail_under)
    base = policy.load_baseline(baseline) if baseline else None  # a bad file fails before scanning
    rep = api.scan_report(source, chosen.id, options, rule_dirs=dirs, waivers=cfg.waivers)
    emit(reporters.render(rep, fmt, pack=chosen), output)
    if write_baseline:
        policy.write_baseline(rep, write_baseline)
    if base is not None or bars:
        verdict = policy.judge(rep, chosen, baseline=base, fail_under=bars,
                               allow_incomplete=allow_incomplete or cfg.gate.allow_incomplete)
        if not verdict.passed:
            raise GateFailed("gate failed:\n  " + "\n  ".join(verdict.failures))
