"""`maturity-scan history [PATH]`: levels per dimension over the repository's history."""
from __future__ import annotations

from pathlib import Path

import click

from maturity_scan import api
from maturity_scan.cli import checks
from maturity_scan.cli.options import (emit, no_cache_option, quiet_option, rules_dir_option,
                                       show_progress, use_cache)
from maturity_scan.engine import pool, progress
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.errors import UsageError
from maturity_scan.gate import history
from maturity_scan.reporters import history as history_report


@click.command("history")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--tags", is_flag=True, help="One point per version tag.")
@click.option("--last", type=click.IntRange(min=1), help="The last N first-parent commits "
              "(default 10).")
@click.option("--since", help="First-parent commits since DATE (git's date formats).")
@click.option("--pack", default=api.DEFAULT_PACK, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("text", "json", "csv")), default="text",
              show_default=True)
@click.option("--chart", type=click.Path(path_type=Path, dir_okay=False),
              help="Also draw the levels over time as an SVG chart (needs the [chart] extra: "
                   "pip install 'maturity-scan[chart]').")
@click.option("-o", "--output", type=click.Path(path_type=Path))
@rules_dir_option
@no_cache_option
@quiet_option
def history_command(path: Path, tags: bool, last: int | None, since: str | None, pack: str,
                    fmt: str, chart: Path | None, output: Path | None,
                    rule_dirs: tuple[Path, ...]) -> None:
    """Levels per dimension over the repository's history (read from git objects)."""
    if sum(bool(x) for x in (tags, last, since)) > 1:
        raise UsageError("choose one of --tags, --last, --since")
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    checks.rule_dirs(rule_dirs)
    checks.output_file(output, "-o")
    checks.output_file(chart, "--chart")
    if chart:
        checks.chart_extra()
    api.get_pack(pack, rule_dirs)
    revs = history.revisions(path, tags=tags, last=last, since=since)
    # one pool for every revision: its parser workers start once, for the first blobs the
    # cache does not answer, and serve the revisions after it
    with progress.Progress("revisions scanned", len(revs), enabled=show_progress()) as shown, \
            pool.Pool(pool.default_jobs(), eager=False) as workers:
        hist = history.levels_over_time(path, revs, pack,
                                        ScanOptions(cache=use_cache(), workers=workers),
                                        rule_dirs=rule_dirs, step=shown.advance)
    from maturity_scan.cli.scan import terminal_width
    emit(history_report.render(hist, fmt=fmt,
                               width=terminal_width() if output is None else None), output)
    if chart:
        history_report.chart(hist, chart)
