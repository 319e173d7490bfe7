"""The HTML pages in a real browser: headless Chromium (Debian's `chromium`) loads the scan page
(one pack and `--pack all`) and the org page from file://, driven over the DevTools protocol
through `--remote-debugging-pipe` (fds 3 and 4, NUL-separated JSON; no extra package).
Asserted on the rendered page: its sections, every in-page link resolving to an element, the
hints' Markdown as <code>, sorting a table by keyboard (Enter and Space on a header), no
request beyond the page itself and no script error.

Skipped where chromium is not installed; `.ci/run` installs it and sets
MATURITY_SCAN_REQUIRE_BROWSER=1, which turns the skip into a failure."""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maturity_scan import api
from maturity_scan.cli.checks import stamp
from maturity_scan.config import Components
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import WorkTreeSource
from maturity_scan.org import run as org_run
from maturity_scan.reporters import html, org as org_report
from maturity_scan.report import safe_name

ROOT = Path(__file__).resolve().parent.parent
REPOS = ROOT / "fixtures" / "repos"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or \
    shutil.which("chromium-browser")
REQUIRED = os.environ.get("MATURITY_SCAN_REQUIRE_BROWSER") == "1"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--remote-debugging-pipe")
TIMEOUT = 20.0  # seconds for any one answer (a loaded CI machine)


class Browser:
    """A headless Chromium and one page of it, over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        cmd_r, self._cmd = os.pipe()  # we write commands; Chromium reads them on fd 3
        self._out, out_w = os.pipe()  # Chromium writes answers and events on fd 4

        def pipe_fds() -> None:  # in the child, before exec
            a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.close(a)
            os.close(b)

        assert CHROMIUM
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                                      "about:blank"], preexec_fn=pipe_fds, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._n = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.page(f"{domain}.enable")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd)
        os.close(self._out)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._out], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._out, 1 << 16)
            if not chunk:
                raise EOFError("chromium exited")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)  # type: ignore[no-any-return]

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._n += 1
        msg: dict[str, Any] = {"id": self._n, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self._message(deadline)
            if m.get("id") == self._n:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})  # type: ignore[no-any-return]
            self.events.append(m)

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, self.session, **params)

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._message(deadline))

    def open(self, url: str) -> None:
        self.events.clear()
        self.page("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        done = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in done:
            raise AssertionError(f"{expression}: {done['exceptionDetails']}")
        return done["result"].get("value")

    def key(self, name: str) -> None:
        """A key pressed and released on the focused element, as a person types it."""
        key, code, vk, text = {"Enter": ("Enter", "Enter", 13, "\r"),
                               "Space": (" ", "Space", 32, " "),
                               "Tab": ("Tab", "Tab", 9, "")}[name]
        down = {"key": key, "code": code, "windowsVirtualKeyCode": vk,
                "nativeVirtualKeyCode": vk}
        self.page("Input.dispatchKeyEvent", type="keyDown", **down, **({"text": text} if text
                                                                          else {}))
        self.page("Input.dispatchKeyEvent", type="keyUp", **down)

    def requests(self) -> list[str]:
        return [m["params"]["request"]["url"] for m in self.events
                if m.get("method") == "Network.requestWillBeSent"]

    def script_errors(self) -> list[Any]:
        return [m["params"] for m in self.events if m.get("method") in
                ("Runtime.exceptionThrown",)]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not CHROMIUM:
        message = ("chromium is not installed (Debian: apt-get install chromium); .ci/run "
                   "installs it and requires this test")
        if REQUIRED:
            pytest.fail(message + " (MATURITY_SCAN_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield b
    finally:
        b.close()


def _reports(repo: Path, packs: list[str], **opts: Any) -> list[dict[str, Any]]:
    source = WorkTreeSource(repo)
    reps = api.scan_reports(source, packs, ScanOptions(jobs=0, cache=False), **opts)
    stamp(reps, source)
    return reps


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The scan page of a fixture (one pack, and every pack), and an org page over two
    repositories with their own pages beside it, as `org` writes them."""
    out = tmp_path_factory.mktemp("pages")
    every = _reports(REPOS / "platform-service", sorted(api.packs()))
    (out / "report.html").write_text(html.render(every[[r["pack"] for r in every]
                                                      .index("devops")]), encoding="utf-8")
    (out / "all.html").write_text(html.render_many(every), encoding="utf-8")
    monorepo = _reports(REPOS / "kubify-monorepo", ["devops"], components=Components())
    (out / "components.html").write_text(html.render(monorepo[0]), encoding="utf-8")
    results = []
    (out / "org" / "repos").mkdir(parents=True)
    for name, fixture in (("acme/platform", "platform-service"), ("acme/legacy", "bare-library"),
                          ("acme/web", "k8s-platform")):
        rep = _reports(REPOS / fixture, ["devops"])[0]
        (out / "org" / "repos" / f"{safe_name(name)}.html").write_text(html.render(rep),
                                                                      encoding="utf-8")
        results.append({"repository": name, "status": "scanned", **org_run._summary(rep)})
    settings = org_run.OrgSettings(owner="acme", out=out / "org", cache=out / "cache")
    summary = org_run.aggregate(settings, results, 0.0)
    summary["teams"], summary["teams_source"] = org_run.team_levels(
        summary, {"platform": ["acme/platform", "acme/web"], "apps": ["acme/legacy"]}, results)
    (out / "org" / "org.html").write_text(org_report.html(summary), encoding="utf-8")
    return {"report": out / "report.html", "all": out / "all.html",
            "components": out / "components.html", "org": out / "org" / "org.html"}


