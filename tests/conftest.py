from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.json from the current reports")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def private_cache_dir(monkeypatch: pytest.MonkeyPatch,
                      tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test gets a parse cache of its own (engine.cache), never the real ~/.cache, and
    outside `tmp_path` (which tests scan)."""
    cache_home = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return cache_home


@pytest.fixture(autouse=True)
def no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist workers run with COLUMNS=80, which text output would wrap to: output in
    tests is as piped unless a test sets COLUMNS itself."""
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.fixture(autouse=True)
def every_report_matches_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every JSON report built anywhere in the suite is checked against the shipped schema."""
    from maturity_scan import report

    build = report.build

    def checked_build(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = build(*args, **kwargs)
        report.validate(out)
        return out

    monkeypatch.setattr(report, "build", checked_build)
