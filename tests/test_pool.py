"""Parsing isolation: a file that crashes, hangs or outgrows its worker becomes one error entry
and the scan goes on with a fresh worker."""
from __future__ import annotations

from pathlib import Path

from maturity_scan.engine.pool import Limits, run_isolated
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource

TF = 'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
DEEP_HCL = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"  # aborts HashiCorp's Go parser


def big_hcl(n: int = 20_000) -> str:
    return "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b{i}"\n}}\n'
                   for i in range(n))


def test_a_crashing_parser_costs_one_file_not_the_scan(tmp_path: Path) -> None:
    (tmp_path / "deep.tf").write_text(DEEP_HCL)
    (tmp_path / "ok.tf").write_text(TF)
    result = scan_source(WorkTreeSource(tmp_path), ScanOptions(jobs=1))
    assert [(e.path, e.detector, e.message) for e in result.errors] == [
        ("deep.tf", "terraform", "the parser crashed (signal 6) (skipped)")]
    tf = result.signal("terraform")
    assert tf is not None and tf.facts["resources"] == 1


def test_soft_time_budget(tmp_path: Path) -> None:
    tasks = [("slow.tf.json", ('{"resource": {"x": {' + ",".join(
        f'"b{i}": {{"bucket": "{"x" * 50}"}}' for i in range(200_000)) + "}}}").encode(),
              ("terraform",)),
             ("ok.tf", TF.encode(), ("terraform",))]
    results = {r.path: r for r in run_isolated(iter(tasks), frozenset(), 1,
                                                Limits(seconds_per_file=0.05))}
    assert [e.message for e in results["slow.tf.json"].errors] == ["took longer than 0.05s (skipped)"]
    assert results["ok.tf"].found and not results["ok.tf"].errors


def test_hard_kill_when_native_code_ignores_the_alarm(tmp_path: Path) -> None:
    # pygohcl holds the GIL for ~3 s on this file (measured): the alarm cannot interrupt it
    tasks = [("big.tf", big_hcl(100_000).encode(), ("terraform",)),
             ("ok.tf", TF.encode(), ("terraform",))]
    results = {r.path: r for r in run_isolated(iter(tasks), frozenset(), 1,
                                                Limits(seconds_per_file=0.5,
                                                       grace_seconds=0.2))}
    assert [e.message for e in results["big.tf"].errors] == ["took longer than 0.5s (killed)"]
    assert results["ok.tf"].found and not results["ok.tf"].errors


def test_memory_cap(tmp_path: Path) -> None:
    # ~25 MB of JSON parses into several hundred MB of Python objects
    huge = ('{"resource": {"x": {' + ",".join(f'"b{i}": [{i}, {i + 1}, "{i}"]'
                                               for i in range(1_000_000)) + "}}}").encode()
    ok = b'{"resource": {"aws_s3_bucket": {"b": {"bucket": "b"}}}}'
    tasks = [("huge.tf.json", huge, ("terraform",)), ("ok.tf.json", ok, ("terraform",))]
    results = {r.path: r for r in run_isolated(iter(tasks), frozenset(), 1,
                                                Limits(memory_bytes=300 << 20))}
    assert [e.message for e in results["huge.tf.json"].errors] == [
        "exceeded the parser memory cap (skipped)"]
    assert results["ok.tf.json"].found and not results["ok.tf.json"].errors


def test_every_file_is_answered_with_several_workers(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"m{i}.tf").write_text(TF)
    result = scan_source(WorkTreeSource(tmp_path), ScanOptions(jobs=2))
    tf = result.signal("terraform")
    assert tf is not None and tf.facts["resources"] == 40 and not result.errors


def test_whole_scan_budget_ends_the_scan_as_incomplete(tmp_path: Path) -> None:
    # each file alone fits the per-file budget; together they outlast the scan's
    for i in range(4):
        (tmp_path / f"big{i}.tf").write_text(big_hcl(60_000))
    (tmp_path / "ok.tf").write_text(TF)
    limits = Limits(seconds_per_file=20, seconds_total=1.0)
    result = scan_source(WorkTreeSource(tmp_path),
                         ScanOptions(jobs=1, limits=limits, max_file_bytes=100 << 20))
    unparsed = [e for e in result.errors if "budget" in e.message]
    assert unparsed and all(e.message == "not analysed: the scan used up its 1s budget "
                            "(raise it with --scan-timeout)" for e in unparsed)
    assert {e.path for e in unparsed} <= {f"big{i}.tf" for i in range(4)} | {"ok.tf"}
    assert len(unparsed) >= 3
