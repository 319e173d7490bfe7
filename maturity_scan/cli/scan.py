"""`maturity-scan scan [PATH]`: a repository's level per dimension, and the gate on it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from maturity_scan import api, reporters
from maturity_scan.cli import checks, remote
from maturity_scan.cli.options import (ALL_PACKS, config_option, emit, load_config,
                                       no_cache_option, quiet_option, rules_dir_option,
                                       scan_options)
from maturity_scan.config import Components
from maturity_scan.engine.pool import Limits, prestart
from maturity_scan.engine.scan import DEFAULT_MAX_FILE_BYTES
from maturity_scan.engine.source import open_source
from maturity_scan.errors import GateFailed, UsageError
from maturity_scan.gate import policy

EXAMPLES = """\b
Examples:
  maturity-scan scan                          # this folder, text report
  maturity-scan scan ../api --pack gitops     # another folder, another pack
  maturity-scan scan -o sarif=r.sarif -o json=r.json   # several reports in one run
  maturity-scan scan --rev v1.2.0             # a revision, read from git objects
  maturity-scan scan --fail-under iac=3,security=2     # a gate: exit 1 below a floor
  maturity-scan scan --components             # each service of a monorepo on its own

\b
Exit codes: 0 done, 1 the gate failed, 2 a usage mistake or unusable input, 3 a bug.
"""


def outputs(values: tuple[str, ...], fmt: str) -> list[tuple[str, Path | None]]:
    """`-o PATH` (in --format) and `-o FORMAT=PATH`, each checked writable before any work;
    none: --format to stdout."""
    if not values:
        return [(fmt, None)]
    out: list[tuple[str, Path | None]] = []
    for value in values:
        head, sep, rest = value.partition("=")
        kind, path = (head, rest) if sep and head in reporters.FORMATS else (fmt, value)
        if not path:
            raise UsageError(f"-o {value}: no file name")
        target = None if path == "-" else Path(path)
        checks.output_file(target, "-o")
        out.append((kind, target))
    return out


@click.command("scan", epilog=EXAMPLES)
@click.argument("target", default=".", metavar="[PATH|URL]")
@click.option("--rev", help="Scan this git revision straight from the object store.")
@click.option("--pack", help=f"Rule pack (default: the config's, else {api.DEFAULT_PACK}); "
                             "`all` for every pack.")
@click.option("--format", "fmt", type=click.Choice(tuple(reporters.FORMATS)), default="text",
              show_default=True)
@click.option("-o", "--output", "output_values", multiple=True, metavar="[FORMAT=]FILE",
              help="Write the report here (in --format, or in FORMAT); repeatable.")
@click.option("-j", "--jobs", type=click.IntRange(min=0),
              help="Parser worker processes (default and most: one per core; 0: no isolation).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=DEFAULT_MAX_FILE_BYTES,
              show_default=True, help="Files larger than this many bytes are skipped.")
@click.option("--file-timeout", type=click.FloatRange(min=0.1), default=Limits.seconds_per_file,
              show_default=True, help="Seconds one file may take to parse.")
@click.option("--scan-timeout", type=click.FloatRange(min=1), default=Limits.seconds_total,
              show_default=True,
              help="Seconds the whole scan may take; files left then are reported unparsed.")
@click.option("--worker-memory", type=click.IntRange(min=512), default=Limits.memory_bytes >> 20,
              show_default=True, help="Address-space cap of each parser worker, in MiB.")
@no_cache_option
@quiet_option
@rules_dir_option
@config_option
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="Fail (exit 1) when any dimension falls below this baseline.")
@click.option("--write-baseline", type=click.Path(path_type=Path),
              help="Record this scan's levels (with pack and tool version) as a baseline.")
@click.option("--fail-under", help="Fail (exit 1) below these floors: DIM=LEVEL[,DIM=LEVEL…] "
                                   "(with --components, each component's too).")
@click.option("--allow-incomplete", is_flag=True,
              help="Let the gate pass although files the rules depend on could not be parsed.")
@click.option("--components", "per_component", is_flag=True,
              help="Also judge each component (service) of a monorepo on its own evidence "
                   "(on when the config sets `components:`).")
def scan_command(target: str, rev: str | None, pack: str | None, fmt: str,
                 output_values: tuple[str, ...], jobs: int | None, max_file_size: int,
                 file_timeout: float, scan_timeout: float, worker_memory: int,
                 rule_dirs: tuple[Path, ...], config_file: Path | None, baseline: Path | None,
                 write_baseline: Path | None, fail_under: str | None,
                 allow_incomplete: bool, per_component: bool = False) -> None:
    """Scan a repository and report its maturity level per dimension."""
    path = Path(target)
    committed = None  # a remote repository's own configuration
    if remote.is_url(target):  # its default branch, from a frugal partial clone
        outputs(output_values, fmt)  # the user's paths are checked before the clone
        checks.output_file(write_baseline, "--write-baseline")
        source, committed = remote.open_remote(target, rev, max_file_size)
    else:
        source = open_source(path, rev)  # a missing path is exit 2 before anything else
    limits = Limits(file_timeout, worker_memory << 20, seconds_total=scan_timeout)
    if jobs != 0:  # the first parser worker loads while the configuration and packs do
        prestart(limits)
    # Every user mistake is found here, before the scan (exit 2, one line).
    checks.rule_dirs(rule_dirs)
    cfg = committed if committed is not None and config_file is None else \
        load_config(path, config_file)
    dirs = (*cfg.rule_dirs, *rule_dirs)
    targets = outputs(output_values, fmt)
    checks.output_file(write_baseline, "--write-baseline")
    every = api.packs(dirs)
    checks.waivers(cfg, every.values())
    options = scan_options(cfg, checks.jobs(jobs), max_file_bytes=max_file_size,
                           limits=limits)
    components = cfg.components or (Components() if per_component else None)
    if (pack or cfg.pack) == ALL_PACKS:
        reps = api.scan_reports(source, list(every), options, rule_dirs=dirs,
                                waivers=cfg.waivers, archetypes=cfg.archetypes,
                                components=components)
        _nothing_to_scan(reps[0], source.description)
        checks.stamp(reps, source)
        for kind, target in targets:
            emit(reporters.render_all(reps, kind, every,
                                      width=terminal_width() if target is None else None), target)
        return
    chosen = checks.pack(pack, cfg, dirs)
    bars = checks.gate_floors(cfg, fail_under, chosen)
    base = policy.load_baseline(baseline) if baseline else None  # a bad file fails before scanning
    rep = api.scan_report(source, chosen.id, options, rule_dirs=dirs, waivers=cfg.waivers,
                          archetypes=cfg.archetypes, components=components)
    _nothing_to_scan(rep, source.description)
    checks.stamp([rep], source)
    for kind, target in targets:
        emit(reporters.render(rep, kind, pack=chosen,
                              width=terminal_width() if target is None else None), target)
    if write_baseline:
        policy.write_baseline(rep, write_baseline)
    if base is not None or bars:
        verdict = policy.judge(rep, chosen, baseline=base, fail_under=bars,
                               allow_incomplete=allow_incomplete or cfg.gate.allow_incomplete)
        if not verdict.passed:
            raise GateFailed("gate failed:\n  " + "\n  ".join(verdict.failures))


def terminal_width() -> int | None:
    """The columns text output fits in: COLUMNS when set, else the terminal's; None when the
    output is not a terminal (piped, redirected: lines as they are)."""
    import os
    import shutil
    import sys
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def _nothing_to_scan(rep: dict[str, Any], path: str) -> None:
    ctx = click.get_current_context(silent=True)
    quiet = ctx is not None and ctx.meta.get("maturity_scan.quiet")
    if not rep["stats"]["files_indexed"] and not quiet:
        click.echo(f"maturity-scan: warning: nothing to scan in {path} (no files outside "
                   "dependency folders and excluded paths)", err=True)
