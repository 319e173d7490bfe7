"""Coverage configuration and thresholds: Codecov, Coveralls, SimpleCov, .NET `.runsettings`
with a coverage collector, coverage.py (also pytest-cov's `--cov` in tox commands or pytest
addopts), nyc / c8, Jest thresholds and `--cov-fail-under` style gates in CI."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, ParseError, Signal, ci, kind, shell, signal

# pytest-cov on a pytest command line or in addopts (not in a comment)
_PYTEST_COV = re.compile(r"^[^#;\n]*\b(?:pytest|py\.test|addopts)\b[^#\n]*\s--cov\b", re.M)
THRESHOLD = re.compile(r"fail_under\s*=\s*\d|--cov-fail-under[= ]\s*\d+|--fail-under[= ]\s*\d+|"
                       r"coverageThreshold|\"?(lines|branches|statements|functions)\"?\s*:\s*\d+|"
                       r"check-coverage|target:\s*\d+%?|minimum_coverage|jacoco.*minimum")


class CoverageDetector:
    id = "coverage"
    description = "Coverage configs and thresholds (Codecov, coverage.py, nyc, Jest, CI gates)"
    kinds = {"coverage": kind("Test coverage is measured (and gated)", tools="set",
                              threshold="flag")}
    patterns = ("codecov.y{a,}ml", ".codecov.y{a,}ml", ".coveragerc", ".coveralls.y{a,}ml",
                ".simplecov", "*.runsettings",
                ".nycrc{,.json,.yml,.yaml}",
                ".c8rc{,.json}", "jest.config.{js,ts,mjs,cjs,json}", "pyproject.toml", "setup.cfg",
                "tox.ini", *ci.GITHUB_WORKFLOWS, *ci.GITLAB)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name, text = doc.name, doc.text
        if name in ("pyproject.toml", "setup.cfg", "tox.ini"):
            m = re.search(r"^\[(tool\.coverage[.\]]|coverage:)", text, re.M)
            cov = None if m else _PYTEST_COV.search(text)
            if cov:  # `pytest --cov=src` in tox commands or pytest addopts: coverage is measured
                yield signal("coverage", doc.path, text.count("\n", 0, cov.start()) + 1,
                             "pytest-cov", tools=["pytest-cov"], threshold=bool(
                                 THRESHOLD.search(text)))
                return
            if not m:
                return
            tool = "coverage.py"
        elif doc.path in ci.GITLAB or doc.path.startswith(".github/workflows/"):
            yield from _ci(doc)
            return
        elif "codecov" in name:
            tool = "codecov"
        elif name == ".coveragerc":
            tool = "coverage.py"
        elif name.endswith(".runsettings"):  # .NET test settings with a coverage collector
            if not re.search(r'<DataCollector\b[^>]*friendlyName="(XPlat )?Code Coverage"', text):
                return
            tool = "dotnet-coverage"
        elif name == ".simplecov":
            if not re.search(r"^[ \t]*SimpleCov\.\w+", text, re.M):
                return
            tool = "simplecov"
        elif name.startswith(".coveralls"):
            if not re.search(r"^\s*(service_name|repo_token|coverage_clover|parallel)\s*:", text,
                             re.M):
                return
            tool = "coveralls"
        elif name.startswith(".nycrc") or name.startswith(".c8rc"):
            tool = "nyc"
        else:
            if "coverageThreshold" not in text and "collectCoverage" not in text:
                return
            tool = "jest"
        gate = THRESHOLD.search(text)
        line = text.count("\n", 0, gate.start()) + 1 if gate else 1
        yield signal("coverage", doc.path, line, f"{tool}" + (" threshold" if gate else " config"),
                     tools=[tool], threshold=bool(gate))


def _ci(doc: Document) -> Iterable[Signal]:
    try:
        p = ci.pipeline(doc)
    except ParseError:
        return  # the CI detectors report broken pipelines
    for job, step in p.steps() if p else ():
        for words in shell.commands(step.run):
            joined = " ".join(words)
            if re.search(r"--cov-fail-under|--fail-under|--check-coverage|--coverage-threshold",
                         joined) or (words[0] in ("coverage",) and "--fail-under" in joined):
                yield signal("coverage", doc.path, step.line, f"job {job.id} gates coverage",
                             tools=["ci"], threshold=True)
                return


DETECTOR = CoverageDetector()
