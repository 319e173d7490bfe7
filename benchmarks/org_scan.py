"""Repositories per minute for an org scan of 50 generated repositories served over git's smart
HTTP by the loopback test server: blobless partial clones (the default) vs full clones.

    python benchmarks/org_scan.py [--repos 50] [--files 300] [--workers 4]

Each repository holds a few DevOps files the detectors claim plus FILES source files they do
not (about 4 KB each, incompressible), as real application repositories do.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maturity_scan.org import github, run as org  # noqa: E402
from maturity_scan.reporters import html, org as org_report  # noqa: E402
from tests.github_server import GitHubServer  # noqa: E402
from tests.test_org import files_for  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=50)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, GitHubServer(Path(tmp) / "srv") as srv:
        srv.state.root.mkdir(parents=True)
        for i in range(args.repos):
            files = files_for(i)
            # distinct, incompressible sources: what real application code costs to transfer
            files.update({f"src/pkg{j // 50}/mod{j}.py": f"DATA = '{os.urandom(2048).hex()}'\n"
                          for j in range(args.files)})
            srv.add_repo("bench", f"svc-{i:03d}", files)
        print(f"{args.repos} repositories, {args.files + 5} files each, {args.workers} workers")
        outputs = org.Outputs(page=html.render, files=org_report.FILES)  # as the CLI writes
        for label, full in (("partial clone", False), ("full clone", True)):
            out = Path(tmp) / label.replace(" ", "-")
            settings = org.OrgSettings("bench", out, out / ".cache", workers=args.workers,
                                       full_clone=full)
            client = github.Client(f"{srv.url}/api", None)
            started = time.monotonic()
            summary = org.run(settings, client, github.Filters(), log=lambda line: None,
                              outputs=outputs)
            took = time.monotonic() - started
            scanned = summary["counts"].get("scanned", 0)
            size = sum(p.stat().st_size for p in (out / ".cache").rglob("*") if p.is_file())
            print(f"{label:>14}: {scanned} scanned in {took:.1f}s = "
                  f"{scanned / took * 60:.0f} repositories/minute, cache {size / 1e6:.1f} MB")
            started = time.monotonic()
            org.run(settings, client, github.Filters(), log=lambda line: None, outputs=outputs)
            print(f"{'re-run':>14}: nothing changed, {time.monotonic() - started:.1f}s "
                  "(no clone, no scan)")


if __name__ == "__main__":
    main()
