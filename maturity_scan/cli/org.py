"""`maturity-scan org ORG`: every repository of a GitHub organization (or user)."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from maturity_scan import api, reporters
from maturity_scan.cli import checks
from maturity_scan.cli.options import quiet_option
from maturity_scan.engine.pool import Limits
from maturity_scan.engine.scan import DEFAULT_MAX_FILE_BYTES
from maturity_scan.errors import GateFailed, UsageError
from maturity_scan.org import github, run as org
from maturity_scan.reporters import html, org as org_report

_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def _limit(ctx: click.Context, param: click.Parameter, value: float) -> None:
    """--file-timeout / --worker-memory: kept for the run's parser limits (OrgSettings.limits)."""
    ctx.meta[f"maturity_scan.{str(param.name).replace('_', '-')}"] = value


@click.command("org")
@click.argument("owner")
@click.option("--api-url", default=github.DEFAULT_API, show_default=True,
              help="GitHub API (GitHub Enterprise Server: https://HOST/api/v3).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("org-report"),
              show_default=True,
              help="Reports: repos/*.json, org.json, org.csv, org-teams.csv, org.md, org.html.")
@click.option("--cache", type=click.Path(path_type=Path, file_okay=False),
              help="Clone cache (default: OUT/.cache).")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--pack", help="Rule pack for every repository (default: each repository's "
              f"config names it, else {api.DEFAULT_PACK}).")
@click.option("--include-archived", is_flag=True, help="Also scan archived repositories.")
@click.option("--include-forks", is_flag=True, help="Also scan forks.")
@click.option("--visibility", type=click.Choice(("all", "public", "private", "internal")),
              default="all", show_default=True)
@click.option("--topic", "topics", multiple=True, help="Only repositories with this topic.")
@click.option("--match", help="Only repositories whose name matches this glob.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in OUT.")
@click.option("--full-clone", is_flag=True, help="Clone every blob (slower; for comparison).")
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True,
              help="Seconds any one git call may take.")
@click.option("--repo-timeout", type=click.FloatRange(min=1), default=org.DEFAULT_REPO_TIMEOUT,
              show_default=True, help="Seconds one repository may take, clone and scan: "
              "then it is reported as failed (incomplete).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=DEFAULT_MAX_FILE_BYTES,
              show_default=True, help="Bytes; a bigger claimed file is neither fetched nor read.")
@click.option("--file-timeout", type=click.FloatRange(min=0.1), show_default=True,
              default=Limits.seconds_per_file, expose_value=False, callback=_limit,
              help="Seconds one file may take to parse (as `scan --file-timeout`).")
@click.option("--worker-memory", type=click.IntRange(min=512), show_default=True,
              default=Limits.memory_bytes >> 20, expose_value=False, callback=_limit,
              help="Address-space cap of each parser worker, in MiB (as `scan`).")
@click.option("--max-wait", type=click.FloatRange(min=0), default=600, show_default=True,
              help="Total seconds to wait for rate limits and retries.")
@click.option("--dask-scheduler", help="Run the scans on a Dask cluster (tcp://HOST:PORT); its "
              "workers read the token from their own GITHUB_TOKEN / GH_TOKEN.")
@click.option("--fail-on-regression", is_flag=True,
              help="Exit 1 when any repository regressed since the previous run into OUT.")
@click.option("--teams", is_flag=True, help="Levels per GitHub team (/orgs/ORG/teams), else "
              "per CODEOWNERS owner; with --components, by component owners where known.")
@click.option("--export", "exports", multiple=True, type=click.Choice(("backstage", "portal")),
              help="Also write OUT/backstage.json (Tech Insights facts) or OUT/portal.json "
              "(Cortex, OpsLevel) for every repository and component; repeatable.")
@click.option("--components", is_flag=True, help="Also assess each component (service) of "
              "every repository, as `scan --components` does: org.csv gets a row per "
              "component with its owner.")
