"""The four speed ratios of issue 13, each with the parse floor (or target) beside it, measured
in one run with whole `maturity-scan` processes (as a user or a pre-commit hook pays them):

    python benchmarks/speed.py PATH [--small SMALL] [--repeat 3] [--no-history]
    python benchmarks/speed.py --generate 2000 [--tags 20]    # a synthetic tree in a temp dir
    python benchmarks/speed.py --scale [10000 50000 100000]   # time and parent memory by size
    python benchmarks/speed.py --startup [--repeat 9]         # item 1 only (and an empty folder)

1. start-up: `maturity-scan scan SMALL` of a 12-file repository (default: one generated here),
   wall seconds, target <= 0.3 s;
2. cold scan of PATH (`--no-cache`) / the serial parse floor of `scan_floor.py`, target <= 1.3x;
3. second scan of the unchanged PATH (warm parse cache) / the floor, target <= 0.6x;
4. `history --tags` of PATH (cold cache) / one cold scan of PATH, target <= 10x.

Every run uses a private, fresh parse cache ($XDG_CACHE_HOME in a temp dir): the user's own
is never read or written. Medians of `--repeat` runs.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_floor import floor_seconds  # noqa: E402

EXE = [sys.executable, "-m", "maturity_scan"]
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=root, check=True,
                   capture_output=True, env={**os.environ, **GIT_ENV})


def small_repo(root: Path) -> Path:
    """A dozen files, as an application repository has them."""
    files = {
        "README.md": "# app\n\n## Getting started\n\nmake run\n",
        "Dockerfile": "FROM python:3.12-slim\nUSER app\nCMD [\"app\"]\n",
        ".github/workflows/ci.yml": "on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                                    "    steps:\n      - uses: actions/checkout@v4\n"
                                    "      - run: pytest\n",
        ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/psf/black\n"
                                   "    rev: 24.1.0\n    hooks:\n      - id: black\n",
        "pyproject.toml": "[project]\nname = 'app'\n[tool.pytest.ini_options]\n",
        "main.tf": 'terraform {\n  backend "s3" {}\n}\n',
        "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n",
        "k8s/service.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: app}\n",
        "CODEOWNERS": "* @team\n",
        "app/__init__.py": "",
        "app/main.py": "print('hi')\n",
        "tests/test_main.py": "def test_x():\n    assert True\n",
    }
    return write_repo(root, files)


def write_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "files")
    return root


def generated_repo(root: Path, n: int, tags: int) -> Path:
    """`n` claimed files (charts, manifests, Terraform, workflows), `tags` version tags with a
    few files changed between each."""
    files: dict[str, str] = {}
    for i in range(n):
        kind = i % 4
        if kind == 0:
            files[f"charts/c{i}/Chart.yaml"] = f"apiVersion: v2\nname: c{i}\nversion: 1.0.{i}\n"
        elif kind == 1:
            files[f"deploy/app{i}/deployment.yaml"] = (
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\nspec:\n"
                f"  replicas: 2\n  template:\n    spec:\n      containers:\n"
                f"        - name: c\n          image: registry/app{i}:1.0\n"
                f"          resources: {{limits: {{cpu: 1}}}}\n")
        elif kind == 2:
            files[f"infra/m{i}/main.tf"] = (f'resource "aws_s3_bucket" "b{i}" {{\n'
                                            f'  bucket = "b{i}"\n}}\n')
        else:
            files[f".github/workflows/w{i}.yml"] = (
                f"name: w{i}\non: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
                f"    steps:\n      - run: make test{i}\n")
    write_repo(root, files)
    for t in range(tags):
        for j in range(3):
            (root / f"infra/changing{j}.tf").write_text(f'locals {{\n  v = "{t}"\n}}\n')
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"release {t}")
        git(root, "tag", f"v1.{t}.0")
    return root


CPU: dict[str, list[float]] = {}  # label -> CPU seconds (user + sys, the process and workers)


def monorepo(root: Path, n: int) -> Path:
    """`n` files of which a fifth are claimed (manifests, charts, Terraform, workflows) and the
    rest source code nobody claims, in folders of 50."""
    claimed = n // 5
    files: dict[str, str] = {}
    for i in range(n - claimed):
        files[f"src/p{i // 50}/m{i}.go"] = f"package p\n// {i}\n"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return generated_repo(root, claimed, 0)  # the claimed files, then one commit of all


SCALE_SCRIPT = """
import resource, sys, time
from pathlib import Path
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import open_source
start = time.perf_counter()
result = scan_source(open_source(Path(sys.argv[1])), ScanOptions(cache=False))
print(time.perf_counter() - start, result.stats.files_indexed, result.stats.files_read,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def scale(sizes: list[int], work: Path) -> None:
    """Issue 13 item 5: time linear in claimed files, parent memory under 300 MB."""
    print("files    claimed  scan s   s per 1k claimed   parent peak MiB (target < 300)")
    for n in sizes:
        root = monorepo(work / f"mono{n}", n)
        out = subprocess.run([sys.executable, "-c", SCALE_SCRIPT, str(root)], check=True,
                             capture_output=True, text=True, cwd="/").stdout.split()
        seconds, indexed, read, peak = float(out[0]), int(out[1]), int(out[2]), float(out[3])
        print(f"{indexed:<8} {read:<8} {seconds:<8.2f} {1000 * seconds / max(1, read):<18.3f} "
              f"{peak:.0f}")
        shutil.rmtree(root)


def timed(args: list[str], env: dict[str, str], label: str = "") -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, cwd="/")
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(label, []).append(after.ru_utime + after.ru_stime
                                     - before.ru_utime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}: {done.stderr}")
    return took


