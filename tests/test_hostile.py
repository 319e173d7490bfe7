"""Hostile and broken input: each bad file is one `errors` entry with a short message that
never quotes the file, the scan goes on, nothing hangs."""
from __future__ import annotations

from pathlib import Path

import pytest

from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import WorkTreeSource

SECRET = "AKIAIOSFODNN7EXAMPLEKEY"
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))

CASES = {
    "invalid utf-8": b"repos:\n  - repo: \xff\xfe\xfa " + SECRET.encode() + b"\n",
    "binary": b"\x00\x01\x02\x03PK\x03\x04" + SECRET.encode() + b"\x00" * 64,
    "deep nesting": ("[" * 5000 + "]" * 5000).encode(),
    "alias bomb": LAUGHS.encode(),
    "broken yaml quoting a secret": f"repos: [{{repo: '{SECRET}'\n".encode(),
}


@pytest.mark.parametrize("content", CASES.values(), ids=CASES.keys())
def test_bad_yaml_is_one_error_and_the_scan_goes_on(tmp_path: Path, content: bytes) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_bytes(content)
    (tmp_path / "main.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
    result = scan_source(WorkTreeSource(tmp_path), ScanOptions(jobs=1))
    assert [e.path for e in result.errors] == [".pre-commit-config.yaml"]
    message = result.errors[0].message
    assert SECRET not in message and len(message) < 200
    assert "terraform" in {s.kind for s in result.signals}


def test_malformed_hcl_empty_and_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text(f'resource "aws_s3_bucket" "b" {{\n  tags = "{SECRET}\n')
    (tmp_path / "empty.tf").write_text("")
    (tmp_path / ".pre-commit-config.yaml").write_text("")
    (tmp_path / "huge.tf").write_text("# filler\n" * 400_000)
    (tmp_path / "ok.tf").write_text('terraform {\n  backend "gcs" {}\n}\n')
    result = scan_source(WorkTreeSource(tmp_path), ScanOptions(jobs=1))
    errors = {e.path: e.message for e in result.errors}
    assert "broken.tf" in errors and SECRET not in errors["broken.tf"]
    assert "empty.tf" not in errors and ".pre-commit-config.yaml" not in errors
    assert result.stats.files_skipped_oversize == 1
    tf = next(s for s in result.signals if s.kind == "terraform")
    assert tf.facts.get("remote_state") is True
