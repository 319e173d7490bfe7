"""`maturity-scan diff` (the pull-request gate) and `maturity-scan history`."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click
import git

from maturity_scan import api, config, gitsafe
from maturity_scan.gate import diff as diffing, history, policy as gate
from maturity_scan.cli import FORMATS, _emit, rules_dir_option
from maturity_scan.errors import GateFailed, UsageError
from maturity_scan.reporters import markdown, sarif
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource


RULE_SUFFIXES = (".yaml", ".yml")
REGULAR_BLOB_MODES = ("100644", "100755")


def _rule_tree(repo: git.Repo, rev: str, rel: str, into: Path, where: str) -> Path:
    """The rule files of folder `rel` as committed at `rev`, copied into `into`: read from git
    objects by a lexically normalized path, never through the work tree, whose symlinks the
    change being judged controls. A folder that is missing or holds no rule file is an error:
    the built-in pack silently judging instead would switch the base's rules off."""
    spec = f"{rev}:" if rel == "." else f"{rev}:{rel}"
    try:
        kind = gitsafe.run(repo, "cat-file", "-t", spec).strip()
    except UsageError:
        kind = "missing"
    if kind != "tree":
        found = "a file or symbolic link" if kind == "blob" else "not found"
        raise UsageError(f"{where}: not a folder at {rev} ({found})")
    copied = 0
    for entry in gitsafe.run(repo, "ls-tree", "-z", "-l", spec).split("\0"):
        meta, _, name = entry.partition("\t")
        if not name.endswith(RULE_SUFFIXES):
            continue
        mode, otype, obj, size = meta.split()
        if otype != "blob":
            continue
        if mode not in REGULAR_BLOB_MODES:
            raise UsageError(f"{where}/{name}: a symbolic link at {rev} (commit the rule file "
                             "itself)")
        if int(size) > config.MAX_BYTES:
            raise UsageError(f"{where}/{name}: larger than {config.MAX_BYTES:,} bytes at {rev} "
                             "(refused)")
        text = gitsafe.run(repo, "cat-file", "blob", obj)
        (into / name).write_text(text, encoding="utf-8", errors="surrogateescape")
        copied += 1
    if not copied:
        raise UsageError(f"{where}: no rule files (*.yaml, *.yml) in this folder at {rev}")
    return into


def _rules_at(path: Path, rev: str, policy: config.Config, into: Path, *,
              from_base: bool) -> list[Path]:
    """The policy's rule folders, as committed at `rev`: a change cannot edit (or, through a
    symlink, switch off) the rules it is judged by. A policy read from the base revision names
    folders of the repository; one from --config (the user's file) may also name folders
    outside it, used as they are."""
    repo = gitsafe.open_repo(path.resolve())
    if repo is None:
        raise UsageError(f"{path}: not a git repository")
    top = Path(repo.working_tree_dir or path).resolve()
    out = []
    for n, (rel, folder) in enumerate(zip(policy.rule_paths, policy.rule_dirs)):
        where = f"{policy.origin}: rules: {rel}"
        if not from_base:
            if not folder.is_relative_to(top):
                out.append(folder)
                continue
            rel = folder.relative_to(top).as_posix() or "."
        target = into / f"rules{n}"
        target.mkdir()
        out.append(_rule_tree(repo, rev, rel, target, where))
    return out


def _text(diff: dict, failures: list[str]) -> str:
    out = [f"{diff['pack_title']}: {(diff['base'].get('revision') or '')[:12]} -> "
           f"{(diff['head'].get('revision') or 'working tree')[:12]}"]
    for d in diff["dimensions"]:
        arrow = {"down": "  REGRESSED", "up": "  improved", "same": ""}[d["change"]]
        out.append(f"  {d['title']:<32} {d['before']:>3g} -> {d['after']:<3g}{arrow}")
        for r in d["requirements_lost"]:
            where = ", ".join(f"{e['path']}:{e.get('line') or ''}".rstrip(":")
                              for e in r["evidence"][:3])
            out.append(f"      lost: {r['title']} [{r['requirement']}]" +
                       (f" (was {where})" if where else ""))
        for r in d["requirements_gained"]:
            out.append(f"      gained: {r['title']} [{r['requirement']}]")
    for s in diff["signals_lost"]:
        paths = list(dict.fromkeys(e["path"] for e in s["evidence"]))
        out.append(f"  evidence removed: {s['kind']} ({', '.join(paths[:3])})")
    for s in diff["signals_gained"]:
        out.append(f"  evidence added: {s['kind']}")
    out.append("gate: " + ("FAILED\n  " + "\n  ".join(failures) if failures else "passed"))
    return "\n".join(out) + "\n"


