"""Dev containers: `.devcontainer/devcontainer.json`, `.devcontainer/<name>/devcontainer.json`,
`.devcontainer.json` (JSON with comments and trailing commas, as VS Code reads it)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from maturity_scan.sdk import Document, ParseError, Signal, kind, signal

_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_TRAILING = re.compile(r",(\s*[}\]])")


def jsonc(text: str) -> Any:
    """JSON with `//` and `/* */` comments and trailing commas; strings are left untouched."""
    def keep(m: re.Match[str]) -> str:
        s = m.group(0)
        return s if s.startswith('"') else "\n" * s.count("\n")
    stripped = _TOKENS.sub(keep, text)
    parts = re.split(r'("(?:\\.|[^"\\])*")', stripped)
    cleaned = "".join(p if i % 2 else _TRAILING.sub(r"\1", p) for i, p in enumerate(parts))
    try:
        return json.loads(cleaned)
    except ValueError as e:
        raise ParseError(f"invalid JSON ({e.__class__.__name__})") from None


class DevcontainerDetector:
    id = "devcontainer"
    description = "Dev containers (devcontainer.json): image/Dockerfile/compose, features, hooks"
    kinds = {"devcontainer": kind(
        "A reproducible development container",
        configs="count", features="set", source="set", post_create="flag",
    )}
    patterns = (".devcontainer/devcontainer.json", ".devcontainer/*/devcontainer.json",
                "/.devcontainer.json")  # the root file only: VS Code looks nowhere else

    def analyze(self, doc: Document) -> Iterable[Signal]:
        data = jsonc(doc.text)
        if not isinstance(data, dict):
            return
        source = [s for s, keys in (("image", ("image",)),
                                    ("dockerfile", ("dockerFile", "build")),
                                    ("compose", ("dockerComposeFile",))) if any(k in data for k in keys)]
        if not source:
            return  # neither image, Dockerfile nor compose: VS Code cannot start it
        feats = data.get("features")
        features = sorted(re.sub(r"[:@].*$", "", f).rsplit("/", 1)[-1]
                          for f in feats) if isinstance(feats, dict) else []
        hooks = any(data.get(k) for k in ("postCreateCommand", "onCreateCommand",
                                          "updateContentCommand", "postStartCommand"))
        yield signal("devcontainer", doc.path,
                     doc.line_of(r'"(image|dockerFile|build|dockerComposeFile)"\s*:'),
                     f"dev container ({', '.join(source)})", configs=1, features=features,
                     source=source, post_create=hooks)


DETECTOR = DevcontainerDetector()
