"""The wheel ships the detectors and rule packs inside the package, claims no top-level
`detectors`, and works installed on its own."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("maturity_scan-*.whl"))


def test_wheel_layout(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert "detectors" not in tops and "rules" not in tops
    assert "maturity_scan/detectors/terraform.py" in names
    assert "maturity_scan/rules/devops.yaml" in names
    assert "maturity_scan/schema/report.schema.json" in names
    for schema in ("backstage-export.schema.json", "backstage-facts.json",  # portal exports
                   "portal-export.schema.json", "portal-value.schema.json"):
        assert f"maturity_scan/schema/{schema}" in names
    assert "maturity_scan/reporters/templates/report.html.j2" in names  # HTML from templates
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "maturity-scan = maturity_scan.cli:main" in zipfile.ZipFile(wheel).read(
        entry_points).decode()


def test_installed_wheel_scans(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", "import maturity_scan, sys; print(maturity_scan.__file__); "
         "from maturity_scan.cli import main; sys.exit(main(sys.argv[1:]))", "scan",
         str(ROOT / "fixtures" / "repos" / "platform-service"), "--format", "json"],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    where, _, body = done.stdout.partition("\n")
    assert where.startswith(str(target))
    rep = json.loads(body)
    assert {d["id"] for d in rep["dimensions"]} >= {"iac", "delivery"}
    page = subprocess.run(  # the templates are found in the installed package
        [sys.executable, "-m", "maturity_scan", "scan", str(ROOT / "fixtures" / "repos" /
                                                          "platform-service"), "--format", "html"],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert page.returncode == 0 and "<h2 id='iac'>" in page.stdout, page.stderr
