"""Scan time against the amount of evidence: a generated repository of N one-line Kubernetes
manifests (one ConfigMap per file), scanned once per size.

    python benchmarks/evidence_scale.py [N ...] [--jobs J] [--profile]

Sizes default to 5000 20000 200000. Prints, per size, the scan's wall time (listing, parsing,
rules, report: what a user waits for), the time the report's `stats.seconds` claims, the
difference, and the wall time per 1,000 files. The time per 1,000 files should stay flat as N
grows and the difference stay small: the work after the parsers (merging signals, rules, the
report) is linear in the evidence. `--profile` prints the main process's hot spots for the
largest size (cProfile; parser workers not included).

Measured (2 shared cores): 5k 4.3s, 20k 12.4s, 200k 171s (0.85s per 1k files); before the fix
of issue 16, 5k/10k/20k took 16.5/54.8/223.5s and 200k did not finish in 590s.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maturity_scan import api  # noqa: E402
from maturity_scan.engine.scan import ScanOptions  # noqa: E402
from maturity_scan.engine.source import WorkTreeSource  # noqa: E402

MANIFEST = "{{apiVersion: v1, kind: ConfigMap, metadata: {{name: cm-{i}}}, data: {{k: v}}}}\n"


def generate(root: Path, files: int) -> None:
    """`files` one-line ConfigMaps, 500 per folder (a flat folder of 200k is not realistic)."""
    for i in range(files):
        folder = root / "k8s" / f"part{i // 500:04d}"
        if i % 500 == 0:
            folder.mkdir(parents=True)
        (folder / f"cm-{i}.yaml").write_text(MANIFEST.format(i=i))


def measure(files: int, jobs: int | None, profile: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, files)
        options = ScanOptions(**({"jobs": jobs} if jobs is not None else {}))
        profiler = cProfile.Profile() if profile else None
        started = time.monotonic()
        if profiler:
            profiler.enable()
        rep = api.scan_report(WorkTreeSource(root), api.DEFAULT_PACK, options)
        if profiler:
            profiler.disable()
        wall = time.monotonic() - started
        stats = rep["stats"]
        claimed = stats.get("files_read", stats.get("files_indexed", files))
        print(f"{files:>8} files  claimed {claimed:>8}  wall {wall:8.1f}s  "
              f"stats.seconds {stats['seconds']:7.1f}s  "
              f"beyond stats.seconds {wall - stats['seconds']:6.1f}s  "
              f"{1000 * wall / files:6.3f}s per 1k files", flush=True)
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[5000, 20000, 200000])
    ap.add_argument("--jobs", type=int, help="parser worker processes (default: one per core)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    for n, files in enumerate(args.sizes):
        measure(files, args.jobs, args.profile and n == len(args.sizes) - 1)


if __name__ == "__main__":
    main()
