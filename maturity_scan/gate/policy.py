"""The gate: baselines, absolute floors and the incomplete-scan policy, judged on a report.

Policy comes from the base revision or an explicit file, never from the change being judged
(`policy_at`), so a pull request cannot lower its own bar.

Incomplete scans: when a file that the pack's requirements depend on (a file claimed by a
detector whose kinds the pack's rules use) could not be analysed, the level it would have
supported is unknown. The gate then fails, naming the files, unless `--allow-incomplete`
(or `gate.allow_incomplete: true`) is given; files no rule depends on never fail it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maturity_scan import __version__, config, gitsafe
from maturity_scan.assess.graph import compile_graph
from maturity_scan.assess.packs import Pack
from maturity_scan.engine import registry
from maturity_scan.errors import UsageError
from maturity_scan.report import visible

if TYPE_CHECKING:
    import git

BASELINE_FORMAT = "maturity-scan-baseline"
POLICY_MAX_BYTES = 2 << 20  # a committed config larger than this is not read


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    incomplete: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def write_baseline(report: dict[str, Any], path: Path) -> None:
    body = {"format": BASELINE_FORMAT, "version": 1, "tool_version": __version__,
            "pack": report["pack"], "revision": report["target"].get("revision"),
            "levels": {d["id"]: d["level"] for d in report["dimensions"]
                       if d["level"] is not None}}  # a dimension not applicable has no level
    if "components" in report:  # scan --components: each component's levels too, by id
        body["components"] = {c["id"]: {"path": c["path"], "levels": {
            d["id"]: d["level"] for d in c["dimensions"] if d["level"] is not None}}
            for c in report["components"]}
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _below(levels: Mapping[str, float | None], limits: Iterable[tuple[str, float]],
           what: str, who: str = "") -> list[str]:
    """A failure for each (dimension, limit) whose level is below the limit; a level of None
    (not applicable) never fails. `what`: "baseline" or "floor"; `who`: a component's name."""
    out = []
    for dim, limit in limits:
        level = levels.get(dim)
        if level is not None and level < limit:
            out.append(f"{who}{dim}: level {level:g} is below the {what} {limit:g}")
    return out


def _component(c: dict[str, Any]) -> tuple[dict[str, float | None], str]:
    """A component's levels by dimension, and how a failure names it."""
    return ({d["id"]: d["level"] for d in c["dimensions"]},
            f"component {visible(c['name'])} ({visible(c['path'])}): ")


