"""A self-contained HTML page for one report (or one per pack of one scan, `--pack all`):
when and what was scanned, the level per dimension, the evidence behind each and the road
ahead. Rendered from Jinja2 templates (`templates/`, autoescaped: every value from the report
is escaped) with the hints' Markdown rendered safely; no script, no external asset.

Jinja2 and markdown-it are imported when a page is rendered, not when the CLI starts."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from maturity_scan.report import for_display
from maturity_scan.reporters.components import NONE_FOUND

if TYPE_CHECKING:
    import jinja2
    from markdown_it import MarkdownIt

# A link in a hint (a rule pack's text, maybe the scanned repository's own pack) may go to
# http(s) or a relative address, nothing else (no javascript:, data:, file:, mailto:).
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
ASIDE = {"test": "test data", "vendored": "vendored copies",
         "disabled": "chart templates off by default"}  # stats.files_set_aside scopes
EVIDENCE_SHOWN = 5  # per requirement; the rest behind "+N more"


def _safe_link(url: str) -> bool:
    m = _SCHEME.match(url)
    return m is None or m.group().lower() in ("http:", "https:")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # an image would be an external fetch: shown as text instead
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)  # type: ignore[no-any-return]

    md.add_render_rule("link_open", link_open)
    return md


def markdown_inline(text: str) -> Any:
    """One line of Markdown (a hint) as HTML: code spans, emphasis, safe links; raw HTML is
    shown as text."""
    from markupsafe import Markup
    return Markup(_markdown().renderInline(text))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates of every HTML page (this report, the org page), autoescaped."""
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("maturity_scan.reporters", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
    env.filters["md"] = markdown_inline
    env.filters["num"] = lambda v: f"{v:g}"
    env.filters["when"] = lambda s: re.sub(r"(\+00:00|Z)$", " UTC", s.replace("T", " "))
    env.globals["ASIDE"] = ASIDE
    env.globals["EVIDENCE_SHOWN"] = EVIDENCE_SHOWN
    env.globals["NONE_FOUND"] = NONE_FOUND
    return env


def page(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)


def render(report: dict[str, Any]) -> str:
    return render_many([report])


def render_many(reports: list[dict[str, Any]]) -> str:
    """Several reports of one scan (`--pack all`): one page, a section per pack, anchors
    prefixed with the pack id so that they stay unique. One report: the page of that report."""
    shown = [_view(r) for r in reports]  # controls shown as escapes, as in every text format
    if len(shown) == 1:
        title = f"{shown[0]['pack_title']}: {shown[0]['target']['path']}"
    else:
        title = f"maturity-scan: {shown[0]['target']['path']}"
    return page("report.html.j2", title=title, reports=shown)


def _view(report: dict[str, Any]) -> dict[str, Any]:
    """The report as the template shows it: strings visible, with what it derives."""
    r = for_display(report)
    r.setdefault("pack_title", r["pack"])
    aside: dict[str, list[str]] = {}
    for s in r["signals"]:
        for e in s["evidence"]:
            if e.get("scope") and e["path"] not in aside.setdefault(e["scope"], []):
                aside[e["scope"]].append(e["path"])
    r["aside_paths"] = {k: sorted(v) for k, v in aside.items()}
    for c in r.get("components") or []:
        c["by_id"] = {d["id"]: d for d in c["dimensions"]}
    for d in r["dimensions"]:
        rungs = d.get("requirements") or []
        d["excused"] = [x for x in rungs if x["status"] == "not_applicable"]
        d["above"] = [x for x in rungs if x["status"] == "met" and d["level"] is not None
                      and x["level"] > d["level"]]
        # waivers that count nothing yet: their level is not reached (reason: what it needs)
        d["pending_waivers"] = [x for x in rungs if x.get("waived") and x["status"] == "missing"]
    return r
