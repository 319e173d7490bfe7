"""The `maturity-scan` command line. One error boundary maps errors to the exit codes of
DESIGN.md: 0 done, 1 a gate failed, 2 bad usage or unusable input, 3 a bug."""
from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from maturity_scan import __version__, api, config, report
from maturity_scan.assess import graph as rulegraph
from maturity_scan.engine import registry
from maturity_scan.engine.pool import Limits
from maturity_scan.engine.scan import DEFAULT_MAX_FILE_BYTES, ScanOptions
from maturity_scan.engine.source import open_source
from maturity_scan.errors import ExitCode, GateFailed, ScanError, UsageError
from maturity_scan.gate import policy as gate
from maturity_scan.reporters import text

FORMATS = ("text", "json", "html", "markdown", "sarif")
ALL_PACKS = "all"


def _emit(content: str, output: Path | None) -> None:
    # Reports hold valid Unicode only (report.valid_unicode: a byte of a name that is not UTF-8
    # shows as U+FFFD); other texts (the diff text, history) get the same rule here, so writing
    # to stdout or to a file never fails on such a name.
    content = report.valid_unicode(content)
    if output is None:
        click.echo(content, nl=False)
    else:
        output.write_text(content, encoding="utf-8")


def _render(rep: dict[str, Any], fmt: str, rule_dirs: tuple[Path, ...] = ()) -> str:
    if fmt == "json":
        return report.dumps(rep)
    if fmt == "html":
        from maturity_scan.reporters import html

        return html.render(rep)
    if fmt == "markdown":
        from maturity_scan.reporters import markdown

        return markdown.render(rep)
    if fmt == "sarif":
        from maturity_scan.reporters import sarif

        return sarif.render(rep, api.get_pack(rep["pack"], rule_dirs))
    return text.render(rep)


def _render_all(reps: list[dict[str, Any]], fmt: str) -> str:
    """`--pack all`: JSON is a list of reports (each valid on its own); text and HTML put the
    reports one after another."""
    if fmt == "json":
        return json.dumps(reps, indent=2, sort_keys=True) + "\n"
    return "\n".join(_render(r, fmt) for r in reps)


rules_dir_option = click.option(
    "--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path),
    help="Extra directory of rule packs (adds or replaces packs by id). Repeatable.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="maturity-scan")
def cli() -> None:
    """Infer DevOps / platform maturity from the evidence a repository contains."""


def load_config(path: Path, config_file: Path | None) -> config.Config:
    """`--config FILE`, else the scanned repository's own config, else defaults."""
    if config_file is not None:
        return config.load_file(config_file)
    return config.discover(path) if path.is_dir() else config.Config()


config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: .maturity-scan.yaml or [tool.maturity-scan] in pyproject.toml "
         "at PATH).")


