"""engine.claims answers exactly what every detector's patterns say (sdk.globs), path by path."""
from __future__ import annotations

import subprocess
from pathlib import Path

from maturity_scan.engine import registry
from maturity_scan.engine.claims import Claims
from maturity_scan.sdk.globs import compile_globs

ROOT = Path(__file__).resolve().parent.parent
ODD = ["Dockerfile", "x/Dockerfile.dev", "Containerfile.prod", "Jenkinsfile", "Jenkinsfile.x",
       ".eslintrc", "a/.eslintrc.json", "eslint.config.mjs", ".husky/pre-commit", "readme",
       "ReadMe.md", "README", "docs/README.rst", "CHANGELOG", "docs/Changes.rst",
       "Tiltfile.x", "Chart.yaml", "charts/a/Chart.yaml", ".github/workflows/ci.yml",
       ".github/workflows/sub/ci.yml", "a\udcff.yaml", "a\nb.yaml", "x.tf", "x.tf.json",
       ".pre-commit-config.yaml", "sub/.pre-commit-config.yaml", "", "/", "a/", "{", "}.yaml",
       "/README.md", "/x/Dockerfile", "a//b.tf", "//c.md", "x.md/", ".md", "a/.tf"]


def test_claims_match_every_pattern_on_every_path() -> None:
    dets = registry.all_detectors()
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    claims = Claims(dets)
    everything = [(d.id, compile_globs(tuple(d.patterns))) for d in dets]
    for path in [*listed, *ODD]:
        assert claims(path) == tuple(i for i, rx in everything if rx.match(path)), path


def test_select_answers_what_the_whole_expression_does() -> None:
    """`globs.select` (RepoView.glob) skips patterns no listed path ends like: same answers as
    `compile_globs` for every detector pattern, alone and in groups, on small path lists."""
    from maturity_scan.sdk.globs import select

    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    patterns = sorted({p for d in registry.all_detectors() for p in d.patterns})
    groups = [(p,) for p in patterns] + [tuple(patterns[i:i + 5])
                                        for i in range(0, len(patterns), 5)]
    for start in range(0, min(len(listed), 2000), 200):
        paths = [*listed[start:start + 200], *ODD]
        for group in groups:
            rx = compile_globs(group)
            assert select(group, paths) == [p for p in paths if rx.match(p)], group
    assert select(("**/*.tf",), ["README.md"]) == []
