"""Tilt: a `Tiltfile` (Starlark, read as text, never executed) that calls Tilt's API."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

CALLS = ("k8s_yaml", "docker_build", "custom_build", "helm", "k8s_resource", "local_resource",
         "docker_compose", "dc_resource", "k8s_custom_deploy", "include", "load")
_CALL = re.compile(r"^\s*(?:\w+\s*=\s*)?(" + "|".join(CALLS) + r")\s*\(")


class TiltDetector:
    id = "tilt"
    description = "Tiltfiles: local multi-service dev loops (read as text, never run)"
    kinds = {"tilt": kind(
        "Local development loop with Tilt",
        tiltfiles="count", calls="set", live_update="flag",
    )}
    patterns = ("Tiltfile", "*.tiltfile", "Tiltfile.*")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if re.search(r"\.(md|txt|rst|bak|orig)$", doc.name, re.IGNORECASE):
            return
        calls: dict[str, int] = {}
        live = False
        for i, line in enumerate(doc.lines, 1):
            if line.lstrip().startswith("#"):
                continue
            m = _CALL.match(line)
            if m:
                calls.setdefault(m.group(1), i)
            live = live or "live_update" in line.split("#", 1)[0]
        if not set(calls) - {"load"}:
            return
        first = min(calls.values())
        yield signal("tilt", doc.path, first, f"Tiltfile calls {', '.join(sorted(calls))}"[:80],
                     tiltfiles=1, calls=sorted(calls), live_update=live)


DETECTOR = TiltDetector()
