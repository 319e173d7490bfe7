"""How close a scan comes to the floor: listing, reading and parsing the claimed files once
with the fastest safe parsers.

    python benchmarks/scan_floor.py PATH [--rev REV] [--jobs N] [--repeat 3]

Prints the scan's wall time and peak memory (the main process and the largest worker), the
serial floor, and the floor spread over the cores the scan used. The target (issue 2): scan
wall time at most 1.5x the floor, with every core busy.
"""
from __future__ import annotations

import argparse
import json
import resource
import time
import tomllib
from pathlib import Path

import yaml

from maturity_scan import api
from maturity_scan.engine import registry
from maturity_scan.engine.pool import default_jobs
from maturity_scan.engine.scan import DEFAULT_MAX_FILE_BYTES, ScanOptions, scan_source
from maturity_scan.engine.source import open_source
from maturity_scan.sdk.globs import compile_globs

try:
    import pygohcl
except ImportError:  # pragma: no cover
    pygohcl = None


def parse_fastest(path: str, data: bytes) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    try:
        if path.endswith((".yaml", ".yml")):
            list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        elif path.endswith(".json"):
            json.loads(text)
        elif path.endswith((".tf", ".hcl")) and pygohcl is not None:
            pygohcl.loads(text)
        elif path.endswith(".toml"):
            tomllib.loads(text)
    except Exception:
        pass  # a broken file costs its parse attempt either way


def floor_seconds(path: Path, rev: str | None) -> tuple[float, int]:
    start = time.perf_counter()
    source = open_source(path, rev)
    matchers = [compile_globs(tuple(d.patterns)) for d in registry.all_detectors()]
    n = 0
    for entry in source.files():
        if entry.size > DEFAULT_MAX_FILE_BYTES or not any(m.match(entry.path) for m in matchers):
            continue
        parse_fastest(entry.path, source.read(entry.path))
        n += 1
    return time.perf_counter() - start, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--rev")
    ap.add_argument("--jobs", type=int, default=default_jobs())
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    registry.all_detectors()  # imports outside the timings
    pack = api.get_pack(api.DEFAULT_PACK)
    floors, scans = [], []
    for _ in range(args.repeat):
        floor, claimed = floor_seconds(args.path, args.rev)
        floors.append(floor)
        start = time.perf_counter()
        result = scan_source(open_source(args.path, args.rev), ScanOptions(jobs=args.jobs))
        api.assess(result, pack)
        scans.append(time.perf_counter() - start)
    floor, scan = min(floors), min(scans)
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"path            {args.path}{' @ ' + args.rev if args.rev else ''}")
    print(f"files           {result.stats.files_indexed} indexed, {claimed} claimed, "
          f"{result.stats.files_read} read, {len(result.errors)} errors")
    print(f"floor (serial)  {floor:.2f} s   list + read + parse once, fastest safe parsers")
    print(f"floor / {args.jobs} cores {floor / args.jobs:.2f} s")
    print(f"scan            {scan:.2f} s   with {args.jobs} workers "
          f"(best of {args.repeat})")
    print(f"ratio           {scan / floor:.2f}x the serial floor, "
          f"{scan / (floor / args.jobs):.2f}x the per-core floor   (target <= 1.5x)")
    print(f"peak memory     {parent_mb:.0f} MiB main process, {worker_mb:.0f} MiB largest worker")


if __name__ == "__main__":
    main()
