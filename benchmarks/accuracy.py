"""Precision and recall of the detectors on real public repositories (issue 3).

    python benchmarks/accuracy.py [--truth benchmarks/accuracy_truth.yaml] [--mirrors DIR]
                                  [--clone-into DIR] [--show-missing]

`accuracy_truth.yaml` lists, per repository and commit, the kinds a person verified by reading
the repository: `present` (must be found) and `absent` (must not be). Kinds not listed are not
scored. Each repository is read from a bare mirror (`DIR/<owner>+<name>/repo`) or, with
`--clone-into`, a blobless clone of https://github.com/<owner>/<name> — never from this project.
Prints per-kind and overall precision/recall; exit 1 below the targets (precision 0.97, recall
0.95 overall, no kind below 0.9).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import GitRevisionSource

TARGET_PRECISION, TARGET_RECALL, TARGET_PER_KIND = 0.97, 0.95, 0.9


def locate(repo: str, commit: str, mirrors: Path, clone_into: Path | None) -> Path | None:
    mirror = mirrors / repo.replace("/", "+") / "repo"
    if mirror.exists():
        return mirror
    if clone_into is None:
        return None
    dest = clone_into / repo.replace("/", "+")
    if not dest.exists():
        subprocess.run(["git", "clone", "--bare", "--filter=blob:none", "--quiet",
                        f"https://github.com/{repo}.git", str(dest)], check=True)
    subprocess.run(["git", "--git-dir", str(dest), "fetch", "--quiet", "origin", commit],
                   check=False)
    return dest


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--truth", type=Path, default=Path(__file__).with_name("accuracy_truth.yaml"))
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--clone-into", type=Path)
    ap.add_argument("--show-missing", action="store_true")
    args = ap.parse_args()
    truth = yaml.safe_load(args.truth.read_text())
    tp, fp, fn = Counter(), Counter(), Counter()
    scored = 0
    for entry in truth["repositories"]:
        path = locate(entry["repo"], entry["commit"], args.mirrors, args.clone_into)
        if path is None:
            print(f"skip {entry['repo']}: no mirror (use --clone-into DIR)", file=sys.stderr)
            continue
        result = scan_source(GitRevisionSource(path, entry["commit"]), ScanOptions())
        found = {s.kind for s in result.signals}
        present, absent = set(entry.get("present", [])), set(entry.get("absent", []))
        for k in present:
            (tp if k in found else fn)[k] += 1
        for k in absent & found:
            fp[k] += 1
        scored += 1
        wrong = sorted((present - found)) + [f"+{k}" for k in sorted(absent & found)]
        print(f"{entry['repo']:<48} {len(present):>3} present {len(absent):>3} absent  "
              f"{'ok' if not wrong else 'wrong: ' + ' '.join(wrong)}")
    kinds = sorted(set(tp) | set(fp) | set(fn))
    worst = []
    print(f"\n{'kind':<22} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}")
    for k in kinds:
        p, r = ratio(tp[k], tp[k] + fp[k]), ratio(tp[k], tp[k] + fn[k])
        if min(p, r) < TARGET_PER_KIND:
            worst.append(k)
        print(f"{k:<22} {tp[k]:>4} {fp[k]:>4} {fn[k]:>4} {p:>9.3f} {r:>7.3f}")
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = ratio(TP, TP + FP), ratio(TP, TP + FN)
    print(f"\n{scored} repositories, {len(kinds)} kinds: precision {precision:.3f} "
          f"(tp {TP}, fp {FP}), recall {recall:.3f} (fn {FN}); kinds below "
          f"{TARGET_PER_KIND}: {', '.join(worst) or 'none'}")
    ok = precision >= TARGET_PRECISION and recall >= TARGET_RECALL and not worst
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
