"""Renovate: its config where Renovate reads it (`renovate.json(5)`, `.renovaterc*`,
`.github/` or `.gitlab/renovate.json(5)`, or a `renovate` key in the root `package.json`),
with the presets it extends. JSON5 is read by stripping comments and trailing commas, then
loading the rest as YAML flow (which takes unquoted keys and single quotes)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from maturity_scan.sdk import Document, ParseError, Signal, kind, signal, yamlsafe

_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//[^\n]*|/\*.*?\*/|,(\s*[}\]])',
                     re.DOTALL)


def json5(text: str) -> Any:
    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok.startswith(("//", "/*")):
            return re.sub(r"[^\n]", " ", tok)  # keep line numbers
        return m.group(1) if m.group(1) is not None else tok
    try:
        docs = yamlsafe.load_all(_TOKENS.sub(sub, text).replace("\t", " "))
    except yamlsafe.YamlError:
        raise ParseError("invalid JSON5") from None
    return docs[0] if docs else None


class RenovateDetector:
    id = "renovate"
    description = "Renovate dependency updates (renovate.json, .renovaterc, package.json key)"
    kinds = {"renovate": kind("Dependencies are updated automatically by Renovate",
                              extends="set", automerge="flag")}
    patterns = ("/renovate.json{,5}", "/.renovaterc{,.json,.json5}",
                "/.github/renovate.json{,5}", "/.gitlab/renovate.json{,5}", "/package.json")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name == "package.json":
            try:
                pkg = doc.json
            except ParseError:
                return  # the Node detectors own package.json errors
            cfg = pkg.get("renovate") if isinstance(pkg, dict) else None
            if not isinstance(cfg, dict):
                return
            line = doc.line_of(r'^\s*"renovate"\s*:') or 1
        else:
            cfg = doc.json if doc.name.endswith(".json") else json5(doc.text)
            if not isinstance(cfg, dict):
                return
            line = 1
        extends = cfg.get("extends")
        presets = sorted({e for e in extends if isinstance(e, str)}) \
            if isinstance(extends, list) else [extends] if isinstance(extends, str) else []
        rules = cfg.get("packageRules")
        auto = cfg.get("automerge") is True or any(
            "automerge" in p.lower() and "disabled" not in p.lower() for p in presets) or any(
            isinstance(r, dict) and r.get("automerge") is True
            for r in (rules if isinstance(rules, list) else []))
        detail = "renovate configuration" + (f" extends {', '.join(presets[:3])}" if presets else "")
        yield signal("renovate", doc.path, line, detail, extends=presets, automerge=auto)


DETECTOR = RenovateDetector()
