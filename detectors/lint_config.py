"""Linter and formatter configurations, by their own files or their sections in shared
configs (pyproject.toml, setup.cfg, tox.ini, package.json)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

FILES = {  # file name (exact) -> tool
    "ruff.toml": "ruff", ".ruff.toml": "ruff", ".flake8": "flake8", ".pylintrc": "pylint",
    "pylintrc": "pylint", "mypy.ini": "mypy", ".mypy.ini": "mypy", ".isort.cfg": "isort",
    ".tflint.hcl": "tflint", ".hadolint.yaml": "hadolint", ".hadolint.yml": "hadolint",
    ".yamllint": "yamllint", ".yamllint.yml": "yamllint", ".yamllint.yaml": "yamllint",
    ".shellcheckrc": "shellcheck", ".rubocop.yml": "rubocop", "clippy.toml": "clippy",
    ".clippy.toml": "clippy", "rustfmt.toml": "rustfmt", ".rustfmt.toml": "rustfmt",
    "biome.json": "biome", "biome.jsonc": "biome", ".swiftlint.yml": "swiftlint",
    "checkstyle.xml": "checkstyle", "detekt.yml": "detekt", ".editorconfig-checker.json": None,
    "phpcs.xml": "phpcs", "phpcs.xml.dist": "phpcs", ".golangci.yml": "golangci-lint",
    ".golangci.yaml": "golangci-lint", ".golangci.toml": "golangci-lint",
    ".golangci.json": "golangci-lint", ".sqlfluff": "sqlfluff", ".pydocstyle": "pydocstyle",
    "stylua.toml": "stylua", ".luacheckrc": "luacheck", ".ansible-lint": "ansible-lint",
}
PREFIXES = {".eslintrc": "eslint", "eslint.config.": "eslint", ".prettierrc": "prettier",
            "prettier.config.": "prettier", ".stylelintrc": "stylelint",
            "stylelint.config.": "stylelint", ".markdownlint": "markdownlint",
            ".php-cs-fixer": "php-cs-fixer", ".jshintrc": "jshint", "tslint.json": "tslint",
            ".ansible-lint": "ansible-lint", ".commitlintrc": "commitlint",
            "commitlint.config.": "commitlint"}
SECTIONS = re.compile(r"^\[(?:tool\.)?(ruff|black|isort|mypy|pylint|flake8|pyright|pycodestyle|"
                      r"pydocstyle|bandit|yapf|autopep8)(?:[.:\]])", re.M)
PACKAGE_KEYS = {"eslintConfig": "eslint", "prettier": "prettier", "stylelint": "stylelint"}


class LintConfigDetector:
    id = "lint_config"
    description = "Linter / formatter configs (ruff, flake8, eslint, golangci-lint, tflint, …)"
    kinds = {"lint_config": kind("Code is linted and formatted by configured tools",
                                 tools="set")}
    patterns = (*FILES, ".eslintrc*", "eslint.config.*", ".prettierrc*", "prettier.config.*",
                ".stylelintrc*", "stylelint.config.*", ".markdownlint*", ".php-cs-fixer*",
                ".jshintrc", "tslint.json", ".commitlintrc*", "commitlint.config.*",
                "pyproject.toml", "setup.cfg", "tox.ini", "/package.json")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        name = doc.name
        tool = FILES.get(name) or next((t for p, t in PREFIXES.items() if name.startswith(p)
                                        and not name.endswith("ignore")), None)
        if tool:
            doc.text  # a config that is not text is an error, not evidence
            yield signal("lint_config", doc.path, 1, f"{tool} config", tools=[tool])
        elif name in ("pyproject.toml", "setup.cfg", "tox.ini"):
            for m in SECTIONS.finditer(doc.text):
                line = doc.text.count("\n", 0, m.start()) + 1
                yield signal("lint_config", doc.path, line, f"[{m.group(0)[1:].rstrip('.:]')}] in {name}",
                             tools=[m.group(1)])
        elif name == "package.json":
            text = doc.text
            for key, tool in PACKAGE_KEYS.items():
                if f'"{key}"' in text and isinstance(_json(doc), dict) and key in _json(doc):
                    yield signal("lint_config", doc.path, doc.line_of(f'"{key}"') or 1,
                                 f"{key} in package.json", tools=[tool])


def _json(doc: Document) -> object:
    try:
        return doc.json
    except Exception:  # a broken package.json is not ours to report
        return None


DETECTOR = LintConfigDetector()
