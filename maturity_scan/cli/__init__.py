"""The `maturity-scan` command line: the group, one module per command, and the one error
boundary (`main`) that maps errors to the exit codes of DESIGN.md: 0 done, 1 a gate failed,
2 bad usage or unusable input, 3 a bug. Nothing imports this package; it imports everything."""
from __future__ import annotations

import os
import signal
import sys
import threading

import click

from maturity_scan import __version__
from maturity_scan.cli.cache import cache_group
from maturity_scan.cli.detectors import detectors_group
from maturity_scan.cli.diff import diff_command
from maturity_scan.cli.explain import explain_command
from maturity_scan.cli.history import history_command
from maturity_scan.cli.org import org_command
from maturity_scan.cli.rules import rules_group
from maturity_scan.cli.scan import scan_command
from maturity_scan.errors import ExitCode, ScanError


EPILOG = """\b
Examples:
  maturity-scan scan                       # this folder: the level per dimension
  maturity-scan explain . security         # why security is at its level, what next
  maturity-scan diff --base origin/main    # fail (exit 1) when a change lowers a level

\b
Exit codes: 0 done, 1 a gate failed, 2 a usage mistake or unusable input (one line on
stderr), 3 a bug. Colour only on a terminal, never with --no-color, NO_COLOR or TERM=dumb.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="maturity-scan")
@click.option("--no-color", "--no-colour", "no_color", is_flag=True,
              help="No colour (also with NO_COLOR set, or TERM=dumb).")
@click.pass_context
def cli(ctx: click.Context, no_color: bool) -> None:
    """Infer DevOps / platform maturity from the evidence a repository contains."""
    env = os.environ
    if no_color or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        ctx.color = False  # click.echo drops styles in every subcommand


for command in (scan_command, detectors_group, rules_group, explain_command, diff_command,
                history_command, org_command, cache_group):
    cli.add_command(command)


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
    except click.UsageError as e:  # one line, like every other usage mistake
        where = e.ctx.command_path if e.ctx else "maturity-scan"
        message = " ".join(e.format_message().split())
        click.echo(f"{where}: {message} (see '{where} --help')", err=True)
        return ExitCode.USAGE
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
