"""The HTML pages from their templates (no browser here; tests/test_html_browser.py renders
them in Chromium): what a scan page says (date, commit, tool, pack, the bar column's name,
files set aside, errors), hints as Markdown and only safe Markdown, repository text escaped,
nothing fetched from elsewhere, Jinja2 and markdown-it imported only when a page is made."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from maturity_scan import api
from maturity_scan.cli.checks import stamp
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.reporters import html, org as org_report

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "fixtures" / "repos" / "platform-service"
SCOPE = ROOT / "fixtures" / "scope" / "library_test_fixtures"


def _report(root: Path) -> dict[str, Any]:
    source = WorkTreeSource(root)
    rep = api.scan_report(source, options=ScanOptions(jobs=0, cache=False))
    stamp([rep], source)
    return rep


@pytest.fixture(scope="module")
def platform() -> dict[str, Any]:
    return _report(PLATFORM)


class _Loads(HTMLParser):
    """What a page's elements would load: tags that fetch, attributes that point anywhere."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("link", "img", "iframe", "object", "embed", "base", "video", "audio"):
            self.found.append(tag)
        self.found += [f"{tag} {k}" for k, v in attrs
                       if k in ("src", "srcset", "action", "poster", "data")
                       or (k == "style" and "url(" in (v or ""))]


