"""The `maturity-scan` command line: the group, one module per command, and the one error
boundary (`main`) that maps errors to the exit codes of DESIGN.md: 0 done, 1 a gate failed,
2 bad usage or unusable input, 3 a bug. Nothing imports this package; it imports everything."""
from __future__ import annotations

import importlib
import itertools
import os
import signal
import sys
import threading
from collections.abc import Iterator, MutableMapping

import click

from maturity_scan import __version__
from maturity_scan.errors import ExitCode, ScanError

# Each command by name: its module in this package and the command in it. A module is imported
# when its command is first looked up, so a command pays only for its own imports (`scan` never
# loads the GitHub client, networkx or jinja2; tests/test_startup.py keeps it so).
COMMANDS = {
    "scan": ("scan", "scan_command"),
    "detectors": ("detectors", "detectors_group"),
    "rules": ("rules", "rules_group"),
    "explain": ("explain", "explain_command"),
    "diff": ("diff", "diff_command"),
    "history": ("history", "history_command"),
    "org": ("org", "org_command"),
    "cache": ("cache", "cache_group"),
}


class _Commands(MutableMapping[str, click.Command]):
    """A group's commands, imported on first lookup (click reads `Group.commands` through
    `get`, `in`, iteration and item access only)."""

    def __init__(self, table: dict[str, tuple[str, str]]) -> None:
        self._table = dict(table)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attr = self._table[name]  # KeyError: no such command
            found = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
            self._loaded[name] = found
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command
        self._table.setdefault(name, ("", ""))

    def __delitem__(self, name: str) -> None:
        del self._table[name]
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


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
    if no_color and "NO_COLOR" not in env:  # and rich (progress) reads NO_COLOR
        env["NO_COLOR"] = "1"
        ctx.call_on_close(lambda: env.pop("NO_COLOR", None))


cli.commands = _Commands(COMMANDS)


def _terminated(signum: int, frame: object) -> None:
    # Unwind like ^C does, so parser workers and clones are cleaned up on the way out.
    raise SystemExit(128 + signum)


def _prestart(args: list[str]) -> None:
    """`scan` (without `-j 0`): start the first parser worker before the command's own imports,
    so that its interpreter boots while ours loads (the scan adopts it when its limits are the
    defaults, and starts another otherwise)."""
    if args[:1] != ["scan"] or any(a in ("-j0", "--jobs=0") for a in args) or any(
            a in ("-j", "--jobs") and b == "0" for a, b in itertools.pairwise(args)):
        return
    from maturity_scan.engine import spawn  # the standard library only: started at once

    spawn.prestart()


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    try:
        _prestart(sys.argv[1:] if argv is None else list(argv))
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
