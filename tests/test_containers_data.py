"""Unit tests for the container / data detectors' small parsers (fixtures cover the rest)."""
from __future__ import annotations

import pytest
from maturity_scan.detectors._dockerfile import instructions
from maturity_scan.detectors.alembic import runs_upgrade
from maturity_scan.detectors.devcontainer import jsonc
from maturity_scan.detectors.docker_compose import DATABASES, QUEUES, _engine
from maturity_scan.detectors.dockerfile import _image_name
from maturity_scan.sdk.document import ParseError


@pytest.mark.parametrize("script, expected", [
    ("alembic upgrade head", True),
    ("cd app && alembic -c alembic.ini upgrade head", True),
    ("poetry run alembic upgrade head", True),
    ('sh -c "python -m alembic upgrade head && uvicorn app:app"', True),
    ("flask db upgrade", True),
    ("echo alembic upgrade head", False),
    ("alembic revision --autogenerate -m x", False),
    ("# alembic upgrade head", False),
])
def test_runs_upgrade(script: str, expected: bool) -> None:
    assert runs_upgrade(script) is expected


def test_instructions_join_continuations_and_skip_comments() -> None:
    lines = ["FROM python:3.12 AS base", "RUN pip install \\", "  # a comment inside",
             "    requests", "", "# USER root", "USER app"]
    assert list(instructions(lines)) == [(1, "FROM", "python:3.12 AS base"),
                                         (2, "RUN", "pip install  requests"),
                                         (7, "USER", "app")]


def test_instructions_escape_directive() -> None:
    lines = ["# escape=`", "FROM mcr.microsoft.com/windows/servercore", "RUN dir `", "  c:\\"]
    assert [op for _, op, _ in instructions(lines)] == ["FROM", "RUN"]


@pytest.mark.parametrize("ref, name", [
    ("python:3.12", "python"), ("localhost:5000/app:1", "localhost:5000/app"),
    ("ghcr.io/a/b@sha256:abc", "ghcr.io/a/b"), ("alpine", "alpine"),
])
def test_image_name(ref: str, name: str) -> None:
    assert _image_name(ref) == name


@pytest.mark.parametrize("image, db, queue", [
    ("postgres", "postgres", None), ("bitnami/postgresql", "postgres", None),
    ("mongo-express", None, None), ("redis-commander", None, None),
    ("confluentinc/cp-kafka", None, "kafka"), ("mcr.microsoft.com/mssql/server", "mssql", None),
])
def test_compose_engines(image: str, db: str | None, queue: str | None) -> None:
    assert _engine(image, DATABASES) == db
    assert _engine(image, QUEUES) == queue


def test_jsonc_keeps_slashes_in_strings() -> None:
    assert jsonc('{"a": "http://x//y", /* c */ "b": [1,],}  // end') == \
        {"a": "http://x//y", "b": [1]}
    with pytest.raises(ParseError):
        jsonc('{"a": ')
