"""The README's two commands are what CI runs, verbatim."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1]
    return re.findall(r"```sh\n(.+?)\n```", quick)[:2]


def test_quick_start_and_test_command_run_verbatim_in_ci() -> None:
    install_and_scan, run_tests = readme_commands()
    assert "maturity-scan scan" in install_and_scan and "pytest" in run_tests
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in (install_and_scan, run_tests):
        assert any(line.strip().startswith(command) for line in ci), command


def test_quick_start_installs_the_wheel_not_an_editable_tree() -> None:
    install_and_scan, _ = readme_commands()
    assert install_and_scan.startswith("pip install . ") and "-e" not in install_and_scan
