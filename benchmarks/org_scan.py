"""An org scan of generated repositories served over git's smart HTTP by the loopback test
server: repositories per minute cold, a warm re-run with nothing changed (no clone, no scan:
one `ls-remote` each), and a re-run after 10% of the repositories changed; the parent's peak
memory.

    python benchmarks/org_scan.py [--repos 1000] [--min-files 50] [--max-files 500] [--workers 4]
                                  [--per-repository-pools]

`--per-repository-pools` starts a parser interpreter for every repository, as runs did before
`engine.pool.Pools` kept one per thread for the whole run: the before/after comparison. The
parse cache is a fresh one in the temporary folder (never the user's).

Each repository holds a few DevOps files the detectors claim plus 50-500 source files they do
not (about 1 KB each, incompressible), 12 commits over 90 days and 3 version tags: what the
history facts read. Repositories are written with `git fast-import` (one process each).
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maturity_scan.org import github, run as org  # noqa: E402
from maturity_scan.reporters import html, org as org_report  # noqa: E402
from tests.github_server import GitHubServer  # noqa: E402
from tests.test_org import files_for  # noqa: E402

DAY = 86400


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def write_repo(bare: Path, files: dict[str, str], now: int, *, commits: int = 12,
               tags: int = 3) -> None:
    """A bare repository: `commits` commits over 90 days (the last one holds `files`), every
    fourth tagged v1.N.0."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    for key, value in (("uploadpack.allowFilter", "true"),
                       ("uploadpack.allowAnySHA1InWant", "true")):
        subprocess.run(["git", "--git-dir", str(bare), "config", key, value], check=True)
    out = [b"feature done\n"]
    for n in range(commits):
        when = now - (commits - n) * (90 * DAY // commits)
        out.append(b"commit refs/heads/main\nmark :%d\n" % (n + 1))
        out.append(b"author dev%d <dev%d@example.com> %d +0000\n" % (n % 3, n % 3, when))
        out.append(b"committer ci <ci@example.com> %d +0000\n" % when)
        out.append(_data(f"feat: change {n} (#{n + 1})"))
        if n:
            out.append(b"from :%d\n" % n)
        items = files.items() if n == commits - 1 else \
            [("README.md", files.get("README.md", "") + f"\nrev {n}\n")]
        for path, text in items:
            raw = text.encode()
            out.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(raw), raw))
        if n % 4 == 3 and n // 4 < tags:
            out.append(b"tag v1.%d.0\nfrom :%d\ntagger ci <ci@example.com> %d +0000\n%s"
                       % (n // 4, n + 1, when, _data("release")))
    subprocess.run(["git", "--git-dir", str(bare), "fast-import", "--quiet"],
                   input=b"".join(out[1:]), check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=1000)
    ap.add_argument("--min-files", type=int, default=50)
    ap.add_argument("--max-files", type=int, default=500)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--per-repository-pools", action="store_true",
                    help="a parser interpreter per repository (the behaviour before Pools)")
    args = ap.parse_args()
    if args.per_repository_pools:
        from contextlib import contextmanager

        from maturity_scan.engine import pool

        @contextmanager
        def own_pool(self: pool.Pools):  # type: ignore[no-untyped-def]
            yield None  # the scan starts (and ends) a pool of its own

        pool.Pools.lend = own_pool  # type: ignore[method-assign]
    rng = random.Random(7)
    now = int(time.time())
    with tempfile.TemporaryDirectory() as tmp, GitHubServer(Path(tmp) / "srv") as srv:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "xdg")  # a parse cache of its own
        srv.state.root.mkdir(parents=True)
        started = time.monotonic()
        for i in range(args.repos):
            files = files_for(i)
            files.update({f"src/pkg{j // 50}/mod{j}.py": f"DATA = '{os.urandom(512).hex()}'\n"
                          for j in range(rng.randint(args.min_files, args.max_files))})
            bare = srv.state.root / "bench" / f"svc-{i:04d}.git"
            bare.parent.mkdir(parents=True, exist_ok=True)
            write_repo(bare, files, now)
            srv.state.repos.setdefault("bench", []).append({
                "name": f"svc-{i:04d}", "full_name": f"bench/svc-{i:04d}",
                "clone_url": f"{srv.url}/git/bench/svc-{i:04d}.git", "default_branch": "main"})
        print(f"{args.repos} repositories ({args.min_files}-{args.max_files} source files, 12 "
              f"commits, 3 tags each) written in {time.monotonic() - started:.0f}s; "
              f"{args.workers} workers, {os.cpu_count()} cores")
        outputs = org.Outputs(page=html.render, files=org_report.FILES)  # as the CLI writes
        out = Path(tmp) / "out"
        settings = org.OrgSettings("bench", out, out / ".cache", workers=args.workers)
        client = github.Client(f"{srv.url}/api", None)

        def timed(label: str) -> None:
            srv.state.git_calls.clear()
            began = time.monotonic()
            cpu = sum(resource.getrusage(who)[0] + resource.getrusage(who)[1]
                      for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
            summary = org.run(settings, client, github.Filters(), log=lambda line: None,
                              outputs=outputs)
            took = time.monotonic() - began
            counts = ", ".join(f"{v} {k}" for k, v in sorted(summary["counts"].items()))
            scanned = summary["counts"].get("scanned", 0)
            rate = f"{scanned / took * 60:.0f} scanned/min" if scanned else "no scan"
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            cpu = sum(resource.getrusage(who)[0] + resource.getrusage(who)[1]
                      for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) - cpu
            print(f"{label:>16}: {took:7.1f}s  {counts:<28} {rate:>16}  "
                  f"{len(srv.state.git_calls)} git requests  parent peak RSS {peak:.0f} MB  "
                  f"CPU {cpu:.0f}s  load {os.getloadavg()[0]:.1f}")

        timed("cold")
        timed("warm, unchanged")
        for i in range(0, args.repos, 10):
            work = Path(tmp) / "w" / str(i)
            bare = srv.state.root / "bench" / f"svc-{i:04d}.git"
            subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True)
            (work / "CHANGELOG.md").write_text("changed\n")
            env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
                   "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
            subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
            subprocess.run(["git", "-C", str(work), "commit", "-qm", "docs: changelog"],
                           check=True, env=env)
            subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "main"], check=True)
        timed("10% changed")


if __name__ == "__main__":
    main()
