"""Scanning every repository of an organization: list, clone frugally, scan, write each result
as it finishes (so a run can resume), then aggregate into org.json, org.csv, org.md, org.html.

Per-repository work is a plain function of plain data (`scan_repository`), submitted to any
`concurrent.futures.Executor`: threads by default, a Dask cluster with `--dask-scheduler`.
"""
from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from maturity_scan import api, clone
from maturity_scan.github import Client, Filters, Repository
from maturity_scan.reporters import html as html_report
from maturity_scan.scan import ScanOptions

STATE = "repos.json"  # the listing of this run, for --resume


@dataclass
class OrgSettings:
    owner: str
    out: Path
    cache: Path
    pack: str = api.DEFAULT_PACK
    workers: int = 4
    timeout: float = 300.0
    full_clone: bool = False
    resume: bool = False


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def scan_repository(spec: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """Clone, scan and write one repository's report; never raises (failures are results)."""
    name, out = spec["full_name"], Path(spec["out"])
    started = time.monotonic()
    result: dict[str, Any] = {"repository": name}
    try:
        head = clone.remote_head(spec["clone_url"], spec["default_branch"], token,
                                 spec["timeout"])
        if head is None:
            return {**result, "status": "skipped", "reason": "empty repository"}
        previous = _previous(out, name)
        if previous and previous.get("target", {}).get("revision") == head:
            return {**result, "status": "unchanged", "revision": head, **_summary(previous)}
        dest = Path(spec["cache"]) / f"{_safe(name)}.git"
        checkout = clone.fetch(spec["clone_url"], spec["default_branch"], dest, token=token,
                               timeout=spec["timeout"], full=spec["full_clone"])
        source = clone.CheckoutSource(checkout, name)
        # One isolated parser process per scan; inside a daemonic worker (Dask's) that cannot
        # have children, parsing runs in the worker itself, which is isolated already.
        jobs = 0 if multiprocessing.current_process().daemon else 1
        report = api.scan_report(source, spec["pack"], ScanOptions(jobs=jobs))
        _write(out, name, report)
        return {**result, "status": "scanned", "revision": checkout.revision,
                "seconds": round(time.monotonic() - started, 2), **_summary(report)}
    except clone.CloneError as e:
        reason = str(e)
        if "not found" in reason.lower() or "repository" in reason.lower() and "exist" in reason:
            reason = f"repository gone ({reason})"
        return {**result, "status": "failed", "reason": reason}
    except Exception as e:  # one repository never aborts the run
        return {**result, "status": "failed", "reason": f"{type(e).__name__}: {e}"[:300]}


def _report_path(out: Path, name: str) -> Path:
    return out / "repos" / f"{_safe(name)}.json"


def _previous(out: Path, name: str) -> dict[str, Any] | None:
    path = _report_path(out, name)
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except ValueError:
        return None


def _write(out: Path, name: str, report: dict[str, Any]) -> None:
    path = _report_path(out, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)  # whole files only: an interrupted run never leaves half a report
    path.with_suffix(".html").write_text(html_report.render(report))


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {"levels": {d["id"]: d["level"] for d in report["dimensions"]},
            "missing": [m["requirement"] for d in report["dimensions"]
                        for m in (d.get("next") or {}).get("missing", [])],
            "errors": len(report["errors"])}


def run(settings: OrgSettings, client: Client, filters: Filters, *,
        executor: Executor | None = None, token: str | None = None,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    log = log or (lambda line: print(line, file=sys.stderr))
    settings.out.mkdir(parents=True, exist_ok=True)
    state = settings.out / STATE
    if settings.resume and state.exists():
        repos = [Repository(**{**r, "topics": tuple(r["topics"])})
                 for r in json.loads(state.read_text())]
        log(f"resuming: {len(repos)} repositories from the interrupted run")
    else:
        repos = client.repositories(settings.owner, filters)
        state.write_text(json.dumps([asdict(r) for r in repos], indent=2) + "\n")
    specs = [{"full_name": r.full_name, "clone_url": r.clone_url,
              "default_branch": r.default_branch, "out": str(settings.out),
              "cache": str(settings.cache), "pack": settings.pack, "timeout": settings.timeout,
              "full_clone": settings.full_clone} for r in repos]
    results: list[dict[str, Any]] = []
    done_before = {s["full_name"] for s in specs if settings.resume and
                   _previous(settings.out, s["full_name"])}
    for s in specs:
        if s["full_name"] in done_before:
            prev = _previous(settings.out, s["full_name"]) or {}
            results.append({"repository": s["full_name"], "status": "unchanged",
                            "revision": prev.get("target", {}).get("revision"), **_summary(prev)})
    todo = [s for s in specs if s["full_name"] not in done_before]
    own = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=settings.workers)
    try:
        futures = [pool.submit(scan_repository, s, token) for s in todo]
        for n, fut in enumerate(as_completed(futures), len(results) + 1):
            r = fut.result()
            results.append(r)
            extra = r.get("reason") or (f"{r.get('seconds', 0):.1f}s" if r["status"] == "scanned"
                                        else "")
            log(f"[{n}/{len(specs)}] {r['repository']}: {r['status']} {extra}".rstrip())
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    results.sort(key=lambda r: r["repository"].lower())
    summary = aggregate(settings, results, client.waited)
    write_outputs(settings.out, summary)
    counts = Counter(r["status"] for r in results)
    log("done: " + ", ".join(f"{v} {k}" + (" (no clone, no scan)" if k == "unchanged" else "")
                             for k, v in sorted(counts.items())))
    return summary


def aggregate(settings: OrgSettings, results: Sequence[dict[str, Any]],
              waited: float) -> dict[str, Any]:
    pack = api.get_pack(settings.pack)
    dims = [{"id": d.id, "title": d.title, "max_level": d.max_level} for d in pack.dimensions]
    scored = [r for r in results if "levels" in r]
    distribution = {d["id"]: dict(sorted(Counter(f"{r['levels'][d['id']]:g}" for r in scored
                                                 if d["id"] in r["levels"]).items()))
                    for d in dims}
    weakest = sorted(scored, key=lambda r: (sum(r["levels"].values()), r["repository"]))[:10]
    missing = Counter(m for r in scored for m in set(r["missing"]))
    return {
        "org": settings.owner, "pack": settings.pack, "pack_title": pack.title,
        "dimensions": dims, "repositories": list(results),
        "distribution": distribution,
        "mean": {d["id"]: round(sum(r["levels"][d["id"]] for r in scored) / len(scored), 2)
                 if scored else None for d in dims},
        "weakest": [{"repository": r["repository"], "levels": r["levels"]} for r in weakest],
        "common_missing": [{"requirement": rid, "title": pack.requirements[rid].title,
                            "hint": pack.requirements[rid].hint, "repositories": n}
                           for rid, n in missing.most_common(10) if rid in pack.requirements],
        "counts": dict(Counter(r["status"] for r in results)),
        "rate_limit_wait_seconds": round(waited, 1),
    }


def write_outputs(out: Path, summary: dict[str, Any]) -> None:
    from maturity_scan.reporters import org as org_report

    (out / "org.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    (out / "org.csv").write_text(org_report.csv_text(summary))
    (out / "org.md").write_text(org_report.markdown(summary))
    (out / "org.html").write_text(org_report.html(summary))
