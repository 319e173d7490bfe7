"""Scanning every repository of an organization: list, clone frugally, scan, write each result
as it finishes (so a run can resume), then aggregate into org.json, org.csv, org.md, org.html.

Per-repository work is a plain function of plain data (`scan_repository`), submitted to any
`concurrent.futures.Executor`: threads by default, a Dask cluster with `--dask-scheduler`.
The JSON files are written here; the pages and summaries beside them are rendered by the
functions the caller hands in (`Outputs`: the CLI passes the reporters).
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from maturity_scan import __version__, api, config
from maturity_scan.assess.packs import builtin_dir
from maturity_scan.engine import pool
from maturity_scan.engine.scan import DEFAULT_MAX_FILE_BYTES, ScanOptions
from maturity_scan.errors import UsageError
from maturity_scan.org import clone
from maturity_scan.org.github import (Client, Filters, GitHubError, Repository, clone_origin,
                                      printable, token_from_env)
from maturity_scan.report import safe_name

STATE = "repos.json"  # the listing of this run, for --resume
LOCK = ".lock"  # held (flock) by the run writing into a folder
DEFAULT_REPO_TIMEOUT: float = 600
Render = Callable[[dict[str, Any]], str]
ExportRender = Callable[[Iterable[dict[str, Any]], str, str], str]


@dataclass(frozen=True)
class Outputs:
    """What is written beside the JSON: `page` renders one repository's report (written as
    repos/<name>.html; a module-level function, so that it can travel to a Dask worker), `files`
    render the org summary (file name -> renderer, e.g. {"org.html": …})."""

    page: Render | None = None
    files: Mapping[str, Render] = field(default_factory=dict)
    # file name -> renderer of the run's reports in its pack (`org --export`: portal exports),
    # handed the reports one at a time, the pack and the org; "" when there is nothing
    exports: Mapping[str, ExportRender] = field(default_factory=dict)


@dataclass
class OrgSettings:
    owner: str
    out: Path
    cache: Path
    pack: str | None = None  # None: each repository's config, else the default pack
    workers: int = 4
    timeout: float = 300.0  # any one git call
    full_clone: bool = False
    resume: bool = False
    repo_timeout: float = DEFAULT_REPO_TIMEOUT  # one repository, end to end
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    teams: bool = False  # levels per GitHub team (else per CODEOWNERS owner)
    components: bool = False  # each component assessed too (`scan --components`)
    # each file's time budget and each parser worker's memory cap, as a local scan's
    limits: pool.Limits = pool.Limits()
    # ("days", N) / ("commits", N): only that much history fetched (--history-days/-commits)
    history_bound: tuple[str, int] | None = None


def scan_repository(spec: dict[str, Any], token: str | None = None,
                    page: Render | None = None,
                    pools: pool.Pools | None = None) -> dict[str, Any]:
    """Clone, scan and write one repository's report within its time budget; never raises
    (failures are results). The scan is the one `maturity-scan scan` makes of a clone: tags and
    the commit graph for history facts, the repository's own config (exclude, waivers, rule
    folders, its pack when the run names none). `pools`: parser workers kept between
    repositories (the run's own threads; a Dask task starts its own)."""
    name, out = spec["full_name"], Path(spec["out"])
    budget = clone.Budget(spec["repo_timeout"])
    result: dict[str, Any] = {"repository": name}
    token = token if token is not None else _worker_token(spec)
    try:
        url, branch = spec["clone_url"], spec["default_branch"]
        clone.check_clone_url(url, spec["clone_origin"], spec["allow_http"])
        git = clone.Git(budget, spec["timeout"], token, spec["allow_http"])
        head = clone.remote_head(url, branch, git)
        if head is None:
            return {**result, "status": "skipped", "reason": "empty repository"}
        key = cache_key(spec, head)
        previous = _previous(out, name, key)
        if previous is not None:
            _repair_page(out, name, previous, page)
            return {**result, "status": "unchanged", "revision": head,
                    "owners": _stored_owners(out, name), **_summary(previous)}
        dest = Path(spec["cache"]) / f"{safe_name(name)}.git"
        checkout = clone.fetch(url, branch, dest, git, full=spec["full_clone"],
                               max_file_bytes=spec["max_file_bytes"],
                               sizes=_tree_sizes(spec, token, budget),
                               history=spec.get("history", True),
                               bound=_bound(spec))
        source = clone.CheckoutSource(checkout, name)
        # One isolated parser process (subprocess workers: fine in a daemonic Dask worker
        # too), lent by `pools` or the scan's own, with the time and memory limits of a local
        # scan; this repository's budget bounds its scan.
        limits = replace(pool.Limits(), seconds_total=max(1.0, budget.remaining()),
                         seconds_per_file=spec.get("file_timeout", pool.Limits.seconds_per_file),
                         memory_bytes=spec.get("worker_memory", pool.Limits.memory_bytes))
        with tempfile.TemporaryDirectory(prefix="maturity-scan-rules-") as tmp, \
                (pools.lend() if pools is not None else contextlib.nullcontext()) as lent:
            cfg = _repository_config(checkout, git, Path(tmp))
            pack = spec["pack"] or cfg.pack or api.DEFAULT_PACK
            report = api.scan_report(source, pack, ScanOptions(
                jobs=1, max_file_bytes=spec["max_file_bytes"], limits=limits, workers=lent,
                exclude=cfg.exclude, include_scopes=cfg.include_set_aside),
                rule_dirs=cfg.rule_dirs, waivers=cfg.waivers, archetypes=cfg.archetypes,
                # per component as a local scan: `--components`, or the repository's config
                components=cfg.components or (config.Components() if spec.get("components")
                                              else None))
        if budget.expired():  # a partial report is not kept: the next run scans it again
            return {**result, "status": "failed", "reason": budget.message("the scan")}
        # when and which commit, as `maturity-scan scan` stamps its reports (cli.checks.stamp)
        report["scanned_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")
        report["target"]["commit"] = checkout.revision
        key["revision"] = checkout.revision
        owners = codeowners(checkout.blobs)
        _write(out, name, report, page, {**key, "owners": owners})
        return {**result, "status": "scanned", "revision": checkout.revision, "owners": owners,
                "seconds": round(time.monotonic() - budget.started, 2), **_summary(report)}
    except clone.OutOfTime as e:
        return {**result, "status": "failed", "reason": str(e)}
    except clone.MissingBranch as e:
        return {**result, "status": "skipped", "reason": str(e)}
    except clone.CloneError as e:
        reason = str(e)
        if "not found" in reason.lower() or "repository" in reason.lower() and "exist" in reason:
            reason = f"repository gone ({reason})"
        return {**result, "status": "failed", "reason": reason}
    except UsageError as e:  # the repository's config or rule packs (a local scan: exit 2)
        return {**result, "status": "failed", "reason": printable(f"config: {e}"[:300])}
    except Exception as e:  # one repository never aborts the run
        return {**result, "status": "failed",
                "reason": printable(f"{type(e).__name__}: {e}"[:300])}


CODEOWNERS_PATHS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
_OWNER = re.compile(r"@[\w.-]+(/[\w.-]+)?")
MAX_OWNERS = 20


def codeowners(blobs: Mapping[str, bytes]) -> list[str]:
    """Who owns the repository by its CODEOWNERS (where GitHub reads it): the owners of the
    last catch-all rule (`*` or `/`), else every owner named (at most MAX_OWNERS)."""
    for path in CODEOWNERS_PATHS:
        if path not in blobs:
            continue
        catch_all: list[str] = []
        named: list[str] = []
        for line in blobs[path].decode("utf-8", "replace").splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) < 2 or words[0].startswith("["):
                continue
            owners = [w for w in words[1:] if _OWNER.fullmatch(w)]
            named += [o for o in owners if o not in named]
            if words[0] in ("*", "/", "/*", "**"):
                catch_all = owners
        return sorted(set(catch_all or named), key=str.lower)[:MAX_OWNERS]
    return []


