"""Unit tests by the conventions of each language: file names and folders first, a glance at
the first lines for the framework; for compiled languages, tests registered with the build
system (meson `test(...)`, CMake `add_test(...)` / `gtest_discover_tests(...)`). `testdata/` and `fixtures/` hold test inputs, not tests."""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.globs import compile_globs

JS = "{js,jsx,ts,tsx,mjs,cjs,mts,cts}"
# pattern -> language
LANGUAGES = {
    "test_*.py": "python", "*_test.py": "python", "tests.py": "python",  # Django's app/tests.py
    f"*.{{test,spec}}.{JS}": "javascript", f"**/__tests__/**/*.{JS}": "javascript",
    "*_test.go": "go",
    "**/src/test/java/**/*.java": "java", "**/src/test/kotlin/**/*.kt": "kotlin",
    "**/src/test/scala/**/*.scala": "scala",
    "**/test/groovy/**/*{Test,Tests,Spec}.groovy": "groovy",  # also a Jenkins shared library's
    "**/{test,tests}/**/*{Spec,Test,Tests}.hs": "haskell",
    "**/spec/**/*_spec.rb": "ruby", "**/test/**/*_test.rb": "ruby",
    "**/tests/*.rs": "rust",
    "*{Tests,Test}.cs": "csharp", "**/*.Tests/**/*.cs": "csharp",
    "**/tests/**/*Test.php": "php",
    "*.bats": "shell",
    "**/tests/*_test.y{a,}ml": "helm",
    "*_test.rego": "rego", "kyverno-test.y{a,}ml": "kyverno",
    "*_test.exs": "elixir", "*Tests.swift": "swift", "*_test.dart": "dart",
    # C, C++, Vala …: tests registered with the build system (`meson test`, `ctest`)
    "meson.build": "meson", "CMakeLists.txt": "cmake",
}
# a build file counts only where it registers a test, located at the first registration
REGISTERS = {"meson": re.compile(r"^[ \t]*test[ \t]*\(", re.M),
             "cmake": re.compile(r"^[ \t]*(?:add_test|gtest_discover_tests|gtest_add_tests|"
                                 r"catch_discover_tests|doctest_discover_tests)[ \t]*\(",
                                 re.M | re.I)}
FRAMEWORKS = (  # (language, regex on the first lines, framework)
    ("python", r"^\s*(import pytest|from pytest|@pytest\.)", "pytest"),
    ("python", r"unittest\.TestCase|^\s*import unittest|^from unittest", "unittest"),
    ("python", r"django\.test|from rest_framework\.test", "django"),
    ("javascript", r"""from ['"]vitest['"]|require\(['"]vitest['"]\)""", "vitest"),
    ("javascript", r"""@jest/globals|jest\.(fn|mock)\(""", "jest"),
    ("javascript", r"""from ['"](chai|mocha)['"]|require\(['"](chai|mocha)['"]\)""", "mocha"),
    ("javascript", r"""@playwright/test""", "playwright"),
    ("javascript", r"""node:test""", "node:test"),
    ("go", r'"testing"', "go test"), ("go", r"github\.com/stretchr/testify", "testify"),
    ("go", r"github\.com/onsi/ginkgo", "ginkgo"),
    ("java", r"org\.junit", "junit"), ("java", r"org\.testng", "testng"),
    ("kotlin", r"org\.junit", "junit"), ("kotlin", r"io\.kotest", "kotest"),
    ("groovy", r"spock\.lang|extends\s+Specification\b", "spock"),
    ("groovy", r"org\.junit", "junit"),
    ("haskell", r"^import\s+Test\.Hspec", "hspec"),
    ("haskell", r"^import\s+Test\.(Tasty|HUnit|QuickCheck)", "tasty/hunit"),
    ("ruby", r"RSpec\.|describe\s", "rspec"), ("ruby", r"Minitest|ActiveSupport::TestCase", "minitest"),
    ("rust", r"#\[(tokio::)?test\]", "cargo test"),
    ("csharp", r"using Xunit", "xunit"), ("csharp", r"using NUnit", "nunit"),
    ("csharp", r"Microsoft\.VisualStudio\.TestTools", "mstest"),
    ("php", r"PHPUnit", "phpunit"), ("shell", r"@test", "bats"),
    ("helm", r"^suite:", "helm-unittest"), ("rego", r"^test_|\ntest_", "opa test"),
    ("kyverno", r"kind:\s*Test", "kyverno test"),
)


@cache
def _by_pattern() -> list[tuple[re.Pattern[str], str]]:
    """Compiled on first use (not at import: every command imports every detector)."""
    return [(compile_globs((pattern,)), lang) for pattern, lang in LANGUAGES.items()]


@cache
def _compiled() -> list[tuple[str, re.Pattern[str], str]]:
    return [(lang, re.compile(rx, re.M), fw) for lang, rx, fw in FRAMEWORKS]


_INPUTS = re.compile(r"(^|/)(testdata|test-data|fixtures|__fixtures__|__snapshots__|"
                     r"examples?/.*/expected)(/|$)")
HEAD = 4096
_TEST_DEF = re.compile(r"^\s*(?:async\s+)?def\s+test\w*\s*\(|^\s*class\s+\w*Test\w*\s*[(:]", re.M)


class UnitTestsDetector:
    id = "unit_tests"
    description = ("Unit tests by language convention (Python, JS/TS, Go, JVM, Ruby, Rust, C#, bats, "
                   "Helm, policies) and meson/CMake test registrations")
    kinds = {"unit_tests": kind("Automated tests live with the code", count="count",
                                frameworks="set", languages="set")}
    patterns = tuple(LANGUAGES)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if _INPUTS.search(doc.path):
            return
        language = next((lang for rx, lang in _by_pattern() if rx.match(doc.path)), None)
        if language is None:
            return
        head = doc.text[:HEAD]
        if language == "helm" and "suite:" not in head:
            return  # a *_test.yaml that is not a helm-unittest suite
        if language == "kyverno" and "Test" not in head:
            return
        if language == "rust" and "#[" not in head and "fn " not in head:
            return
        if doc.name == "tests.py" and not _TEST_DEF.search(doc.text):
            return  # Django's generated placeholder: "# Create your tests here."
        if language in REGISTERS:
            found = REGISTERS[language].search(doc.text)
            if found:
                line = doc.text.count("\n", 0, found.start()) + 1
                yield signal("unit_tests", doc.path, line, f"{language} test registration",
                             count=1, languages=[language],
                             frameworks=["meson test" if language == "meson" else "ctest"])
            return
        frameworks = sorted({fw for lang, rx, fw in _compiled()
                             if lang == language and rx.search(head)})
        if not head.strip():
            return
        yield signal("unit_tests", doc.path, 1, f"{language} test", count=1,
                     languages=[language], frameworks=frameworks)


DETECTOR = UnitTestsDetector()
