"""A waiver counts only where it completes a level that is then reached. Waived at a level the
dimension does not reach (another requirement of that level, or of one below, is still
missing), the requirement stays `missing` in the rung list, keeps its waiver, and every
format says the same sentence: "waived (REASON), but level N still needs X". Before, the rung
list said `waived` although the level was not reached and text and explain said nothing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from maturity_scan.cli import main

TF = 'terraform {\n  backend "s3" {}\n}\nresource "aws_s3_bucket" "b" {}\n'
WAIVE = ("waive:\n  iac.checked_in_ci: the platform pipeline checks it\n"
         "  iac.policy_scanning: scanned centrally\n")
PENDING = "waived (the platform pipeline checks it), but level 3 still needs iac.versions_pinned"


def scan(capsys: pytest.CaptureFixture[str], root: Path, out: Path) -> dict[str, Path]:
    """One scan of `root` into every format; returns the files by format."""
    files = {fmt: out / f"r.{fmt}" for fmt in ("json", "text", "markdown", "sarif", "html")}
    args = ["scan", str(root), "-j", "0"]
    for fmt, path in files.items():
        args += ["-o", f"{fmt}={path}"]
    assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    return files


def iac(files: dict[str, Path]) -> dict[str, Any]:
    rep = json.loads(files["json"].read_text())
    return next(d for d in rep["dimensions"] if d["id"] == "iac")


def explain(capsys: pytest.CaptureFixture[str], root: Path, *fmt: str) -> str:
    assert main(["explain", str(root), "iac", "-j", "0", *fmt]) == 0
    return click.unstyle(capsys.readouterr().out)


@pytest.fixture
def pending(tmp_path: Path) -> Path:
    """Level 3 waits on iac.versions_pinned (no lock file): the waiver of iac.checked_in_ci
    (level 3) and of iac.policy_scanning (level 4) complete nothing."""
    root = tmp_path / "infra"
    root.mkdir()
    (root / "main.tf").write_text(TF)
    (root / ".maturity-scan.yaml").write_text(WAIVE)
    return root


def test_a_waiver_below_an_unreached_level_is_not_waived_anywhere(
        pending: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = scan(capsys, pending, tmp_path)
    d = iac(files)
    assert d["level"] == 2
    rungs = {r["id"]: r for r in d["requirements"]}
    ci = rungs["iac.checked_in_ci"]
    assert ci["status"] == "missing"  # was "waived", with level 3 not reached
    assert ci["waived"] == "the platform pipeline checks it"
    assert ci["reason"] == PENDING
    policy = rungs["iac.policy_scanning"]
    assert policy["status"] == "missing" and policy["level"] == 4
    assert policy["reason"] == ("waived (scanned centrally), but level 3 still needs "
                                "iac.versions_pinned")
    # nothing waived is shown as met, nor advised: the road names only what is needed
    assert all(not m.get("waived") for m in d["met"])
    assert [s["requirement"] for s in d["next_steps"]][:1] == ["iac.versions_pinned"]
    assert "iac.checked_in_ci" not in [s["requirement"] for s in d["next_steps"]]

    text = click.unstyle(files["text"].read_text())
    block = text.split("Infrastructure as code (iac): level 2")[1].split("\n\n")[0]
    assert "waived, not counted: L3 Infrastructure code is checked automatically" in block
    assert f"      {PENDING}" in block.splitlines()
    assert "✓ L3" not in block and "waived L3" not in block

    assert PENDING.replace("_", "\\_") in files["markdown"].read_text()  # prose escapes `_`
    assert PENDING in files["html"].read_text()
    results = json.loads(files["sarif"].read_text())["runs"][0]["results"]
    ci_result = next(r for r in results if r["ruleId"] == "iac.checked_in_ci")
    assert ci_result["suppressions"] == [{"kind": "external",
                                          "justification": "the platform pipeline checks it"}]
    assert PENDING in ci_result["message"]["text"]
    # a level-4 waiver is not a note of the next level
    assert not any(r["ruleId"] == "iac.policy_scanning" for r in results)

    shown = explain(capsys, pending)
    assert "Waived, not counted yet" in shown and PENDING in shown
    assert "waived" not in shown.split("Road ahead")[0]
    body = json.loads(explain(capsys, pending, "--format", "json"))
    assert {r["id"]: r["status"] for r in body["requirements"]}["iac.checked_in_ci"] == "missing"


def test_a_waiver_that_completes_a_level_is_waived(
        pending: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pending / ".terraform.lock.hcl").write_text("# lock\n")
    files = scan(capsys, pending, tmp_path)
    d = iac(files)
    assert d["level"] == 3
    rungs = {r["id"]: r for r in d["requirements"]}
    assert rungs["iac.checked_in_ci"]["status"] == "waived"
    assert rungs["iac.checked_in_ci"]["reason"] == "the platform pipeline checks it"
    assert "waived" not in rungs["iac.checked_in_ci"]  # the status says it
    met = {m["requirement"]: m for m in d["met"]}
    assert met["iac.checked_in_ci"]["waived"] == "the platform pipeline checks it"
    # level 4 is not reached (modules, environments missing): its waiver does not count yet
    policy = rungs["iac.policy_scanning"]
    assert policy["status"] == "missing" and policy["reason"].startswith(
        "waived (scanned centrally), but level 4 still needs iac.")
    text = click.unstyle(files["text"].read_text())
    assert "waived L3 Infrastructure code is checked automatically" in text
    assert "      waived: the platform pipeline checks it" in text
    assert "waived, not counted: L4 Infrastructure code is scanned against policies" in text
    shown = explain(capsys, pending)
    assert "waived Infrastructure code is checked automatically" in shown.split("Road ahead")[0]