@cli.command()
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--rev", help="Scan this git revision straight from the object store.")
@click.option("--pack", help=f"Rule pack (default: the config's, else {api.DEFAULT_PACK}); "
                             "`all` for every pack.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
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
def scan(path: Path, rev: str | None, pack: str | None, fmt: str, output: Path | None,
         jobs: int | None, max_file_size: int, file_timeout: float, scan_timeout: float,
         worker_memory: int,
         rule_dirs: tuple[Path, ...], config_file: Path | None, baseline: Path | None,
         write_baseline: Path | None, fail_under: str | None, allow_incomplete: bool) -> None:
    """Scan a repository and report its maturity level per dimension."""
    source = open_source(path, rev)  # a missing path is exit 2 before anything else
    cfg = load_config(path, config_file)
    dirs = (*cfg.rule_dirs, *rule_dirs)
    options = ScanOptions(max_file_bytes=max_file_size, exclude=cfg.exclude,
                          limits=Limits(file_timeout, worker_memory << 20,
                                        seconds_total=scan_timeout),
                          **({"jobs": jobs} if jobs is not None else {}))
    name = pack or cfg.pack or api.DEFAULT_PACK
    if name == ALL_PACKS:
        reps = api.scan_reports(source, list(api.packs(dirs)), options, rule_dirs=dirs,
                                waivers=cfg.waivers)
        _emit(_render_all(reps, fmt), output)
        return
    chosen = api.get_pack(name, dirs)
    floors = {**cfg.gate.fail_under,
              **(config.parse_fail_under("--fail-under", fail_under) if fail_under else {})}
    base = gate.load_baseline(baseline) if baseline else None  # a bad file fails before scanning
    rep = api.scan_report(source, chosen.id, options, rule_dirs=dirs, waivers=cfg.waivers)
    _emit(_render(rep, fmt, dirs), output)
    if write_baseline:
        gate.write_baseline(rep, write_baseline)
    if base is not None or floors:
        verdict = gate.judge(rep, chosen, baseline=base, fail_under=floors,
                             allow_incomplete=allow_incomplete or cfg.gate.allow_incomplete)
        if not verdict.passed:
            raise GateFailed("gate failed:\n  " + "\n  ".join(verdict.failures))


@cli.group()
def detectors() -> None:
    """The detectors and the signal kinds they report."""


@detectors.command("list")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text")
def detectors_list(fmt: str) -> None:
    """Every detector, the kinds it reports and their facts."""
    dets = registry.all_detectors()
    if fmt == "json":
        click.echo(json.dumps([{
            "id": d.id, "description": d.description, "patterns": list(d.patterns),
            "kinds": {k: {"description": s.description,
                          "facts": {f: t.value for f, t in s.facts.items()}}
                      for k, s in d.kinds.items()}} for d in dets], indent=2, sort_keys=True))
        return
    for d in dets:
        click.echo(click.style(d.id, bold=True) + f"  {d.description}")
        for k, s in sorted(d.kinds.items()):
            click.echo(f"    {k}: {s.description}")
            if s.facts:
                click.echo(click.style("      facts: " + ", ".join(
                    f"{f} ({t.value})" for f, t in sorted(s.facts.items())), dim=True))


@cli.group()
def rules() -> None:
    """The rule packs: list, validate, graph."""


@rules.command("list")
@rules_dir_option
def rules_list(rule_dirs: tuple[Path, ...]) -> None:
    """Every pack with its dimensions, levels and requirements."""
    for pack in api.packs(rule_dirs).values():
        click.echo(click.style(f"{pack.id}", bold=True) + f"  {pack.title}  ({pack.path})")
        for dim in pack.dimensions:
            click.echo(f"  {dim.id}: {dim.title} (levels 1-{dim.max_level:g})")
            for lv in dim.levels[1:]:
                name = f" {lv.name}" if lv.name else ""
                click.echo(f"    L{lv.level:g}{name}: " + ", ".join(lv.requires))


@rules.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def rules_validate(directory: Path | None) -> None:
    """Validate rule files (the built-in packs, or every pack in DIRECTORY)."""
    from maturity_scan.assess import packs as rulepacks

    kinds = registry.kind_specs()
    if directory is None:
        loaded = rulepacks.load_packs(kinds)
    else:
        if not directory.is_dir():
            raise UsageError(f"{directory}: not a directory")
        files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        if not files:
            raise UsageError(f"{directory}: no rule files (*.yaml)")
        loaded = {p.id: p for p in (rulepacks.load_pack(f, kinds) for f in files)}
    for pack in loaded.values():
        n = len(pack.requirements)
        click.echo(f"ok  {pack.path}: pack {pack.id}, {len(pack.dimensions)} dimensions, "
                   f"{n} requirements")


@rules.command("graph")
@click.option("--pack", default=api.DEFAULT_PACK, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("dot", "mermaid", "json")), default="mermaid",
              show_default=True)
@rules_dir_option
def rules_graph(pack: str, fmt: str, rule_dirs: tuple[Path, ...]) -> None:
    """The rule graph (signal -> requirement -> level -> dimension) for review."""
    from maturity_scan.reporters import graph

    g = rulegraph.compile_graph(api.get_pack(pack, rule_dirs))
    click.echo(graph.render(g, fmt), nl=False)


# Subcommands that live in modules of their own.
from maturity_scan.cli import diff as cli_gate, explain as cli_explain, org as cli_org  # noqa: E402

cli.add_command(cli_explain.explain_command)
cli.add_command(cli_gate.diff_command)
cli.add_command(cli_gate.history_command)
cli.add_command(cli_org.org_command)


def _terminated(signum: int, frame: object) -> None:
    # Unwind like ^C does, so parser workers and clones are cleaned up on the way out.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        cli.main(args=argv, prog_name="maturity-scan", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("maturity-scan: interrupted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return ExitCode.USAGE
    except ScanError as e:
        click.echo(f"maturity-scan: {e}", err=True)
        return int(e.exit_code)
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as e:  # a bug: say so plainly, ask for a report
        click.echo(f"maturity-scan: internal error ({type(e).__name__}: {e}); "
                   "please report it with the command you ran", err=True)
        return ExitCode.BUG
    return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
