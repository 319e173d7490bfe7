"""`maturity-scan diff --base REV [PATH]`: the pull-request gate, two revisions compared."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from maturity_scan import api, config, reporters
from maturity_scan.cli import checks
from maturity_scan.cli.scan import outputs, terminal_width
from maturity_scan.cli.options import (emit, no_cache_option, quiet_option, rules_dir_option,
                                       scan_options)
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource
from maturity_scan.errors import GateFailed, UsageError
from maturity_scan.gate import diff, policy
from maturity_scan.reporters import diff as diff_report, sarif


@click.command("diff")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--base", help="The revision the change starts from (required unless --pre-commit).")
@click.option("--head", help="The revision of the change (default: the working tree).")
@click.option("--pack", help="Rule pack (default: the base revision's config, else devops).")
@click.option("--format", "fmt", type=click.Choice([f for f in reporters.FORMATS if f != "html"]),
              default="text", show_default=True)
@click.option("-o", "--output", "output_values", multiple=True, metavar="[FORMAT=]FILE",
              help="Write the result here (in --format, or in FORMAT); repeatable.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Gate policy file (default: the config committed at the base revision).")
@click.option("--fail-under", help="Also fail below these floors: DIM=LEVEL[,…].")
@click.option("--allow-incomplete", is_flag=True,
              help="Pass although files the rules depend on could not be parsed.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), help="Parser worker processes.")
@click.option("--pre-commit", "pre_commit", is_flag=True,
              help="As a pre-commit hook: at pre-push, PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF "
                   "(what is pushed); otherwise HEAD against the working tree.")
@click.option("--merge-base", is_flag=True,
              help="Compare with the merge base of --base and the head, not --base itself.")
@click.option("--components", "per_component", is_flag=True,
              help="Also compare each component (service) of a monorepo: one whose level drops "
                   "fails the gate, named (on when the config sets `components:`).")
@no_cache_option
@quiet_option
@rules_dir_option
def diff_command(path: Path, base: str | None, head: str | None, pack: str | None, fmt: str,
                 output_values: tuple[str, ...], config_file: Path | None,
                 fail_under: str | None, allow_incomplete: bool, jobs: int | None,
                 pre_commit: bool, merge_base: bool, rule_dirs: tuple[Path, ...],
                 per_component: bool = False) -> None:
    """Compare two revisions; exit 1 when any dimension's level drops (or a floor is missed).

    \b
    Examples:
      maturity-scan diff --base origin/main            # the working tree against main
      maturity-scan diff --base main --head HEAD --merge-base --format sarif -o r.sarif
    \b
    Exit codes: 0 no regression, 1 a dimension dropped or a floor is missed, 2 a usage
    mistake or unusable input, 3 a bug."""
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    targets = outputs(output_values, fmt)
    if any(kind == "html" for kind, _ in targets):
        raise UsageError("-o html=…: diff has no HTML format (text, json, markdown, sarif)")
    checks.rule_dirs(rule_dirs)
    jobs = checks.jobs(jobs)
    if not policy.has_commit(path):
        if pre_commit:  # the first commit of a repository: nothing to compare it with yet
            click.echo(f"maturity-scan: {path}: no commit yet, nothing to compare with (passed)",
                       err=True)
            return
        raise UsageError(f"{path}: the repository has no commit yet (nothing to compare with)")
    if pre_commit:
        base, head = hook_revisions(base, head)
        if base is None:
            click.echo("maturity-scan: a new branch: no pushed base to compare with (passed)",
                       err=True)
            return
    if base is None:
        raise UsageError("diff: missing option --base REV (the revision the change starts from)")
    if merge_base:
        base = policy.merge_base(path, base, head or "HEAD")
    if not policy.revision_present(path, base):
        raise UsageError(f"base revision {base} is not in this clone; fetch it first, e.g. "
                         f"`git fetch --no-tags --depth=1 origin {base}` (or check out with "
                         "fetch-depth: 0)")
    cfg = config.load_file(config_file) if config_file else policy.policy_at(path, base)
    options = scan_options(cfg, jobs)
    components = cfg.components or (config.Components() if per_component else None)
    with tempfile.TemporaryDirectory() as tmp:
        dirs = (*policy.rules_at(path, base, cfg, Path(tmp), from_base=config_file is None),
                *rule_dirs)
        name = pack or cfg.pack or api.DEFAULT_PACK
        chosen = checks.pack(pack, cfg, dirs)
        checks.waivers(cfg, api.packs(dirs).values())
        bars = checks.gate_floors(cfg, fail_under, chosen)
        base_source = GitRevisionSource(path, base)
        before = api.scan_report(base_source, name, options, rule_dirs=dirs,
                                 waivers=cfg.waivers, archetypes=cfg.archetypes,
                                 components=components)
        head_source = GitRevisionSource(path, head) if head else WorkTreeSource(path)
        after = api.scan_report(head_source, name, options, rule_dirs=dirs,
                                waivers=cfg.waivers, archetypes=cfg.archetypes,
                                components=components)
        changes = diff.compare(before, after, chosen)
        verdict = policy.judge(after, chosen, fail_under=bars,
                               regressions=changes["regressions"],
                               base_levels={d["id"]: d["level"] for d in before["dimensions"]},
                               allow_incomplete=allow_incomplete or cfg.gate.allow_incomplete)
        verdict.failures += diff.component_failures(changes)
        bodies = []
        for kind, target in targets:
            if kind == "sarif":
                diff.locate_lost(changes, base_source, head_source)
                body = sarif.render(after, pack=chosen, diff=changes, workflow=workflow_file())
            else:
                body = diff_report.render(changes, failures=verdict.failures, fmt=kind,
                                          width=terminal_width() if target is None else None)
            bodies.append((body, target))
    for body, target in bodies:
        emit(body, target)
    if not verdict.passed:
        raise GateFailed("gate failed:\n  " + "\n  ".join(verdict.failures))


ZERO_SHA = "0" * 40


def hook_revisions(base: str | None, head: str | None) -> tuple[str | None, str | None]:
    """What a pre-commit hook judges: at the pre-push stage pre-commit names the pushed range in
    PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF (the working tree is not what is pushed); at the
    other stages the working tree against HEAD. A new branch (from-ref all zeros) has no base:
    None."""
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF") or os.environ.get("PRE_COMMIT_SOURCE")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF") or os.environ.get("PRE_COMMIT_ORIGIN")
    if from_ref and to_ref:
        return (None if from_ref.strip("0") == "" else from_ref), to_ref
    return base or "HEAD", head


def workflow_file() -> str | None:
    """The workflow running this gate on GitHub Actions (GITHUB_WORKFLOW_REF is
    `OWNER/REPO/.github/workflows/FILE@REF`), where a requirement lost with its file is shown."""
    ref = os.environ.get("GITHUB_WORKFLOW_REF", "")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    path = ref.split("@", 1)[0]
    if repo and path.startswith(repo + "/.github/workflows/"):
        return path[len(repo) + 1:]
    return None
