"""Checking a fixture repository against its `expected.yaml` (used by the test suite, and
handy for plugin authors testing their own detectors the same way).

    description: one line on why this case exists
    found:                         # kinds that must be found
      terraform:
        facts: {remote_state: true, backends: [s3]}   # each listed fact must equal
        evidence:                  # each item must match some evidence on the keys given
          - {path: infra/main.tf, line: 3}
    not_found: [pulumi]            # kinds that must not be found
    errors:                        # exactly these files have errors; message is a substring
      - {path: broken.tf, message: invalid HCL}
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from maturity_scan.engine.scan import ScanOptions, ScanResult, scan_source
from maturity_scan.engine.source import WorkTreeSource

EXPECTED = "expected.yaml"


def scan_fixture(case: Path, jobs: int = 0) -> ScanResult:
    """Scan a copy of the case outside any git repository (so the project's own history and
    ignore rules never leak into it), without its expected.yaml."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / case.name
        shutil.copytree(case, root, symlinks=True,
                        ignore=lambda d, names: [EXPECTED] if Path(d) == case else [])
        return scan_source(WorkTreeSource(root), ScanOptions(jobs=jobs))


def check(case: Path, result: ScanResult) -> list[str]:
    """Every way `result` falls short of the case's expectations, as readable lines."""
    spec: dict[str, Any] = yaml.safe_load((case / EXPECTED).read_text()) or {}
    problems: list[str] = []
    found = {s.kind: s for s in result.signals}
    for kind, want in (spec.get("found") or {}).items():
        sig = found.get(kind)
        if sig is None:
            problems.append(f"{kind}: not found (found: {sorted(found)})")
            continue
        for fact, value in ((want or {}).get("facts") or {}).items():
            if sig.facts.get(fact) != value:
                problems.append(f"{kind}.{fact}: expected {value!r}, got {sig.facts.get(fact)!r}")
        for ev in (want or {}).get("evidence") or []:
            if not any(all(getattr(e, k) == v for k, v in ev.items()) for e in sig.evidence):
                problems.append(f"{kind}: no evidence matching {ev} in "
                                f"{[e.to_json() for e in sig.evidence]}")
    for kind in spec.get("not_found") or []:
        if kind in found:
            problems.append(f"{kind}: found but must not be "
                            f"({[e.to_json() for e in found[kind].evidence][:3]})")
    want_errors = spec.get("errors") or []
    for err in want_errors:
        if not any(e.path == err["path"] and err.get("message", "") in e.message
                   for e in result.errors):
            problems.append(f"error expected for {err['path']} ({err.get('message', '')}), "
                            f"got {[e.to_json() for e in result.errors]}")
    for e in result.errors:
        if not any(e.path == w["path"] for w in want_errors):
            problems.append(f"unexpected error: {e.to_json()}")
    return problems