def _components_below(report: dict[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    """A failure for each component (by id, in both the baseline and the report) whose level
    in a dimension is below the baseline's; components new or gone are not judged."""
    recorded = baseline.get("components")
    if not isinstance(recorded, dict) or "components" not in report:
        return []
    out = []
    for c in report["components"]:
        was = recorded.get(c["id"])
        before = was.get("levels") if isinstance(was, dict) else None
        if not isinstance(before, dict):
            continue
        levels, who = _component(c)
        out += _below(levels, [(d, before[d]) for d in levels
                               if isinstance(before.get(d), (int, float))], "baseline", who)
    return out


def _components_under(report: dict[str, Any], floors: Mapping[str, float]) -> list[str]:
    """A failure for each component (with `--components` or `components:`) whose level in a
    floored dimension is below the floor; a dimension not applicable to it (None) never fails."""
    out = []
    for c in report.get("components") or ():
        levels, who = _component(c)
        out += _below(levels, [(d, floors[d]) for d in levels if d in floors], "floor", who)
    return out


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{path}: cannot read baseline ({e.strerror})") from None
    except ValueError:
        raise UsageError(f"{path}: not a baseline (invalid JSON)") from None
    if not isinstance(body, dict) or body.get("format") != BASELINE_FORMAT or \
            not isinstance(body.get("levels"), dict):
        raise UsageError(f"{path}: not a maturity-scan baseline")
    return body


def pack_kinds(pack: Pack) -> set[str]:
    """The signal kinds a pack's rules depend on."""
    graph = compile_graph(pack)
    return {n.split(":", 1)[1] for n in graph if n.startswith("signal:")}


def incomplete_files(report: dict[str, Any], pack: Pack) -> list[dict[str, Any]]:
    used = pack_kinds(pack)
    detectors = {d.id: set(d.kinds) for d in registry.all_detectors()}
    return [e for e in report["errors"] if detectors.get(e["detector"], set()) & used or
            e["detector"] not in detectors]


def judge(report: dict[str, Any], pack: Pack, *, baseline: Mapping[str, Any] | None = None,
          fail_under: Mapping[str, float] | None = None, regressions: list[str] | None = None,
          base_levels: Mapping[str, float] | None = None,
          allow_incomplete: bool = False) -> Verdict:
    verdict = Verdict()
    levels = {d["id"]: d["level"] for d in report["dimensions"]}
    unknown = set(fail_under or {}) - set(levels)
    if unknown:
        raise UsageError(f"--fail-under: unknown dimension {', '.join(sorted(unknown))} in pack "
                         f"{pack.id} (dimensions: {', '.join(levels)})")
    if baseline is not None:
        if baseline.get("pack") != report["pack"]:
            raise UsageError(f"baseline is for pack {baseline.get('pack')}, the scan used "
                             f"{report['pack']}")
        verdict.failures += _below(levels, sorted(baseline["levels"].items()), "baseline")
        verdict.failures += _components_below(report, baseline)
    for dim in regressions or []:
        verdict.failures.append(f"{dim}: level dropped from {(base_levels or {})[dim]:g} to "
                                f"{levels[dim]:g}")
    verdict.failures += _below(levels, sorted((fail_under or {}).items()), "floor")
    verdict.failures += _components_under(report, fail_under or {})
    verdict.incomplete = incomplete_files(report, pack)
    if verdict.incomplete and not allow_incomplete:
        names = ", ".join(sorted({e["path"] for e in verdict.incomplete})[:5])
        verdict.failures.append(f"incomplete scan: {len(verdict.incomplete)} file(s) the rules "
                                f"depend on could not be analysed ({names}); fix them or pass "
                                "--allow-incomplete")
    return verdict


def policy_at(repo_path: Path, rev: str) -> config.Config:
    """The configuration as committed at `rev` (the base of a change), read from git objects."""
    repo = gitsafe.open_repo(repo_path.resolve())
    if repo is None:
        raise UsageError(f"{repo_path}: not a git repository")
    for name in (config.CONFIG_FILE, "pyproject.toml"):
        # cat-file: the blob as committed, never through a textconv or filter driver.
        text = gitsafe.try_run(repo, "cat-file", "blob", f"{rev}:{name}",
                               max_bytes=POLICY_MAX_BYTES)
        if text is None:
            continue
        cfg = config.from_text(text, f"{rev}:{name}", repo_path)
        if name != "pyproject.toml" or cfg != config.Config(origin=cfg.origin):
            return cfg
    return config.Config()


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


def rules_at(path: Path, rev: str, policy: config.Config, into: Path, *,
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


def has_commit(repo_path: Path) -> bool:
    """Whether the repository at `repo_path` has any commit (HEAD resolves); a folder that is no
    git repository is a UsageError saying so."""
    repo = gitsafe.open_repo(repo_path.resolve())
    if repo is None:
        raise UsageError(f"{repo_path}: not a git repository")
    found = gitsafe.try_run(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}",
                            max_bytes=1024)
    return bool(found and found.strip())


def merge_base(repo_path: Path, base: str, head: str) -> str:
    """The merge base of `base` and `head`: what a branch is compared with, so that commits
    landed on the base since the branch started are not counted as the branch's change."""
    repo = gitsafe.open_repo(repo_path.resolve())
    if repo is None:
        raise UsageError(f"{repo_path}: not a git repository")
    for rev in (base, head):
        if not revision_present(repo_path, rev):
            raise UsageError(f"revision {rev} is not in this clone; fetch it first")
    found = gitsafe.try_run(repo, "merge-base", "--end-of-options", base, head, max_bytes=1024)
    if not found or not found.strip():
        raise UsageError(f"{base} and {head} have no merge base in this clone (a shallow "
                         "clone? fetch more history, e.g. fetch-depth: 0)")
    return found.split()[0]


def revision_present(repo_path: Path, rev: str) -> bool:
    """Whether `rev` names a commit this clone holds (read like every other git call: hardened,
    and fine in a checkout owned by another user). A repository that cannot be read safely is
    a UsageError saying why, not a missing revision."""
    repo = gitsafe.open_repo(repo_path.resolve())
    if repo is None:
        raise UsageError(f"{repo_path}: not a git repository")
    found = gitsafe.try_run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                            f"{rev}^{{commit}}", max_bytes=1024)
    return bool(found and found.strip())
