"""What the commands share: click options, reading the configuration, writing output."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from maturity_scan import config, report
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.errors import UsageError

ALL_PACKS = "all"

rules_dir_option = click.option(
    "--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path),
    help="Extra directory of rule packs (adds or replaces packs by id). Repeatable.")

config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: .maturity-scan.yaml or [tool.maturity-scan] in pyproject.toml "
         "at PATH).")


def emit(content: str, output: Path | None) -> None:
    """The command's result, to stdout or to `-o FILE`."""
    # Reports hold valid Unicode only (report.valid_unicode: a byte of a name that is not UTF-8
    # shows as U+FFFD); other texts (the diff text, history) get the same rule here, so writing
    # to stdout or to a file never fails on such a name.
    content = report.valid_unicode(content)
    if output is None:
        click.echo(content, nl=False)  # styles dropped unless colour is wanted on a terminal
    else:
        try:
            output.write_text(click.unstyle(content), encoding="utf-8")  # a file: no styles
        except OSError as e:  # checked before the work; this is a race, still the user's path
            raise UsageError(f"{output}: cannot write ({e.strerror or type(e).__name__})") \
                from None


def _no_cache(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["maturity_scan.no_cache"] = True
        from maturity_scan import api  # no validated packs kept either, for this command only

        token = api.PACK_STORE.set(False)
        ctx.call_on_close(lambda: api.PACK_STORE.reset(token))


no_cache_option = click.option(
    "--no-cache", is_flag=True, expose_value=False, callback=_no_cache,
    help="Parse every file again: neither read nor write the parse cache "
         "(see `maturity-scan cache info`).")


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["maturity_scan.quiet"] = True


quiet_option = click.option(
    "-q", "--quiet", is_flag=True, expose_value=False, callback=_quiet,
    help="No progress on stderr (it shows only on a terminal anyway).")


def show_progress() -> bool:
    """Progress on stderr: on a terminal, unless the command was given `--quiet`."""
    from maturity_scan.engine import progress

    ctx = click.get_current_context(silent=True)
    return progress.wanted(quiet=bool(ctx is not None and ctx.meta.get("maturity_scan.quiet")))


def use_cache() -> bool:
    """False when the running command was given `--no-cache`."""
    ctx = click.get_current_context(silent=True)
    return not (ctx is not None and ctx.meta.get("maturity_scan.no_cache"))


def load_config(path: Path, config_file: Path | None) -> config.Config:
    """`--config FILE`, else the scanned repository's own config, else defaults."""
    if config_file is not None:
        return config.load_file(config_file)
    return config.discover(path) if path.is_dir() else config.Config()


def scan_options(cfg: config.Config, jobs: int | None, **more: Any) -> ScanOptions:
    """Scan options from the configuration, `-j` (when given) and other command-line values."""
    more.setdefault("cache", use_cache())
    more.setdefault("progress", show_progress())
    return ScanOptions(exclude=cfg.exclude, include_scopes=cfg.include_set_aside, **more,
                       **({"jobs": jobs} if jobs is not None else {}))


def floors(cfg: config.Config, fail_under: str | None) -> dict[str, float]:
    """The gate's floors: the configuration's, overridden by `--fail-under`."""
    return {**cfg.gate.fail_under,
            **(config.parse_fail_under("--fail-under", fail_under) if fail_under else {})}
