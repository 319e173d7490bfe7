"""Configuration and rule packs are untrusted input too (issue 16, helper C).

A pull request cannot switch off the base's rule pack (rule folders of a base policy are read
from the base's git objects, never through the work tree); the repository's own config and
packs are parsed with limits (size, nesting, aliases), their rule folders stay inside the
repository, and `matches` patterns run in linear time. The work after the scan is linear in the
evidence."""
from __future__ import annotations

import cProfile
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maturity_scan import api, config, report
from maturity_scan.assess import packs as rulepacks
from maturity_scan.assess.graph import evaluate
from maturity_scan.engine import registry
from maturity_scan.engine.merge import merge_signals
from maturity_scan.engine.scan import ScanOptions, ScanResult, ScanStats, scan_source
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.errors import UsageError
from maturity_scan.gate.policy import rules_at
from maturity_scan.model import Evidence, FactType, Signal, kind
from maturity_scan.reporters import text as text_report
from tests.gitrepo import commit, git, init

ROOT = Path(__file__).resolve().parent.parent
TF = ('terraform {\n  backend "s3" {\n    bucket = "state"\n  }\n}\n'
      'resource "aws_s3_bucket" "b" {}\n')

# Replaces the built-in devops pack: infrastructure level 2 needs a README, which the repository
# lacks, so the base's floor (iac: 2) fails under this pack and passes under the built-in one.
STRICT_PACK = """\
pack: devops
title: Strict house rules
dimensions:
  - id: iac
    title: Infrastructure as code
    levels:
      - {level: 1}
      - {level: 2, requires: [docs.readme]}
requirements:
  - id: docs.readme
    title: A README
    hint: Write a README.
    when: {kind: readme}
"""
POLICY = "rules: [ci/rules]\ngate:\n  fail_under: {iac: 2}\n"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_scan", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def gated(tmp_path: Path) -> Path:
    """A repository whose base commit judges with its own pack in ci/rules."""
    repo = init(tmp_path / "repo")
    commit(repo, "base", {"infra/main.tf": TF, "infra/.terraform.lock.hcl": "# lock\n",
                          "docs/guide.md": "# Guide\n", "ci/rules/strict.yaml": STRICT_PACK,
                          ".maturity-scan.yaml": POLICY})
    return repo


# --- 1. the base's rule pack cannot be switched off ------------------------------------------

@pytest.mark.parametrize("target", ["../docs", "/"])
def test_a_symlinked_rules_folder_does_not_switch_off_the_base_pack(gated: Path,
                                                                    target: str) -> None:
    git(gated, "rm", "-q", "-r", "ci/rules")
    (gated / "ci").mkdir(exist_ok=True)
    (gated / "ci" / "rules").symlink_to(target)
    done = run("diff", str(gated), "--base", "HEAD", "-j", "0")
    # the base's pack judged both sides: the floor it sets fails (the built-in pack passes it)
    assert done.returncode == 1, done.stderr
    assert "iac: level 1 is below the floor 2" in done.stderr
    assert "Strict house rules" in done.stdout


def test_an_empty_configured_rules_folder_is_a_usage_error(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "base", {"infra/main.tf": TF, "ci/rules/README.md": "no packs here\n",
                          ".maturity-scan.yaml": POLICY})
    done = run("diff", str(repo), "--base", "HEAD", "-j", "0")
    assert done.returncode == 2, done.stderr
    assert "HEAD:.maturity-scan.yaml: rules: ci/rules: no rule files" in done.stderr