class _Balance(HTMLParser):
    """Every element the templates open is closed, in order (void elements aside)."""
    VOID = {"meta", "br", "img", "link", "input", "hr", "col", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.wrong: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.wrong.append((tag, self.open[-3:]))
        elif self.open:
            self.open.pop()


def _balanced(page: str) -> None:
    check = _Balance()
    check.feed(page)
    assert check.wrong == [] and check.open == [], (check.wrong[:3], check.open)


def _no_external_resource(page: str) -> None:
    """Self-contained: no element or style that loads anything."""
    loads = _Loads()
    loads.feed(page)
    assert loads.found == []
    styles = "".join(re.findall(r"<style>(.*?)</style>", page, re.S))
    assert "@import" not in styles and "url(" not in styles


def test_scan_page_says_when_what_and_with_what(platform: dict[str, Any]) -> None:
    page = html.render(platform)
    assert page.startswith("<!doctype html>") and "<script" not in page
    _no_external_resource(page)
    _balanced(page)
    _balanced(html.render_many([platform, platform]))
    assert f"<time datetime='{platform['scanned_at']}'>" in page
    commit = platform["target"]["commit"]
    assert f"<code title='{commit}'>{commit[:12]}</code>" in page
    assert f"<dt>pack</dt><dd><code>devops</code></dd>" in page
    assert f"<dt>tool</dt><dd>maturity-scan {platform['tool']['version']}</dd>" in page
    assert "<th scope=col>progress to the top level</th>" in page  # the bar column is named
    assert "aria-label='level 3 of 5'" in page
    # hints are Markdown: backticks become code
    assert "(<code>trivy config .</code>)" in page and "`trivy" not in page


def test_files_set_aside_and_errors_are_shown(tmp_path: Path) -> None:
    rep = _report(SCOPE)
    assert rep["stats"]["files_set_aside"] == {"test": 3}
    rep["errors"] = [{"path": "ci/broken.yml", "detector": "github_actions",
                      "message": "not YAML: line 3"}]
    page = html.render(rep)
    assert "Files set aside</h2>" in page
    assert "3 read as test data" in page and ", 3 set aside as test data" in page
    aside = re.search(r"<details><summary>test data: (\d+) file\(s\) with evidence", page)
    assert aside and int(aside.group(1)) >= 1
    assert "Files that could not be analysed (1)</h2>" in page
    assert "<code>ci/broken.yml</code> not YAML: line 3 <span class=req>github_actions</span>" \
        in page


def test_long_evidence_lists_say_how_many_more(platform: dict[str, Any]) -> None:
    rep = json.loads(json.dumps(platform))
    met = rep["dimensions"][0]["met"][0]
    met["evidence"] = [{"path": f"infra/m{i}.tf", "line": 1} for i in range(12)]
    page = html.render(rep)
    assert f"<summary>+{12 - html.EVIDENCE_SHOWN} more</summary>" in page
    assert "infra/m11.tf:1" in page  # all shown, the rest folded


HOSTILE_HINT = ("Run `make <lint>` then <script>alert(1)</script> **now**, see "
                "[docs](https://example.com/a?b=1&c=2), [x](javascript:alert(1)), "
                "[f](file:///etc/passwd), [rel](docs/ci.md) and ![i](https://example.com/i.png)"
                " <img src=x onerror=alert(1)>")


def test_hint_markdown_is_rendered_safely() -> None:
    out = str(html.markdown_inline(HOSTILE_HINT))
    assert "<code>make &lt;lint&gt;</code>" in out and "<strong>now</strong>" in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "<script" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert ('<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">'
            "docs</a>") in out
    assert '<a href="docs/ci.md"' in out
    # other schemes are not links; an image is not loaded, only linked
    assert "[x](javascript:alert(1))" in out and "[f](file:///etc/passwd)" in out
    assert 'href="javascript' not in out and 'href="file' not in out
    assert "<img" not in out and '!<a href="https://example.com/i.png"' in out


def test_repository_text_is_escaped_everywhere(platform: dict[str, Any]) -> None:
    rep = json.loads(json.dumps(platform))
    rep["pack_title"] = "Pack <img src=x onerror=alert(1)>"
    rep["target"]["path"] = "x'><script>alert(1)</script>"
    dim = rep["dimensions"][0]
    dim["title"] = "CI <script>alert(1)</script> [link](javascript:x)"
    dim["id"] = "iac' onmouseover='alert(1)"
    dim["next_steps"][0]["hint"] = HOSTILE_HINT
    dim["met"][0]["evidence"][0] = {"path": "a\x1b[31m<b>.yml", "line": 2,
                                    "detail": "job \u202eevil"}
    page = html.render(rep)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "href='#iac&#39; onmouseover=&#39;alert(1)'" in page
    assert "id='iac&#39; onmouseover=&#39;alert(1)'" in page
    assert "a\\x1b[31m&lt;b&gt;.yml:2" in page and "job \\u202eevil" in page
    assert 'href="javascript' not in page
    _no_external_resource(page)


def _summary(platform: dict[str, Any]) -> dict[str, Any]:
    from maturity_scan.org import run as org_run
    results = [{"repository": "acme/<b>x</b>", "status": "scanned",
                **org_run._summary(platform)},
               {"repository": "acme/gone\x1b[2J", "status": "failed", "reason": "clone <i>"}]
    settings = org_run.OrgSettings(owner="acme", out=Path("unused"), cache=Path("unused"))
    summary = org_run.aggregate(settings, results, 3.0)
    summary["common_missing"][0]["hint"] = "Add `trivy` <script>x</script>"
    return summary


def test_org_page_from_its_template(platform: dict[str, Any]) -> None:
    summary = _summary(platform)
    page = org_report.html(summary)
    assert page.count("<script>") == 1  # the sorting script, inline
    _no_external_resource(page)
    _balanced(page)
    assert "<b>x</b>" not in page and "acme/&lt;b&gt;x&lt;/b&gt;" in page
    assert "repos/acme__b_x__b_.html#iac" in page  # safe_name of the raw name
    assert "acme/gone\\x1b[2J: clone &lt;i&gt;" in page  # not scanned, with its reason
    assert "Add <code>trivy</code> &lt;script&gt;x&lt;/script&gt;" in page
    assert f"<time datetime='{summary['scanned_at']}'>" in page
    assert "Waited 3.0s for GitHub rate limits." in page
    assert "<h2 id='weakest'>Needs attention first</h2>" in page
    assert "<li><a href='repos/acme__b_x__b_.html'>acme/&lt;b&gt;x&lt;/b&gt;</a>: iac 3," in page
    nav = re.findall(r"<a href='#([a-z-]+)'>", page)
    assert nav and all(f"id='{i}'" in page for i in nav)


def test_jinja2_and_markdown_it_load_only_for_html() -> None:
    code = ("import sys, maturity_scan.cli, maturity_scan.reporters; "
            "print([m for m in ('jinja2', 'markdown_it') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_trend_svg_is_valid_xml_with_names_escaped() -> None:
    summary = {"org": "acme\x1b[2J<x>", "dimensions": [
        {"id": "iac", "title": "IaC & <b>", "max_level": 5},
        {"id": "delivery", "title": "Delivery", "max_level": 5}],
        "trend": [{"scanned_at": "2026-01-01T00:00:00Z", "mean": {"iac": 2, "delivery": None}},
                  {"scanned_at": "2026-02-01T00:00:00Z", "mean": {"iac": 3.5, "delivery": 1}}]}
    svg = org_report.trend_svg(summary)
    root = ElementTree.fromstring(svg)  # valid XML: no raw control character, no stray tag
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "acme\\x1b[2J<x>: mean level per dimension, 2 run(s)"
    lines = root.findall(f"{ns}polyline")
    assert [p.get("points") for p in lines] == ["40.0,152.0 490.0,86.0", "490.0,196.0"]
    assert lines[0].find(f"{ns}title").text == "IaC & <b>"
    assert svg.endswith("</svg>\n")


def test_components_and_unsupported_ci_are_shown(tmp_path: Path) -> None:
    from maturity_scan.cli import main
    out = tmp_path / "r.json"
    assert main(["scan", str(ROOT / "fixtures" / "repos" / "kubify-monorepo"), "--components",
                 "--format", "json", "-o", str(out), "-q"]) == 0
    rep = json.loads(out.read_text())
    page = html.render(rep)
    _balanced(page)
    names = [c["name"] for c in rep["components"]]
    assert names and f"Components ({len(names)})</h2>" in page
    for c in rep["components"]:
        assert f"<a href='#component-{c['id']}'>{c['name']}</a>" in page
        assert f"<h3 id='component-{c['id']}'>{c['name']}</h3>" in page
    assert "found by services_root <code>services/ledger/Dockerfile:1</code>" in page
    assert "component.without_kubify: ledger" in page  # a missing requirement's reason
    rep["components"] = []
    assert "No components found" in html.render(rep)
    rep["unsupported"] = [{"path": ".travis.yml", "system": "Travis CI",
                           "reason": "not read <yet>"}]
    page = html.render(rep)
    assert "Not read: unsupported CI systems (1)</h2>" in page
    assert "<code>.travis.yml</code> Travis CI <span class=muted>not read &lt;yet&gt;</span>" \
        in page


def test_waivers_shown_as_counted_or_not(tmp_path: Path) -> None:
    """A waiver at a level not reached counts nothing: shown apart with what the level still
    needs; one that completes a level is shown on its met requirement."""
    from maturity_scan.cli import main
    root = tmp_path / "infra"
    root.mkdir()
    (root / "main.tf").write_text('terraform {\n  backend "s3" {}\n}\n'
                                  'resource "aws_s3_bucket" "b" {}\n')
    (root / ".maturity-scan.yaml").write_text(
        "waive:\n  iac.checked_in_ci: the platform pipeline checks it\n")
    out = tmp_path / "r.html"
    assert main(["scan", str(root), "-j", "0", "-q", "-o", f"html={out}"]) == 0
    block = out.read_text().split("<h2 id='iac'>")[1].split("<h2 ")[0]
    assert ("<span class=waived>waived, not counted:</span> L3 Infrastructure code is checked "
            "automatically <span class=req>iac.checked_in_ci</span>") in block
    assert ("waived (the platform pipeline checks it), but level 3 still needs "
            "iac.versions_pinned") in block
    assert "waived: the platform pipeline checks it" not in block  # not on a met requirement
    (root / ".terraform.lock.hcl").write_text("# lock\n")
    assert main(["scan", str(root), "-j", "0", "-q", "-o", f"html={out}"]) == 0
    block = out.read_text().split("<h2 id='iac'>")[1].split("<h2 ")[0]
    assert "<div class=muted>waived: the platform pipeline checks it</div>" in block
    assert "waived, not counted" not in block


def test_a_report_without_optional_fields_renders(platform: dict[str, Any]) -> None:
    """A report from a library call (no date, no commit) or an older run read back by
    `org --resume` still renders, with "-" where a value is missing."""
    rep = json.loads(json.dumps(platform))
    for key in ("tool", "scanned_at", "pack_title"):
        del rep[key]
    del rep["target"]["commit"]
    for d in rep["dimensions"]:
        for key in ("requirements", "next_steps", "level_name"):
            d.pop(key, None)
    rep["stats"] = {"files_indexed": 1, "files_read": 1}
    page = html.render(rep)
    _balanced(page)
    assert "<dt>scanned</dt><dd>-</dd>" in page and "<dt>commit</dt><dd>-</dd>" in page
    assert "<h1>devops: " in page and "<h2 id='iac'>" in page
    assert "from 1 files read of 1 indexed." in page
