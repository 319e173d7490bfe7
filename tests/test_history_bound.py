"""A history bound for giant repositories (`org --history-days / --history-commits`): the org
clone holds no more commits than the bound (plus each tag's own commit, without its history),
and the facts stay those of a local scan of a full clone: release_tags exactly (a tag below the
boundary is taken as reachable, said by `history_truncated`), git_history within its window
(a count the bound cut is flagged, never wrong silently). Real git behind the loopback GitHub
server, compared with `maturity-scan scan --format json` of a full clone."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from maturity_scan.cli import main
from maturity_scan.org import github
from maturity_scan.org import run as org
from maturity_scan.report import safe_name
from maturity_scan.reporters import text
from tests.github_server import GitHubServer
from tests.test_org_parity import BASE, local_scan

HOUR = 3600
COMMITS = 700  # one every 6 hours: 175 days, 360 of them in the last 90
SIDE_TAG = "v9.0.0"  # on a branch never merged, newer than any boundary: never counted


def _fast_import(bare: Path, now: int) -> None:
    """COMMITS linear commits (two authors, conventional and PR-merge subjects), a version tag
    every 20 (annotated and lightweight in turn), a tag that is no version, and SIDE_TAG on an
    unmerged branch; written straight into the served bare repository."""
    lines: list[str] = []
    first = now - (COMMITS - 1) * 6 * HOUR
    for n in range(COMMITS):
        when = first + n * 6 * HOUR
        msg = f"feat: change {n} (#{n})" if n % 3 else f"fix {n}"
        lines += ["commit refs/heads/main", f"mark :{n + 1}",
                  f"author dev{n % 2} <dev{n % 2}@example.com> {when} +0000",
                  f"committer t <t@example.com> {when} +0000", f"data {len(msg)}", msg]
        if n:
            lines.append(f"from :{n}")
        files = {**BASE, "src/app.py": f"print({n})\n"} if n == 0 else {
            "src/app.py": f"print({n})\n"}
        for path, content in files.items():
            lines += [f"M 100644 inline {path}", f"data {len(content.encode())}", content]
        if n % 20 == 19:
            version = f"v1.{n // 20}.0"
            if n % 40 == 39:
                lines += [f"reset refs/tags/{version}", f"from :{n + 1}"]
            else:
                note = f"release {version}"
                lines += [f"tag {version}", f"from :{n + 1}",
                          f"tagger t <t@example.com> {when + 60} +0000", f"data {len(note)}",
                          note]
    lines += ["reset refs/tags/nightly", f"from :{COMMITS - 5}"]
    msg = "side work"
    lines += ["commit refs/heads/side", f"mark :{COMMITS + 1}",
              f"author dev0 <dev0@example.com> {now - HOUR} +0000",
              f"committer t <t@example.com> {now - HOUR} +0000", f"data {len(msg)}", msg,
              f"from :{COMMITS - 10}", f"reset refs/tags/{SIDE_TAG}", f"from :{COMMITS + 1}"]
    subprocess.run(["git", "--git-dir", str(bare), "fast-import", "--quiet"],
                   input=("\n".join(lines) + "\n").encode(), check=True)


@pytest.fixture(scope="module")
def giant(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("bound")
    with GitHubServer(tmp / "srv") as server:
        server.state.root.mkdir(parents=True, exist_ok=True)
        bare = server.add_repo("acme", "giant", None)
        _fast_import(bare, int(time.time()) - HOUR)
        yield server, tmp, local_scan(bare, tmp)


def _org(server: GitHubServer, tmp: Path, bound: tuple[str, int]) -> tuple[dict[str, Any], Path]:
    out = tmp / f"out-{bound[0]}-{bound[1]}"
    cache = tmp / f"cache-{bound[0]}-{bound[1]}"
    summary = org.run(org.OrgSettings("acme", out, cache, workers=1, history_bound=bound),
                      github.Client(f"{server.url}/api", None, sleep=lambda s: None),
                      github.Filters(), log=lambda s: None)
    [row] = summary["repositories"]
    assert row["status"] == "scanned", row
    report = json.loads((out / "repos" / "acme_giant.json").read_text())
    return report, cache / f"{safe_name('acme/giant')}.git"


def _facts(report: dict[str, Any], kind: str) -> dict[str, Any]:
    [found] = [s for s in report["signals"] if s["kind"] == kind]
    return dict(found["facts"])


def _count(git_dir: Path, *args: str) -> int:
    return int(subprocess.run(["git", "--git-dir", str(git_dir), "rev-list", "--count", *args],
                              capture_output=True, text=True, check=True).stdout)


def _without_flag(facts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in facts.items() if k != "history_truncated"}


def test_the_full_clone_is_what_the_bounded_ones_are_held_to(giant: Any) -> None:
    _, _, local = giant
    tags = _facts(local, "release_tags")
    assert tags["count"] == COMMITS // 20 and tags["latest"] == f"v1.{COMMITS // 20 - 1}.0"
    assert "history_truncated" not in tags
    history = _facts(local, "git_history")
    assert history["commits_sampled"] == 500 and history["commits_90d"] in (360, 361)
    assert "history_truncated" not in history


def test_a_commit_bound_keeps_every_fact_and_holds_no_more(giant: Any) -> None:
    """550 commits: the 90 days and the 500-commit sample fit, so git_history is identical;
    release_tags is identical but for the flag (older tags lie below the boundary)."""
    server, tmp, local = giant
    report, clone = _org(server, tmp, ("commits", 550))
    assert _facts(report, "git_history") == _facts(local, "git_history")
    tags = _facts(report, "release_tags")
    assert tags.pop("history_truncated") is True
    assert tags == _facts(local, "release_tags")
    assert _count(clone, "HEAD") == 550
    # the bound, plus each tag's own commit (no history below it); no trees of the past
    assert _count(clone, "--all") <= 550 + COMMITS // 20 + 2
    [evidence] = next(s for s in report["signals"] if s["kind"] == "release_tags")["evidence"]
    assert evidence["detail"].endswith("(7 below the history bound taken as reachable)")
    # and the text report says it
    assert "History bounded: release_tags read only the fetched history" in str(
        text.render(report))


def test_a_days_bound_keeps_the_window_and_flags_the_cut_sample(giant: Any) -> None:
    """100 days hold the 90-day window whole (counts exact, no flag for them) but only ~400
    first-parent commits: the sample's shares are flagged, not passed off as whole."""
    server, tmp, local = giant
    report, clone = _org(server, tmp, ("days", 100))
    history, whole = _facts(report, "git_history"), _facts(local, "git_history")
    assert history["commits_90d"] == whole["commits_90d"]
    assert history["contributors_90d"] == whole["contributors_90d"]
    assert history["history_truncated"] is True and history["commits_sampled"] < 500
    tags = _facts(report, "release_tags")
    assert tags.pop("history_truncated") is True
    assert tags == _facts(local, "release_tags")
    assert _count(clone, "HEAD") <= 100 * 4 + 1