def _stored_owners(out: Path, name: str) -> list[str]:
    try:
        owners = json.loads(_key_path(out, name).read_bytes()).get("owners") or []
    except (ValueError, OSError, AttributeError):
        return []
    return [o for o in owners if isinstance(o, str)][:MAX_OWNERS]


def _worker_token(spec: dict[str, Any]) -> str | None:
    """On a Dask worker the token is never in the task: the worker reads it from its own
    environment (GITHUB_TOKEN / GH_TOKEN, set when the worker is started)."""
    return token_from_env() if spec.get("token_from_env") else None


def _repository_config(checkout: clone.Checkout, git: clone.Git, tmp: Path) -> config.Config:
    """The repository's `.maturity-scan.yaml` (else `[tool.maturity-scan]` in pyproject.toml)
    as committed, parsed with the bounded loader; its rule folders (inside the repository)
    copied from git objects into `tmp`."""
    for name in clone.CONFIG_NAMES:
        data = checkout.blobs.get(name)
        if data is None:
            continue
        origin = f"{checkout.revision[:12]}:{name}"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{origin}: cannot read config (UnicodeDecodeError)") from None
        cfg = config.from_text(text, origin, tmp)
        if name == "pyproject.toml" and cfg == config.Config(origin=cfg.origin):
            continue
        for rel, folder in zip(cfg.rule_paths, cfg.rule_dirs):
            files = clone.folder_files(checkout, rel, git, max_bytes=config.MAX_BYTES)
            folder.mkdir(parents=True, exist_ok=True)
            for fname, content in files.items():
                (folder / fname).write_bytes(content)
        return cfg
    return config.Config()