LINKS_RESOLVE = """Array.from(document.querySelectorAll("a[href^='#']"))
  .filter(a => !document.getElementById(decodeURIComponent(a.hash.slice(1))))
  .map(a => a.getAttribute('href'))"""


def _self_contained(browser: Browser, page: Path) -> None:
    assert browser.requests() == [page.as_uri()], browser.requests()  # nothing fetched
    assert browser.script_errors() == []


def test_scan_page_in_a_browser(browser: Browser, pages: dict[str, Path]) -> None:
    browser.open(pages["report"].as_uri())
    _self_contained(browser, pages["report"])
    shown = browser.js("""({
      h1: document.querySelector('h1').textContent,
      sections: Array.from(document.querySelectorAll('h2[id]')).map(h => h.id),
      header: Array.from(document.querySelectorAll('table.summary thead th'))
        .map(th => th.textContent),
      meta: Object.fromEntries(Array.from(document.querySelectorAll('dl.meta div'))
        .map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])),
      hintCode: Array.from(document.querySelectorAll('.hint code')).map(c => c.textContent),
      backticks: Array.from(document.querySelectorAll('.hint'))
        .filter(h => h.textContent.includes('`')).length,
      bars: Array.from(document.querySelectorAll('.bar'))
        .map(b => b.getBoundingClientRect().width > 0),
      visibleTitle: document.title})""")
    assert shown["h1"] == "DevOps maturity: " + str(REPOS / "platform-service")
    assert {"iac", "delivery", "quality", "security", "observability"} <= set(shown["sections"])
    assert shown["header"] == ["dimension", "level", "progress to the top level", "level name"]
    meta = shown["meta"]
    assert meta["pack"] == "devops" and meta["tool"].startswith("maturity-scan ")
    assert meta["scanned"].endswith(" UTC") and len(meta["commit"]) == 12
    assert "trivy config ." in shown["hintCode"] and shown["backticks"] == 0
    assert shown["bars"] and all(shown["bars"])
    assert browser.js(LINKS_RESOLVE) == []
    # a link of the summary table moves to its dimension
    browser.js("document.querySelector(\"table.summary a[href='#observability']\").click()")
    assert browser.js("location.hash") == "#observability"


def test_every_pack_on_one_page(browser: Browser, pages: dict[str, Path]) -> None:
    browser.open(pages["all"].as_uri())
    _self_contained(browser, pages["all"])
    sections = browser.js("Array.from(document.querySelectorAll('main > section'))"
                          ".map(s => [s.id, s.querySelectorAll('h3[id]').length])")
    assert [s[0] for s in sections] == sorted(api.packs())
    assert all(n >= 1 for _, n in sections), sections  # a heading per dimension
    nav = browser.js("Array.from(document.querySelectorAll('nav a')).map(a => a.hash)")
    assert nav == [f"#{p}" for p in sorted(api.packs())]
    assert browser.js(LINKS_RESOLVE) == []
    ids = browser.js("Array.from(document.querySelectorAll('[id]')).map(e => e.id)")
    assert len(ids) == len(set(ids))  # anchors prefixed per pack: unique