def median(n: int, run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(n))


def startup(repeat: int, small: Path | None) -> None:
    """Item 1 alone: whole `scan` processes of a 12-file repository and of an empty folder,
    with a fresh cache (packs validated, every file parsed) and a warm one (as every run after
    the first), alternating so that load changes hit both alike."""
    with tempfile.TemporaryDirectory(prefix="maturity-scan-startup-") as tmp:
        work = Path(tmp)
        small = small or small_repo(work / "small")
        (work / "empty").mkdir()
        home = work / "xdg"
        env = {**os.environ, "XDG_CACHE_HOME": str(home)}
        scan = [*EXE, "scan", "-q", "-o", "/dev/null"]
        times: dict[str, list[float]] = {}
        for _ in range(repeat):
            for label, target, fresh in (("12 files, fresh cache", small, True),
                                         ("12 files, warm cache", small, False),
                                         ("empty folder, warm cache", work / "empty", False)):
                if fresh and home.exists():
                    shutil.rmtree(home)
                times.setdefault(label, []).append(timed([*scan, str(target)], env, label))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; medians of {repeat}")
    for label, values in times.items():
        print(f"{label:<26} {statistics.median(values):.2f} s wall  "
              f"{statistics.median(CPU[label]):.2f} s CPU (parent and workers)  target <= 0.30 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path, nargs="?")
    ap.add_argument("--small", type=Path, help="the 12-file repository (default: generated)")
    ap.add_argument("--generate", type=int, metavar="N", help="scan a generated tree of N files")
    ap.add_argument("--tags", type=int, default=20, help="tags of the generated tree")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-history", action="store_true")
    ap.add_argument("--scale", type=int, nargs="*", metavar="N",
                    help="only the scale table: generated monorepos of N files (a fifth "
                         "claimed); default 10000 50000 100000")
    ap.add_argument("--startup", action="store_true",
                    help="only the start-up figures: the 12-file repository and an empty folder")
    args = ap.parse_args()
    if args.startup:
        startup(args.repeat, args.small)
        return
    if args.scale is not None:
        with tempfile.TemporaryDirectory(prefix="maturity-scan-scale-") as tmp:
            scale(args.scale or [10_000, 50_000, 100_000], Path(tmp))
        return

    with tempfile.TemporaryDirectory(prefix="maturity-scan-bench-") as tmp:
        work = Path(tmp)
        path = args.path or (generated_repo(work / "gen", args.generate, args.tags)
                             if args.generate else None)
        if path is None:
            ap.error("PATH or --generate N")
        small = args.small or small_repo(work / "small")
        cache_home = work / "xdg"

        def env(fresh: bool) -> dict[str, str]:
            if fresh and cache_home.exists():
                shutil.rmtree(cache_home)
            return {**os.environ, "XDG_CACHE_HOME": str(cache_home)}

        scan = [*EXE, "scan", "-o", "/dev/null"]
        floor = statistics.median(floor_seconds(path, None)[0] for _ in range(args.repeat))
        startup_cold = median(args.repeat, lambda: timed([*scan, str(small)], env(True),
                                                         "startup_cold"))
        timed([*scan, str(small)], env(True))
        startup_warm = median(args.repeat, lambda: timed([*scan, str(small)], env(False),
                                                         "startup_warm"))
        cold = median(args.repeat, lambda: timed([*scan, "--no-cache", str(path)], env(True),
                                                 "cold"))

        def warm() -> float:
            timed([*scan, str(path)], env(True))
            return timed([*scan, str(path)], env(False), "second")

        second = median(args.repeat, warm)
        tags = subprocess.run(["git", "tag", "--list"], cwd=path, capture_output=True,
                              text=True).stdout.split()
        history = None
        if tags and not args.no_history:
            history = timed([*EXE, "history", "--tags", "--format", "json", str(path)],
                            env(True), "history")

    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    print(f"load average         {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(wall times are only meaningful near 0)")
    print(f"CPU seconds          " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    print(f"path                 {path}")
    print(f"parse floor          {floor:.2f} s  (serial: list + read + parse once, "
          "benchmarks/scan_floor.py)")
    print(f"1 start-up (12 files) {startup_cold:.2f} s cold cache, {startup_warm:.2f} s warm"
          "   target <= 0.30 s")
    print(f"2 cold scan          {cold:.2f} s = {cold / floor:.2f}x the floor   target <= 1.3x")
    print(f"3 unchanged rescan   {second:.2f} s = {second / floor:.2f}x the floor   "
          "target <= 0.6x")
    if history is not None:
        print(f"4 history --tags     {history:.2f} s over {len(tags)} tags = "
              f"{history / cold:.2f}x one cold scan   target <= 10x")
    else:
        print("4 history --tags     (no tags in PATH)")


if __name__ == "__main__":
    main()