@click.command("diff")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--base", required=True, help="The revision the change starts from.")
@click.option("--head", help="The revision of the change (default: the working tree).")
@click.option("--pack", help="Rule pack (default: the base revision's config, else devops).")
@click.option("--format", "fmt", type=click.Choice([f for f in FORMATS if f != "html"]),
              default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path))
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Gate policy file (default: the config committed at the base revision).")
@click.option("--fail-under", help="Also fail below these floors: DIM=LEVEL[,…].")
@click.option("--allow-incomplete", is_flag=True,
              help="Pass although files the rules depend on could not be parsed.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), help="Parser worker processes.")
@rules_dir_option
def diff_command(path: Path, base: str, head: str | None, pack: str | None, fmt: str,
                 output: Path | None, config_file: Path | None, fail_under: str | None,
                 allow_incomplete: bool, jobs: int | None, rule_dirs: tuple[Path, ...]) -> None:
    """Compare two revisions; exit 1 when any dimension's level drops (or a floor is missed)."""
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    if not gate.revision_present(path, base):
        raise UsageError(f"base revision {base} is not in this clone; fetch it first, e.g. "
                         f"`git fetch --no-tags --depth=1 origin {base}` (or check out with "
                         "fetch-depth: 0)")
    policy = config.load_file(config_file) if config_file else gate.policy_at(path, base)
    options = ScanOptions(exclude=policy.exclude, **({"jobs": jobs} if jobs is not None else {}))
    with tempfile.TemporaryDirectory() as tmp:
        dirs = (*_rules_at(path, base, policy, Path(tmp), from_base=config_file is None),
                *rule_dirs)
        name = pack or policy.pack or api.DEFAULT_PACK
        chosen = api.get_pack(name, dirs)
        before = api.scan_report(GitRevisionSource(path, base), name, options, rule_dirs=dirs,
                                 waivers=policy.waivers)
        head_source = GitRevisionSource(path, head) if head else WorkTreeSource(path)
        after = api.scan_report(head_source, name, options, rule_dirs=dirs,
                                waivers=policy.waivers)
        changes = diffing.compare(before, after, chosen)
        floors = {**policy.gate.fail_under,
                  **(config.parse_fail_under("--fail-under", fail_under) if fail_under else {})}
        verdict = gate.judge(after, chosen, fail_under=floors,
                             regressions=changes["regressions"],
                             base_levels={d["id"]: d["level"] for d in before["dimensions"]},
                             allow_incomplete=allow_incomplete or policy.gate.allow_incomplete)
        if fmt == "json":
            body = json.dumps({**changes, "gate": {"passed": verdict.passed,
                                                   "failures": verdict.failures}},
                              indent=2, sort_keys=True) + "\n"
        elif fmt == "markdown":
            body = markdown.render_diff(changes, verdict.failures)
        elif fmt == "sarif":
            body = sarif.render(after, chosen, changes)
        else:
            body = _text(changes, verdict.failures)
    _emit(body, output)
    if not verdict.passed:
        raise GateFailed("gate failed:\n  " + "\n  ".join(verdict.failures))


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
              help="Also draw the levels over time as an SVG chart (needs matplotlib).")
@click.option("-o", "--output", type=click.Path(path_type=Path))
@rules_dir_option
def history_command(path: Path, tags: bool, last: int | None, since: str | None, pack: str,
                    fmt: str, chart: Path | None, output: Path | None,
                    rule_dirs: tuple[Path, ...]) -> None:
    """Levels per dimension over the repository's history (read from git objects)."""
    if sum(bool(x) for x in (tags, last, since)) > 1:
        raise UsageError("choose one of --tags, --last, --since")
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory")
    api.get_pack(pack, rule_dirs)
    revs = history.revisions(path, tags=tags, last=last, since=since)
    hist = history.levels_over_time(path, revs, pack, rule_dirs=rule_dirs)
    render = {"text": history.as_text, "json": history.as_json, "csv": history.as_csv}[fmt]
    _emit(render(hist), output)
    if chart:
        history.chart(hist, chart)