def rules_digest() -> str:
    """What the built-in rule packs are: a stored report judged by other rules is not kept."""
    digest = hashlib.sha256()
    for path in config.rule_files(builtin_dir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_key(spec: dict[str, Any], head: str) -> dict[str, Any]:
    """When a stored report may stand for this run: same commit (hence the same repository
    config and rule folders), same --pack, same built-in rules, same tool version."""
    return {"revision": head, "pack": spec["pack"], "rules": spec.get("rules_digest", ""),
            "version": __version__, "history": spec.get("history", True),
            "max_file_bytes": spec["max_file_bytes"],
            "components": spec.get("components", False),
            **({"history_bound": list(_bound(spec) or ())} if _bound(spec) else {})}


def _bound(spec: dict[str, Any]) -> tuple[str, int] | None:
    bound = spec.get("history_bound")
    return (str(bound[0]), int(bound[1])) if bound else None


def _tree_sizes(spec: dict[str, Any], token: str | None,
                budget: clone.Budget) -> clone.SizeLookup:
    """Blob sizes from the API's tree listing, so an oversize blob is never fetched; None when
    the API does not answer promptly (then sizes are measured after the fetch)."""
    def lookup(revision: str) -> tuple[dict[str, int], bool] | None:
        try:
            with Client(spec["api_url"], token, retries=1, backoff=0.5,
                        max_wait=min(10.0, budget.remaining() / 4),
                        timeout=max(1.0, min(30.0, budget.remaining()))) as client:
                return client.tree_sizes(spec["full_name"], revision)
        except GitHubError:
            return None
    return lookup


def _report_path(out: Path, name: str) -> Path:
    return out / "repos" / f"{safe_name(name)}.json"


def _key_path(out: Path, name: str) -> Path:
    return out / "repos" / f"{safe_name(name)}.key.json"


def _previous(out: Path, name: str, key: Mapping[str, Any],
              ignore: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The report a previous run wrote, if it is whole and was made under the same `key`
    (fields in `ignore` not compared); else None (scan again)."""
    path = _report_path(out, name)
    try:
        stored = json.loads(_key_path(out, name).read_bytes())
        if not isinstance(stored, dict) or \
                any(stored.get(k) != v for k, v in key.items() if k not in ignore):
            return None
    except (ValueError, OSError):
        return None
    try:
        report = json.loads(path.read_bytes()) if path.exists() else None
        if not isinstance(report, dict) or not isinstance(report.get("target"), dict):
            return None
        _summary(report)
    except (ValueError, OSError, KeyError, TypeError, AttributeError):
        return None
    return report


def _write(out: Path, name: str, report: dict[str, Any], page: Render | None,
           key: Mapping[str, Any]) -> None:
    path = _report_path(out, name)
    with contextlib.suppress(FileNotFoundError):  # never a new report under an old key
        os.unlink(_key_path(out, name))
    _write_text(path, json.dumps(report, indent=2, sort_keys=True) + "\n")
    _write_text(_key_path(out, name), json.dumps(key, sort_keys=True) + "\n")
    if page is not None:
        _write_text(path.with_suffix(".html"), page(report))


def _repair_page(out: Path, name: str, report: dict[str, Any], page: Render | None) -> None:
    """A report kept from an earlier run gets its page back if that is missing or torn."""
    if page is None:
        return
    path = _report_path(out, name).with_suffix(".html")
    expected = page(report)
    try:
        if path.read_text(encoding="utf-8", errors="replace") == expected:
            return
    except OSError:
        pass
    _write_text(path, expected)


def _write_text(path: Path, text: str) -> None:
    """Whole files only (a temporary file renamed into place): an interrupted run or a failed
    render never leaves half a report, and a lone surrogate cannot stop the write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _levels(dims: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Levels (not applicable: out of the aggregates) and what blocks each next level."""
    return {"levels": {d["id"]: d["level"] for d in dims if d["level"] is not None},
            "blocking": {d["id"]: [m["requirement"] for m in (d.get("next") or {})
                                   .get("missing", [])] for d in dims}}


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    out = {"pack": report["pack"], **_levels(report["dimensions"]),
           "missing": [m["requirement"] for d in report["dimensions"]
                       for m in (d.get("next") or {}).get("missing", [])],
           "errors": len(report["errors"])}
    if isinstance(report.get("scanned_at"), str):  # when its report was made (an earlier run's)
        out["scanned_at"] = report["scanned_at"]
    if report.get("components"):  # `--components`: each with its owner and own levels
        out["components"] = [{"id": c["id"], "name": c["name"], "path": c["path"],
                              "owner": c.get("owner"), **_levels(c["dimensions"])}
                             for c in report["components"]]
    return out


@contextlib.contextmanager
def _locked(folder: Path, what: str) -> Iterator[None]:
    """One run at a time per folder: a second run into the same OUT (or cache) would interleave
    clones and reports."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK
    with open(lock, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{folder}: another org scan is using this {what} (it holds "
                             f"{lock}); wait for it to finish or choose another one") from None
        except OSError as e:  # a file system without locks: two runs could not be told apart
            raise UsageError(f"{folder}: cannot lock {lock} ({e.strerror}); use a local "
                             f"{what}") from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _load_state(state: Path) -> list[Repository]:
    try:
        items = json.loads(state.read_bytes())
        if not isinstance(items, list):
            raise ValueError("not a list")
        return [Repository.from_state(r) for r in items]
    except (ValueError, OSError) as e:
        raise UsageError(f"{state}: not a listing this tool wrote ({printable(str(e)[:120])}); "
                         "delete it or run without --resume") from None


def run(settings: OrgSettings, client: Client, filters: Filters, *,
        executor: Executor | None = None, token: str | None = None,
        log: Callable[[str], None] | None = None, outputs: Outputs = Outputs()) -> dict[str, Any]:
    log = log or (lambda line: print(line, file=sys.stderr))
    out, cache = Path(os.path.abspath(settings.out)), Path(os.path.abspath(settings.cache))
    with _locked(out, "--out folder"), \
            (_locked(cache, "--cache folder") if cache != out else contextlib.nullcontext()):
        return _run(replace(settings, out=out, cache=cache), client, filters, executor, token,
                    log, outputs)


def _run(settings: OrgSettings, client: Client, filters: Filters, executor: Executor | None,
         token: str | None, log: Callable[[str], None], outputs: Outputs) -> dict[str, Any]:
    state = settings.out / STATE
    if settings.resume and state.exists():
        repos = _load_state(state)
        log(f"resuming: {len(repos)} repositories from the interrupted run")
    else:
        repos = client.repositories(settings.owner, filters)
        _write_text(state, json.dumps([asdict(r) for r in repos], indent=2) + "\n")
    for warning in client.warnings:
        log(f"warning: {warning}")
    origin = clone_origin(client.api_url)
    digest = rules_digest()
    specs: list[dict[str, Any]]  # the history bound is a list: values are not all scalars
    specs = [{"full_name": r.full_name, "clone_url": r.clone_url,
              "default_branch": r.default_branch, "out": str(settings.out),
              "cache": str(settings.cache), "pack": settings.pack, "timeout": settings.timeout,
              "full_clone": settings.full_clone, "repo_timeout": settings.repo_timeout,
              "max_file_bytes": settings.max_file_bytes, "api_url": client.api_url,
              "clone_origin": str(origin), "allow_http": origin.scheme == "http",
              "rules_digest": digest, "token_from_env": executor is not None,
              "components": settings.components,
              "file_timeout": settings.limits.seconds_per_file,
              "worker_memory": settings.limits.memory_bytes,
              "history_bound": list(settings.history_bound or ()) or None}
             for r in repos]
    results: list[dict[str, Any]] = []
    todo = []
    for s in specs:
        prev = _previous(settings.out, s["full_name"], cache_key(s, ""),
                         ignore=("revision",)) if settings.resume else None
        if prev is None:
            todo.append(s)
            continue
        _repair_page(settings.out, s["full_name"], prev, outputs.page)
        results.append({"repository": s["full_name"], "status": "unchanged",
                        "revision": prev.get("target", {}).get("revision"),
                        "owners": _stored_owners(settings.out, s["full_name"]), **_summary(prev)})
    own = executor is None
    pool_ = executor or ThreadPoolExecutor(max_workers=settings.workers)
    pools = pool.Pools(settings.limits) if own else None  # parser workers kept for the run
    try:
        # Threads here get the token as an argument; tasks for another executor (a Dask
        # cluster) carry no secret: its workers read the token from their own environment.
        futures = [pool_.submit(scan_repository, s, token if own else None, outputs.page,
                                pools) for s in todo]
        began, resumed = time.monotonic(), len(results)
        for n, fut in enumerate(as_completed(futures), resumed + 1):
            r = fut.result()
            results.append(r)
            extra = r.get("reason") or (f"{r.get('seconds', 0):.1f}s" if r["status"] == "scanned"
                                        else "")
            # repositories done / total and the rate of this run, for the progress line
            rate = (n - resumed) * 60 / max(time.monotonic() - began, 1e-3)
            log(f"[{n}/{len(specs)}, {rate:.0f}/min] {r['repository']}: {r['status']} "
                f"{extra}".rstrip())
    finally:
        if own:
            pool_.shutdown(wait=True, cancel_futures=True)
        if pools is not None:
            pools.close()
    results.sort(key=lambda r: r["repository"].lower())
    summary = aggregate(settings, results, client.waited)
    if settings.teams:
        summary["teams"], summary["teams_source"] = team_levels(
            summary, client.teams(settings.owner), results)
    record_history(settings.out, summary)
    if client.warnings:
        summary["listing_warnings"] = list(client.warnings)
        summary["listing_skipped"] = client.skipped
    write_outputs(settings.out, summary, outputs.files)
    write_exports(settings.out, summary, outputs.exports)
    counts = Counter(r["status"] for r in results)
    log("done: " + ", ".join(f"{v} {k}" + (" (no clone, no scan)" if k == "unchanged" else "")
                             for k, v in sorted(counts.items())))
    return summary


def aggregate(settings: OrgSettings, results: Sequence[dict[str, Any]],
              waited: float) -> dict[str, Any]:
    pack = api.get_pack(settings.pack or api.DEFAULT_PACK)
    dims = [{"id": d.id, "title": d.title, "max_level": d.max_level} for d in pack.dimensions]
    # A repository whose own config picks another pack (the run naming none) is listed with
    # its levels, but not averaged with the others: its dimensions are another ladder's.
    scored = [r for r in results if "levels" in r and r.get("pack", pack.id) == pack.id]
    distribution = {d["id"]: dict(sorted(Counter(f"{r['levels'][d['id']]:g}" for r in scored
                                                 if d["id"] in r["levels"]).items()))
                    for d in dims}
    weakest = sorted(scored, key=lambda r: (sum(r["levels"].values()), r["repository"]))[:10]
    missing = Counter(m for r in scored for m in set(r["missing"]))
    return {
        "org": settings.owner, "pack": pack.id, "pack_title": pack.title,
        "tool_version": __version__,
        "scanned_at": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "dimensions": dims, "repositories": list(results),
        "distribution": distribution,
        "mean": {d["id"]: round(sum(r["levels"][d["id"]] for r in rated) / len(rated), 2)
                 if (rated := [r for r in scored if d["id"] in r["levels"]]) else None
                 for d in dims},
        "weakest": [{"repository": r["repository"], "levels": r["levels"]} for r in weakest],
        "common_missing": [{"requirement": rid, "title": pack.requirements[rid].title,
                            "hint": pack.requirements[rid].hint, "repositories": n}
                           for rid, n in missing.most_common(10) if rid in pack.requirements],
        "fix_first": fix_first(pack, scored),
        "counts": dict(Counter(r["status"] for r in results)),
        "rate_limit_wait_seconds": round(waited, 1),
    }


def fix_first(pack: Any, scored: Sequence[dict[str, Any]], top: int = 10) -> list[dict[str, Any]]:
    """Requirements ranked by the repository-levels they would unlock across the org: one
    that is the only thing missing for a repository's next level counts 1 there (`alone`),
    one of n missing counts 1/n; each with the repositories it would lift (alone first)."""
    score: Counter[str] = Counter()
    alone: Counter[str] = Counter()
    lifts: dict[str, list[tuple[int, str]]] = {}
    for r in scored:
        for dim, blocking in (r.get("blocking") or {}).items():
            if dim not in r["levels"] or not blocking:
                continue
            for rid in set(blocking):
                score[rid] += 1 / len(set(blocking))
                if len(set(blocking)) == 1:
                    alone[rid] += 1
                lifts.setdefault(rid, []).append((len(set(blocking)), r["repository"]))
    ranked = sorted((rid for rid in score if rid in pack.requirements),
                    key=lambda rid: (-score[rid], -alone[rid], rid))[:top]
    return [{"requirement": rid, "title": pack.requirements[rid].title,
             "score": round(score[rid], 2), "alone": alone[rid],
             "blocking": len(lifts[rid]),
             "repositories": list(dict.fromkeys(name for _, name in sorted(
                 lifts[rid], key=lambda t: (t[0], t[1].lower()))))}
            for rid in ranked]


def team_levels(summary: Mapping[str, Any], teams: Mapping[str, Sequence[str]],
                results: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Mean level per dimension and "fix first" for each GitHub team's repositories; without
    teams (a user, or a token that cannot read them), for each CODEOWNERS owner's. A
    repository assessed per component (`--components`) counts by its components instead:
    each one for its owner (`group:default/pay`, `@acme/pay` and `pay` join the row `pay` or
    `@acme/pay`, else make a row of their own), one without an owner for the repository's
    teams. Members are named `repository` or `repository:component`."""
    source = "team"
    if not teams:
        source, grouped = "CODEOWNERS owner", {}
        for r in results:
            for owner in r.get("owners") or []:
                grouped.setdefault(owner, []).append(r["repository"])
        teams = grouped
    by_name = {r["repository"].lower(): r for r in results
               if "levels" in r and r.get("pack") == summary["pack"]}
    groups: dict[str, dict[str, dict[str, Any]]] = {team: {} for team in teams}
    rows_by_owner = {owner_key(team): team for team in teams}

    def member(r: Mapping[str, Any], c: Mapping[str, Any] | None = None) -> dict[str, Any]:
        name = r["repository"] + (f":{c['name']}" if c is not None else "")
        return {**(c if c is not None else r), "repository": name, "of": r["repository"]}

    for team, names in teams.items():
        for r in (by_name[n.lower()] for n in names if n.lower() in by_name):
            for m in ([member(r, c) for c in r["components"] if not c.get("owner")]
                      if r.get("components") else [member(r)]):
                groups[team][m["repository"]] = m
    for r in by_name.values():
        for c in r.get("components") or []:
            if c.get("owner"):
                team = rows_by_owner.setdefault(owner_key(c["owner"]), c["owner"])
                groups.setdefault(team, {})[f"{r['repository']}:{c['name']}"] = member(r, c)
    pack = api.get_pack(summary["pack"])
    rows = []
    for team, by_member in sorted(groups.items(), key=lambda t: t[0].lower()):
        members = list(by_member.values())
        mean = {}
        for d in summary["dimensions"]:
            rated = [m["levels"][d["id"]] for m in members if d["id"] in m["levels"]]
            mean[d["id"]] = round(sum(rated) / len(rated), 2) if rated else None
        rows.append({"team": team, "repositories": len({m["of"] for m in members}),
                     "components": sum(m["of"] != m["repository"] for m in members),
                     "mean": mean,
                     "members": sorted((m["repository"] for m in members), key=str.lower),
                     "fix_first": fix_first(pack, members, top=TEAM_FIX_FIRST)})
    return rows, source


TEAM_FIX_FIRST = 3  # requirements ranked per team


def owner_key(owner: str) -> str:
    """What an owner is called whichever way it is written: a Backstage reference
    (`group:default/payments`), a CODEOWNERS team (`@acme/payments`) or a plain name, all
    `payments`."""
    name = owner.strip().lower()
    name = name.split(":", 1)[1] if ":" in name else name
    return name.lstrip("@").rsplit("/", 1)[-1]


HISTORY = "history"  # OUT/history/<UTC timestamp>.json: one small snapshot per run
TREND_RUNS = 50  # runs drawn in the trend at most


def snapshot(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What a run leaves for the next one: levels and blocking requirements per repository,
    and per component (`org --components`) as `repository:component`, so a service that drops
    is named even when its repository's level holds."""
    scored = [r for r in summary["repositories"]
              if "levels" in r and r.get("pack") == summary["pack"]]
    return {"scanned_at": summary["scanned_at"], "pack": summary["pack"],
            "tool_version": summary.get("tool_version"),
            "mean": summary["mean"],
            "repositories": {
                **{r["repository"]: {"levels": r["levels"], "blocking": r.get("blocking", {})}
                   for r in scored},
                **{f"{r['repository']}:{c['name']}": {"levels": c["levels"],
                                                     "blocking": c.get("blocking", {})}
                   for r in scored for c in r.get("components") or []}},
            "listed": sorted(r["repository"] for r in summary["repositories"])}


def _snapshots(folder: Path) -> list[dict[str, Any]]:
    """The stored snapshots, oldest first (a torn or foreign file is passed over)."""
    found = []
    for path in sorted(folder.glob("*.json"))[-(TREND_RUNS * 4):]:
        try:
            data = json.loads(path.read_bytes())
        except (ValueError, OSError):
            continue
        if isinstance(data, dict) and isinstance(data.get("repositories"), dict) and \
                isinstance(data.get("mean"), dict) and isinstance(data.get("scanned_at"), str):
            found.append(data)
    return found


def compare(before: Mapping[str, Any], now: Mapping[str, Any],
            titles: Mapping[str, str]) -> dict[str, Any]:
    """The change between two snapshots of the same pack: repositories that regressed (with
    the dimension and the requirements they lost: what now blocks the level they had),
    improved, new and gone. Repositories not scored in either run are not compared."""
    regressed, improved = [], []
    old, new = before["repositories"], now["repositories"]
    for name in sorted(set(old) & set(new), key=str.lower):
        for dim, level in new[name]["levels"].items():
            was = old[name]["levels"].get(dim)
            if was is None or level == was:
                continue
            entry = {"repository": name, "dimension": dim, "from": was, "to": level}
            if level < was:
                lost = new[name].get("blocking", {}).get(dim, [])
                entry["lost"] = [{"requirement": rid, "title": titles.get(rid, rid)}
                                 for rid in lost]
                regressed.append(entry)
            else:
                improved.append(entry)
    listed_before = set(before.get("listed") or old)
    listed_now = set(now.get("listed") or new)
    return {"since": before["scanned_at"], "regressed": regressed, "improved": improved,
            "new": sorted(listed_now - listed_before, key=str.lower),
            "gone": sorted(listed_before - listed_now, key=str.lower)}


def record_history(out: Path, summary: dict[str, Any]) -> None:
    """Compare this run with the previous one of the same pack (summary["change"]), draw the
    trend of the mean level per dimension (summary["trend"]), and store this run's snapshot."""
    folder = out / HISTORY
    folder.mkdir(parents=True, exist_ok=True)
    past = [s for s in _snapshots(folder) if s.get("pack") == summary["pack"]]
    now = snapshot(summary)
    pack = api.get_pack(summary["pack"])
    titles = {rid: req.title for rid, req in pack.requirements.items()}
    summary["change"] = compare(past[-1], now, titles) if past else None
    summary["trend"] = [{"scanned_at": s["scanned_at"], "mean": s["mean"]}
                        for s in [*past, now][-TREND_RUNS:]]
    # names sort in time order (microseconds: two runs in one second stay apart)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    _write_text(folder / f"{stamp}.json", json.dumps(now, sort_keys=True) + "\n")


def regressions(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The repositories (and dimensions) that regressed since the previous run."""
    return list((summary.get("change") or {}).get("regressed") or [])


def write_exports(out: Path, summary: Mapping[str, Any],
                  exports: Mapping[str, ExportRender]) -> None:
    """The portal exports of every repository scored in the run's pack, its report read back
    from repos/ one at a time; an export with nothing in it is not left behind."""
    names = [r["repository"] for r in summary["repositories"]
             if "levels" in r and r.get("pack") == summary["pack"]]

    def reports() -> Iterator[dict[str, Any]]:
        for name in names:
            try:
                yield json.loads(_report_path(out, name).read_bytes())
            except (OSError, ValueError):
                continue

    for fname, render in exports.items():
        text = render(reports(), summary["pack"], summary["org"])
        if text:
            _write_text(out / fname, text)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out / fname)


def write_outputs(out: Path, summary: dict[str, Any],
                  files: Mapping[str, Render] | None = None) -> None:
    _write_text(out / "org.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    for name, render in (files or {}).items():
        _write_text(out / name, render(summary))