def test_components_page(browser: Browser, pages: dict[str, Path]) -> None:
    browser.open(pages["components"].as_uri())
    _self_contained(browser, pages["components"])
    assert browser.js(LINKS_RESOLVE) == []
    shown = browser.js("""({
      rows: Array.from(document.querySelectorAll('#components ~ table tbody tr'))
        .map(r => r.cells[0].textContent),
      details: Array.from(document.querySelectorAll("h3[id^='component-']")).map(h => h.id)})""")
    assert shown["rows"] and shown["details"] == [f"component-{n}" for n in shown["rows"]]


def _column(browser: Browser, table: str, column: int) -> list[str]:
    values: list[str] = browser.js(f"Array.from(document.querySelector('{table}').tBodies[0]"
                                   f".rows).map(r => r.cells[{column}].dataset.v)")
    return values


def test_org_page_sorts_by_keyboard(browser: Browser, pages: dict[str, Path]) -> None:
    browser.open(pages["org"].as_uri())
    _self_contained(browser, pages["org"])
    ids = browser.js("Array.from(document.querySelectorAll('h2[id]')).map(h => h.id)")
    assert {"means", "fix-first", "teams", "missing", "repositories"} <= set(ids)
    assert browser.js(LINKS_RESOLVE) == []
    assert browser.js("document.querySelectorAll('#missing ~ ul code').length") > 0
    heat = "table.heat"
    headers = browser.js(f"Array.from(document.querySelectorAll('{heat} thead th'))"
                         ".map(th => th.textContent)")
    total = headers.index("total")
    # Tab from the first header reaches the next: headers are in the keyboard's order
    browser.js(f"document.querySelector('{heat} thead th button').focus()")
    browser.key("Tab")
    assert browser.js("document.activeElement.textContent") == headers[1]
    browser.js(f"document.querySelectorAll('{heat} thead th button')[{total}].focus()")
    assert browser.js("document.activeElement.textContent") == "total"
    browser.key("Enter")
    up = [float(v) for v in _column(browser, heat, total)]
    assert up == sorted(up) and len(set(up)) > 1
    assert browser.js(f"document.querySelectorAll('{heat} thead th')[{total}]"
                      ".getAttribute('aria-sort')") == "ascending"
    browser.key("Space")
    down = [float(v) for v in _column(browser, heat, total)]
    assert down == sorted(up, reverse=True)
    browser.js(f"document.querySelector('{heat} thead th button').focus()")
    browser.key("Enter")  # by name, as text
    assert _column(browser, heat, 0) == sorted(_column(browser, heat, 0))
    # a cell opens the repository's page at its dimension, by keyboard too
    browser.js(f"document.querySelector('{heat} tbody a').focus()")
    target = browser.js("document.activeElement.getAttribute('href')")
    browser.events.clear()
    browser.key("Enter")
    browser.wait_for("Page.loadEventFired")
    assert browser.js("location.pathname").endswith(target.split("#")[0].split("/")[-1])
    assert browser.js("location.hash") == "#" + target.split("#")[1]
    assert browser.js("!!document.getElementById(location.hash.slice(1))")


def test_ci_installs_chromium_and_requires_this_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get" in ci and "install -y" in ci and "chromium" in ci
    assert "export MATURITY_SCAN_REQUIRE_BROWSER=1" in ci


def test_readme_shows_a_screenshot_the_script_regenerates(browser: Browser,
                                                          tmp_path: Path) -> None:
    image = ROOT / "docs" / "img" / "report.png"
    assert "](docs/img/report.png)" in (ROOT / "README.md").read_text()
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size < 150_000
    out = tmp_path / "report.png"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "report_screenshot.py"),
                           "--out", str(out), "--height", "400"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CHROMIUM": CHROMIUM or ""})
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