def test_a_base_whose_rules_folder_is_a_symlink_is_a_usage_error(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    (repo / "docs").mkdir(parents=True)
    (repo / "ci").mkdir()
    (repo / "ci" / "rules").symlink_to("../docs")
    commit(repo, "base", {"infra/main.tf": TF, "docs/x.yaml": "a: 1\n",
                          ".maturity-scan.yaml": POLICY})
    with pytest.raises(UsageError, match=r"rules: ci/rules: not a folder at HEAD \(a file or "
                                         "symbolic link\\)"):
        rules_at(repo, "HEAD", config.from_text(POLICY, "HEAD:.maturity-scan.yaml", repo),
                  tmp_path, from_base=True)


def test_rule_files_are_read_from_git_objects_not_the_work_tree(gated: Path,
                                                                tmp_path: Path) -> None:
    (gated / "ci" / "rules" / "strict.yaml").write_text("changed in the work tree\n")
    (gated / "ci" / "rules" / "extra.yaml").write_text("untracked\n")
    into = tmp_path / "into"
    into.mkdir()
    policy = config.from_text(POLICY, "HEAD:.maturity-scan.yaml", gated)
    [folder] = rules_at(gated, "HEAD", policy, into, from_base=True)
    assert sorted(p.name for p in folder.iterdir()) == ["strict.yaml"]
    assert (folder / "strict.yaml").read_text() == STRICT_PACK


# --- 2. the repository's config and packs: limits and confinement ----------------------------

def repo_with_config(tmp_path: Path, text: str, name: str = ".maturity-scan.yaml") -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / name).write_text(text)
    return repo


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the repository holding a file no one should read or name."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "private.yaml").write_text("TOPSECRET: [\n")
    return folder


@pytest.mark.parametrize("entry", ["ABS", "../outside", "ci/../../outside"])
def test_repository_config_rule_folders_stay_inside(tmp_path: Path, outside: Path,
                                                    entry: str) -> None:
    entry = str(outside) if entry == "ABS" else entry
    repo = repo_with_config(tmp_path, f"rules: [{entry}]\n")
    with pytest.raises(UsageError) as e:
        config.discover(repo)
    assert "must be a folder inside the repository" in str(e.value)
    assert "private.yaml" not in str(e.value) and "TOPSECRET" not in str(e.value)


def test_a_symlink_out_of_the_repository_is_refused(tmp_path: Path, outside: Path) -> None:
    repo = repo_with_config(tmp_path, "rules: [ci/rules]\n")
    (repo / "ci").mkdir()
    (repo / "ci" / "rules").symlink_to(outside)
    done = run("scan", str(repo), "-j", "0")
    assert done.returncode == 2
    assert "rules: ci/rules: leads outside the repository" in done.stderr
    assert "private.yaml" not in done.stderr and "TOPSECRET" not in done.stderr


def test_a_rule_file_symlinked_out_of_the_repository_is_refused(tmp_path: Path,
                                                                outside: Path) -> None:
    repo = repo_with_config(tmp_path, "rules: [ci/rules]\n")
    (repo / "ci" / "rules").mkdir(parents=True)
    (repo / "ci" / "rules" / "pack.yaml").symlink_to(outside / "private.yaml")
    with pytest.raises(UsageError, match="pack.yaml leads outside the repository"):
        config.discover(repo)


def test_a_symlink_that_stays_inside_the_repository_is_fine(tmp_path: Path) -> None:
    repo = repo_with_config(tmp_path, "rules: [ci/rules]\n")
    (repo / "packs").mkdir()
    (repo / "packs" / "strict.yaml").write_text(STRICT_PACK)
    (repo / "ci" / "rules").mkdir(parents=True)
    (repo / "ci" / "rules" / "strict.yaml").symlink_to("../../packs/strict.yaml")
    cfg = config.discover(repo)
    assert api.packs(cfg.rule_dirs)["devops"].title == "Strict house rules"


def test_rules_chosen_on_the_command_line_may_be_anywhere(tmp_path: Path,
                                                          outside: Path) -> None:
    (outside / "private.yaml").write_text(STRICT_PACK)
    assert api.packs((outside,))["devops"].title == "Strict house rules"  # --rules DIR
    policy = tmp_path / "policy.yaml"  # --config FILE, the user's own file
    policy.write_text(f"rules: [{outside}, ../{tmp_path.name}/outside]\n")
    assert config.load_file(policy).rule_dirs == (outside, outside)


def test_an_empty_rules_folder_in_the_repository_config_is_named(tmp_path: Path) -> None:
    repo = repo_with_config(tmp_path, "rules: [ci/rules]\n")
    (repo / "ci" / "rules").mkdir(parents=True)
    with pytest.raises(UsageError) as e:
        config.discover(repo)
    assert str(e.value) == (f"{repo}/.maturity-scan.yaml: rules: ci/rules: no rule files "
                            "(*.yaml, *.yml) in this folder")


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))


