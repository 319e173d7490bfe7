"""release_tags and git_history on real git repositories built in temp dirs."""
from __future__ import annotations

import subprocess
from pathlib import Path

from maturity_scan.engine.scan import ScanOptions, ScanResult, scan_source
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource
from tests.gitrepo import commit, git, init


def facts(result: ScanResult, kind: str) -> dict[str, object] | None:
    sig = next((s for s in result.signals if s.kind == kind), None)
    return dict(sig.facts) if sig else None


def history(tmp_path: Path) -> Path:
    repo = init(tmp_path / "repo")
    commit(repo, "feat: first", {"a.txt": "1"}, date="2026-01-05T10:00:00")
    git(repo, "tag", "v1.0.0")
    commit(repo, "fix(api): second", {"a.txt": "2"}, date="2026-03-06T10:00:00")
    git(repo, "tag", "-a", "v1.1.0", "-m", "release", date="2026-03-06T10:00:00")
    git(repo, "tag", "nightly-build")  # not a version
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "add b", {"b.txt": "b"}, date="2026-04-01T10:00:00")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "topic", "-m", "Merge pull request #7 from x/topic",
        date="2026-04-02T10:00:00")
    git(repo, "tag", "api@2.0.0")
    commit(repo, "wip", {"a.txt": "3"}, date="2026-05-01T10:00:00")
    return repo


def test_release_tags_and_history_facts(tmp_path: Path) -> None:
    result = scan_source(WorkTreeSource(history(tmp_path)), ScanOptions(jobs=0))
    tags = facts(result, "release_tags")
    assert tags == {"count": 3, "latest": "api@2.0.0", "median_days_between": 43.5}
    hist = facts(result, "git_history")
    assert hist is not None
    assert hist["commits_90d"] == 4  # back from the head commit's date, not the wall clock
    assert hist["contributors_90d"] == 1
    assert hist["commits_sampled"] == 4  # first-parent line: the merge, not the topic commit
    assert hist["merge_share"] == 0.25
    assert hist["conventional_commits_share"] == 0.5
    text = repr(result.signals)
    assert "t@example.com" not in text and "Test" not in text


def test_history_as_of_an_older_revision(tmp_path: Path) -> None:
    repo = history(tmp_path)
    old = git(repo, "rev-parse", "HEAD~2").strip()  # the second commit, before the merge
    result = scan_source(GitRevisionSource(repo, old), ScanOptions(jobs=0))
    assert facts(result, "release_tags") == {"count": 2, "latest": "v1.1.0",
                                             "median_days_between": 60.0}


def test_shallow_clone_and_no_git_give_no_history(tmp_path: Path) -> None:
    repo = history(tmp_path)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)],
                   check=True)
    for source in (WorkTreeSource(shallow), GitRevisionSource(shallow, "HEAD")):
        result = scan_source(source, ScanOptions(jobs=0))
        assert facts(result, "release_tags") is None and facts(result, "git_history") is None
        assert not result.errors
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.txt").write_text("x")
    result = scan_source(WorkTreeSource(plain), ScanOptions(jobs=0))
    assert facts(result, "git_history") is None and not result.errors
