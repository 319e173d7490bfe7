"""Reporters: each module renders one kind of data as text with one signature,
`render(data, **opts) -> str`. The formats of a scan report are the `FORMATS` table: a new
format is one module here plus one line in it.

The other modules render what the commands built from reports: `explain` (one dimension),
`diff` (two revisions), `history` (levels over time), `org` (an organization's summary) and
`graph` (a pack's rule graph)."""
from __future__ import annotations

import inspect
import json as _json
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from maturity_scan.reporters import backstage, html, json, markdown, portal, sarif, text

FORMATS: dict[str, ModuleType] = {
    "text": text,
    "json": json,
    "html": html,
    "markdown": markdown,
    "sarif": sarif,
    "backstage": backstage,
    "portal": portal,
}


def render(report: dict[str, Any], fmt: str, **opts: Any) -> str:
    """`report` in format `fmt`. Every format is handed the same options (`pack`, …) and takes
    the ones its `render` names."""
    fn = FORMATS[fmt].render
    takes = inspect.signature(fn).parameters
    taken = {k: v for k, v in opts.items() if k in takes}
    return fn(report, **taken)  # type: ignore[no-any-return]


def render_all(reports: Sequence[dict[str, Any]], fmt: str, packs: Mapping[str, Any],
               width: int | None = None) -> str:
    """Several reports of one scan (`--pack all`) as one valid document: JSON an object
    `{"schema_version": 1, "reports": [...]}` (each report valid on its own), SARIF one log with
    one run per pack, HTML one page with a section per pack; text and markdown one after
    another (text fitted to `width` columns)."""
    if fmt == "json":
        body = {"schema_version": 1, "reports": list(reports)}
        return _json.dumps(body, indent=2, sort_keys=True) + "\n"
    if fmt == "sarif":
        logs = [_json.loads(render(r, fmt, pack=packs[r["pack"]])) for r in reports]
        logs[0]["runs"] = [run for log in logs for run in log["runs"]]
        return _json.dumps(logs[0], indent=2) + "\n"
    if fmt == "html":
        return html.render_many(reports)
    if fmt in ("backstage", "portal"):  # one document, one export per pack
        return FORMATS[fmt].render_many(reports)  # type: ignore[no-any-return]
    return "\n".join(render(r, fmt, pack=packs[r["pack"]], width=width) for r in reports)