def test_an_alias_bomb_pack_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 600  # 9^9 nodes when expanded
    started = time.monotonic()
    with pytest.raises(UsageError, match="more than 100,000 nodes once aliases are expanded"):
        rulepacks.load_pack(path, registry.kind_specs())
    assert time.monotonic() - started < 2


def test_a_pack_that_contains_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("pack: loop\ntitle: Loop\ndimensions: []\nrequirements: &r [{when: *r}]\n")
    with pytest.raises(UsageError, match="line 4: an alias inside the node it names"):
        rulepacks.load_pack(path, registry.kind_specs())


def test_an_alias_bomb_config_is_refused(tmp_path: Path) -> None:
    repo = repo_with_config(tmp_path, BOMB.replace("a: &a", "pack: devops\na: &a"))
    with pytest.raises(UsageError, match="more than 100,000 nodes once aliases are expanded"):
        config.discover(repo)


@pytest.mark.parametrize("name, body", [
    (".maturity-scan.yaml", "exclude: " + "[" * 900 + "]" * 900 + "\n"),
    (".maturity-scan.yaml", "exclude:\n" + "".join("  " * i + "- \n" for i in range(1, 200))),
    ("pyproject.toml", "[tool.maturity-scan]\nexclude = " + "[" * 5000 + "]" * 5000 + "\n"),
])
def test_a_deeply_nested_config_is_exit_2_with_the_cause(tmp_path: Path, name: str,
                                                         body: str) -> None:
    repo = repo_with_config(tmp_path, body, name)
    done = run("scan", str(repo), "-j", "0")
    assert done.returncode == 2, done.stderr
    assert name in done.stderr and "nested" in done.stderr
    assert "internal error" not in done.stderr


def test_a_deeply_nested_pack_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("pack: deep\nwhen: " + "{all: [" * 100 + "]}" * 100 + "\n")
    with pytest.raises(UsageError, match="nested more than 64 levels deep"):
        rulepacks.load_pack(path, registry.kind_specs())


def test_an_oversized_config_is_refused_before_parsing(tmp_path: Path) -> None:
    repo = repo_with_config(tmp_path, "exclude:\n" + "  - x\n" * 400_000)
    with pytest.raises(UsageError, match="larger than 2,097,152 bytes"):
        config.discover(repo)


def test_a_fifo_rule_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    os.mkfifo(folder / "pack.yaml")
    started = time.monotonic()
    with pytest.raises(UsageError, match="pack.yaml: cannot read rule file .not a regular file"):
        rulepacks.load_packs(registry.kind_specs(), (folder,))
    assert time.monotonic() - started < 5


KINDS = {"terraform": kind("tf", backend="text", backends="set")}
REGEX_PACK = """\
pack: rx
title: Regex
dimensions:
  - id: iac
    title: Infrastructure
    levels:
      - {level: 1}
      - {level: 2, requires: [iac.backend]}
requirements:
  - id: iac.backend
    title: Backend
    hint: Pick one
    when: {fact: terraform.backend, matches: 'PATTERN'}
"""


def test_a_catastrophic_regex_runs_in_linear_time(tmp_path: Path) -> None:
    path = tmp_path / "rx.yaml"
    path.write_text(REGEX_PACK.replace("PATTERN", "^(a+)+$"))
    pack = rulepacks.load_pack(path, KINDS)
    value = "a" * 100_000 + "!"  # backtracking engines take exponential time on this
    sig = Signal("terraform", (Evidence("main.tf", 1, "", frozenset({"backend"})),),
                 {"backend": value})
    started = time.monotonic()
    assert evaluate(pack, [sig]).dimensions[0].level == 1
    assert time.monotonic() - started < 1
    ok = Signal("terraform", sig.evidence, {"backend": "aaa"})
    assert evaluate(pack, [ok]).dimensions[0].level == 2
    undecodable = Signal("terraform", sig.evidence, {"backend": "aa\udcffa"})  # a bad byte
    assert evaluate(pack, [undecodable]).dimensions[0].level == 1