@click.option("--history-days", type=click.IntRange(min=1),
              help="Fetch only the commits of the N days before each repository's head (for "
              "giant repositories; 90 or more keeps git_history's 90-day counts exact). Tags "
              "are all fetched, each with its own commit alone: a tag below the bound counts "
              "as released, and the fact history_truncated says so.")
@click.option("--history-commits", type=click.IntRange(min=1),
              help="Fetch only the N commits nearest each repository's head (plus each tag's "
              "own commit); facts cut by the bound carry history_truncated.")
@quiet_option
def org_command(owner: str, api_url: str, out: Path, cache: Path | None, workers: int,
                pack: str | None, include_archived: bool, include_forks: bool, visibility: str,
                topics: tuple[str, ...], match: str | None, resume: bool, full_clone: bool,
                timeout: float, repo_timeout: float, max_file_size: int, max_wait: float,
                dask_scheduler: str | None, fail_on_regression: bool, teams: bool,
                components: bool, exports: tuple[str, ...], history_days: int | None,
                history_commits: int | None) -> None:
    """Scan every repository of OWNER (an organization, else a user). The token comes from
    GITHUB_TOKEN or GH_TOKEN only, and goes only to the API's host and its clone host."""
    if pack:
        api.get_pack(pack)
    if history_days and history_commits:
        raise UsageError("--history-days and --history-commits: give one of them")
    if not _OWNER.fullmatch(owner):
        raise UsageError(f"{owner!r}: not a GitHub organization or user name")
    checks.output_dir(out, "--out")  # before any request: a path that cannot be made is exit 2
    if cache is not None:
        checks.output_dir(cache, "--cache")
    token = github.token_from_env()
    for name in github.TOKEN_VARIABLES:  # held here only: no child process inherits it
        os.environ.pop(name, None)
    try:
        client = github.Client(api_url, token, max_wait=max_wait)
    except github.GitHubError as e:
        raise UsageError(str(e)) from None
    filters = github.Filters(include_archived, include_forks, visibility, topics, match)
    settings = org.OrgSettings(owner, out, cache or out / ".cache", pack, workers, timeout,
                               full_clone, resume, repo_timeout, max_file_size, teams=teams,
                               components=components,
                               history_bound=(("days", history_days) if history_days else
                                              ("commits", history_commits) if history_commits
                                              else None))
    meta = click.get_current_context().meta
    settings.limits = Limits(meta["maturity_scan.file-timeout"],
                             meta["maturity_scan.worker-memory"] << 20)
    executor = None
    if dask_scheduler:
        try:
            from distributed import Client as DaskClient
        except ImportError:
            raise UsageError("--dask-scheduler needs the dask extra: "
                             "pip install 'maturity-scan[dask]'") from None
        executor = DaskClient(dask_scheduler).get_executor()
    # `[done/total, rate] repository: status`: one line redrawn on a terminal, a line each
    # when piped, none with --quiet
    quiet = bool(click.get_current_context().meta.get("maturity_scan.quiet"))
    progress = sys.stderr.isatty() and not os.environ.get("CI") and not quiet

    def log(line: str) -> None:
        if progress and line.startswith("["):
            click.echo(f"\r\x1b[K{line}", nl=False, err=True)
        elif quiet and line.startswith("["):
            return
        else:
            click.echo(("\n" if progress and line.startswith("done") else "") + line, err=True)

    portal_exports = {f"{e}.json": reporters.FORMATS[e].render_org for e in exports}
    try:
        summary = org.run(settings, client, filters, executor=executor, token=token, log=log,
                          outputs=org.Outputs(page=html.render, files=org_report.FILES,
                                              exports=portal_exports))
    except github.GitHubError as e:
        raise UsageError(str(e)) from None
    click.echo(f"{summary['org']}: {len(summary['repositories'])} repositories -> {out}/org.html")
    regressed = org.regressions(summary)
    if fail_on_regression and regressed:
        names = sorted({r["repository"] for r in regressed})
        raise GateFailed(f"{len(names)} repositories regressed since "
                         f"{summary['change']['since']}: " + ", ".join(names[:10]))
