"""Precision and recall of the detectors on real public repositories (issue 3).

    python benchmarks/accuracy.py [--truth benchmarks/accuracy_truth.yaml] [--mirrors DIR]
                                  [--clone-into DIR] [--only NAME] [--jobs N] [--show-aside]

`accuracy_truth.yaml` lists, per repository and commit, the kinds a person verified by reading
the repository, each with the reason for the call: `present` (must be found) and `absent` (must
not be). Kinds not listed are not scored. A kind counts as found only with evidence that is the
repository's own practice: a kind seen only in test data or vendored copies (evidence `scope`)
is not found, as the assessment does not count it either. Each repository is read from a bare
mirror (`DIR/<owner>+<name>/repo`, the layout `fetch` produces) or, with `--clone-into`, a
blobless clone of https://github.com/<owner>/<name> — never from this project. `--only` scores
some repositories (substring of owner/name), one at a time. Prints per-kind and overall
precision/recall; exit 1 below the targets (precision 0.98, recall 0.98 overall, no kind below
0.9) or when a listed repository could not be read.
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

TARGET_PRECISION, TARGET_RECALL, TARGET_PER_KIND = 0.98, 0.98, 0.9


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


def own_kinds(result) -> tuple[set[str], set[str]]:
    """Kinds with evidence of the repository's own practice, and kinds seen only set aside."""
    own = {s.kind for s in result.signals if any(e.scope is None for e in s.evidence)}
    return own, {s.kind for s in result.signals} - own


def calls(entry: dict, key: str) -> dict[str, str]:
    """`present`/`absent` of a truth entry: kind -> the reason for the call."""
    value = entry.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(r, str) and r for r in value.values()):
        raise SystemExit(f"{entry['repo']}: {key} must map each kind to the reason for the call")
    return value


def ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--truth", type=Path, default=Path(__file__).with_name("accuracy_truth.yaml"))
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--clone-into", type=Path)
    ap.add_argument("--only", action="append", default=[],
                    help="score only repositories whose owner/name contains this (repeatable)")
    ap.add_argument("--jobs", type=int, default=1, help="parser workers (default 1: modest CPU)")
    ap.add_argument("--show-aside", action="store_true",
                    help="also print, per repository, the kinds found only in set-aside files")
    args = ap.parse_args()
    truth = yaml.safe_load(args.truth.read_text())
    tp, fp, fn = Counter(), Counter(), Counter()
    scored, skipped = 0, []
    for entry in truth["repositories"]:
        if args.only and not any(o in entry["repo"] for o in args.only):
            continue
        present, absent = set(calls(entry, "present")), set(calls(entry, "absent"))
        if present & absent:
            raise SystemExit(f"{entry['repo']}: both present and absent: {present & absent}")
        path = locate(entry["repo"], entry["commit"], args.mirrors, args.clone_into)
        if path is None:
            print(f"skip {entry['repo']}: no mirror (use --clone-into DIR)", file=sys.stderr)
            skipped.append(entry["repo"])
            continue
        result = scan_source(GitRevisionSource(path, entry["commit"]),
                             ScanOptions(jobs=args.jobs))
        found, aside = own_kinds(result)
        for k in present:
            (tp if k in found else fn)[k] += 1
        for k in absent & found:
            fp[k] += 1
        scored += 1
        wrong = sorted((present - found)) + [f"+{k}" for k in sorted(absent & found)]
        print(f"{entry['repo']:<48} {len(present):>3} present {len(absent):>3} absent  "
              f"{'ok' if not wrong else 'wrong: ' + ' '.join(wrong)}", flush=True)
        if args.show_aside and aside:
            print(f"{'':<48} set aside only: {' '.join(sorted(aside))}")
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
    if skipped:
        print(f"not scored (no mirror): {', '.join(skipped)}")
    ok = precision >= TARGET_PRECISION and recall >= TARGET_RECALL and not worst and not skipped
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