@pytest.mark.parametrize("pattern, why", [
    ("(a)\\1", "unsupported regular expression syntax (invalid escape sequence: \\1)"),
    ("s3(?=x)", "unsupported regular expression syntax (invalid perl operator: (?=)"),
    ("(", "invalid regular expression (missing ), unterminated subpattern)"),
])
def test_regex_syntax_is_checked_at_load(tmp_path: Path, pattern: str, why: str) -> None:
    path = tmp_path / "rx.yaml"
    path.write_text(REGEX_PACK.replace("PATTERN", pattern))
    with pytest.raises(UsageError) as e:
        rulepacks.load_pack(path, KINDS)
    assert f"requirement iac.backend: when.matches: {why}" in str(e.value)


# --- 3. the work after the scan is linear in the evidence ------------------------------------

def _template(tmp_path: Path) -> list[Signal]:
    """Real signals of a few kinds, from scanning a small repository."""
    files = {"k8s/cm.yaml": "{apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}\n",
             "infra/main.tf": TF, "Dockerfile": "FROM python:3.11\nUSER app\n",
             ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: x\n"
                                         "    steps:\n      - run: pytest\n"}
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    return list(scan_source(WorkTreeSource(tmp_path), ScanOptions(jobs=0)).signals)


class Label(str):
    """A set fact's value whose comparisons are Python calls, so the profiler counts sorting."""

    __hash__ = str.__hash__

    def __lt__(self, other: object) -> bool:
        return str.__lt__(self, other)  # type: ignore[operator]


def _file_facts(kind_: str, facts: dict[str, object], i: int) -> dict[str, object]:
    """A file's facts, its set facts' values distinct per file (images, kinds, ...): the
    merged sets grow with the files, as in a monorepo."""
    types = registry.kind_specs()[kind_].facts
    return {name: [Label(f"{v}-{i}") for v in value] if types[name] is FactType.SET
            and isinstance(value, list) else value for name, value in facts.items()}


def _after_the_scan(template: list[Signal], files: int, packs: list[rulepacks.Pack]) -> None:
    """What the main process does after the parsers: merge per-file signals, every pack's
    rules, the report, the text rendering."""
    per_file = [Signal(s.kind, tuple(Evidence(f"f{i}/{e.path}", e.line, e.detail, e.supports)
                                     for e in s.evidence), _file_facts(s.kind, s.facts, i))
                for i in range(files) for s in template]
    merged = merge_signals(per_file, registry.kind_specs())
    result = ScanResult("repo", None, tuple(merged), (), ScanStats(files, files, 0, 0, 0.0))
    for pack in packs:
        text_report.render(report.build(result, evaluate(pack, merged)))


def _counted(template: list[Signal], files: int, packs: list[rulepacks.Pack],
             monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """(Evidence comparisons, Python function calls) for `files` files' evidence."""
    compared = [0]
    equal = Evidence.__eq__

    def counting_eq(self: Evidence, other: object) -> bool:
        compared[0] += 1
        return equal(self, other)

    monkeypatch.setattr(Evidence, "__eq__", counting_eq)
    profiler = cProfile.Profile()
    profiler.runcall(_after_the_scan, template, files, packs)
    monkeypatch.setattr(Evidence, "__eq__", equal)
    return compared[0], pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]


def test_the_work_after_the_scan_is_linear_in_the_evidence(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    template = _template(tmp_path)
    assert {"kubernetes_manifests", "terraform", "dockerfile"} <= {s.kind for s in template}
    packs = list(api.packs().values())  # every built-in pack
    _after_the_scan(template, 10, packs)  # warm every cache
    small_eq, small_calls = _counted(template, 250, packs, monkeypatch)
    large_eq, large_calls = _counted(template, 1000, packs, monkeypatch)
    # 4x the evidence: 4x the work, plus a little. A sort by list.index (the bug) made 1000
    # files cost ~16x 250 files, in millions of Evidence comparisons; so did re-sorting a
    # merged set once per file.
    assert large_eq <= 4 * small_eq + 100, (small_eq, large_eq)
    assert large_eq <= 1000, large_eq
    assert large_calls <= 4.5 * small_calls, (small_calls, large_calls)