def test_a_small_bound_is_a_flagged_lower_bound_never_an_error(giant: Any) -> None:
    server, tmp, local = giant
    report, clone = _org(server, tmp, ("commits", 30))
    assert not report["errors"]
    history = _facts(report, "git_history")
    assert history["history_truncated"] is True
    assert history["commits_90d"] == history["commits_sampled"] == 30
    assert _without_flag(_facts(report, "release_tags")) == _facts(local, "release_tags")
    assert _count(clone, "HEAD") == 30


def test_a_bound_the_history_fits_in_changes_nothing(giant: Any) -> None:
    """More commits allowed than there are: every fact as a full clone's, no flag anywhere."""
    server, tmp, local = giant
    report, clone = _org(server, tmp, ("commits", 5000))
    for kind in ("release_tags", "git_history"):
        assert _facts(report, kind) == _facts(local, kind)
    assert _count(clone, "HEAD") == COMMITS


def test_a_repository_without_tags_is_bounded_too(tmp_path: Path) -> None:
    with GitHubServer(tmp_path / "srv") as server:
        server.state.root.mkdir(parents=True, exist_ok=True)
        now = int(time.time())
        server.add_repo("acme", "giant", None)
        for n in range(6):
            server.push("acme", "giant", {**BASE, "src/app.py": f"print({n})\n"},
                        when=now - (6 - n) * 86400, message=f"fix: {n}")
        report, clone = _org(server, tmp_path, ("commits", 3))
        assert not report["errors"]
        assert "release_tags" not in {s["kind"] for s in report["signals"]}
        history = _facts(report, "git_history")
        assert history["commits_90d"] == 3 and history["history_truncated"] is True
        assert _count(clone, "--all") == 3


def test_the_flags_are_one_or_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["org", "acme", "--history-days", "90", "--history-commits", "100"]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_the_flag_reaches_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def stop(settings: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(settings.history_bound)
        raise github.GitHubError("stopped here")

    monkeypatch.setattr(org, "run", stop)
    base = ["org", "acme", "--api-url", "http://127.0.0.1:9/api", "--out", str(tmp_path / "o")]
    for extra in (["--history-days", "120"], ["--history-commits", "5000"], []):
        assert main([*base, *extra]) == 2
    assert seen == [("days", 120), ("commits", 5000), None]
