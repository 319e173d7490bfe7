"""Hostile git repositories (issue #16): nothing named in a repository's git config runs, no
other repository is read, nothing blocks on a FIFO, commit data and files are read bounded,
and the ways a repository can be laid out legitimately keep working."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from maturity_scan import api, gitsafe
from maturity_scan.cli import main
from maturity_scan.detectors import git_history
from maturity_scan.engine.scan import ScanOptions
from maturity_scan.engine.source import (FileTooLarge, GitRevisionSource, WorkTreeSource,
                                         open_source)
from maturity_scan.errors import UsageError
from maturity_scan.gate import history, policy as gate
from maturity_scan.sdk.detector import RepoContext
from maturity_scan.sdk.document import RepoView
from tests.gitrepo import ENV, commit, git, init

ROOT = Path(__file__).resolve().parent.parent
README = "# app\n\nRun `make test`.\n"

# Keys that name a program (or make git start one), each set to a script that records its
# own name in the canary file.
PROGRAM_KEYS = (
    "core.pager", "pager.log", "pager.show", "core.editor", "sequence.editor",
    "core.sshCommand", "core.askPass", "credential.helper", "core.gitProxy",
    "gpg.program", "gpg.openpgp.program", "gpg.x509.program", "gpg.ssh.program",
    "gpg.ssh.defaultKeyCommand", "diff.external", "diff.evil.textconv", "diff.evil.command",
    "filter.evil.clean", "filter.evil.smudge", "filter.evil.process", "merge.evil.driver",
    "core.alternateRefsCommand", "core.fsmonitor", "uploadpack.packObjectsHook",
    "remote.origin.uploadpack", "remote.origin.receivepack",
)


def payload(tmp_path: Path, name: str, canary: Path) -> str:
    script = tmp_path / "payloads" / name.replace("/", "_")
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!/bin/sh\necho {name} >> {canary}\ncat >/dev/null 2>&1 &\nexit 0\n")
    script.chmod(0o755)
    return str(script)


def signed_commit(repo: Path, kind: str, message: str) -> str:
    """A commit carrying a (fake) signature of `kind`: enough for git to call the matching
    gpg.*.program when it is asked to show signatures."""
    armor = {"openpgp": "PGP SIGNATURE", "x509": "SIGNED MESSAGE", "ssh": "SSH SIGNATURE"}[kind]
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    body = (f"tree {tree}\nparent {parent}\nauthor T <t@example.com> 1767225600 +0000\n"
            f"committer T <t@example.com> 1767225600 +0000\n"
            f"gpgsig -----BEGIN {armor}-----\n \n iQ==\n -----END {armor}-----\n\n{message}\n")
    obj = repo / "commit.txt"
    obj.write_text(body)
    sha = git(repo, "hash-object", "-t", "commit", "-w", str(obj)).strip()
    obj.unlink()
    git(repo, "update-ref", "HEAD", sha)
    return sha


def hostile_repo(tmp_path: Path, canary: Path) -> Path:
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README, ".gitattributes": "* diff=evil filter=evil\n"})
    commit(repo, "docs", {"README.md": README + "more\n", "main.tf": 'resource "x" "y" {}\n'})
    for kind in ("openpgp", "x509", "ssh"):
        signed_commit(repo, kind, f"signed {kind}")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc",
                 "fsmonitor-watchman"):
        shutil.copy(payload(tmp_path, f"hook-{hook}", canary), hooks / hook)
    lines = ["[log]", "\tshowSignature = true", "[gc]", "\tauto = 1", "[protocol]",
             "\tallow = always", "[core]", f"\thooksPath = {hooks}", "\tuntrackedCache = true",
             "[remote \"origin\"]", f"\turl = {tmp_path / 'elsewhere'}"]
    for key in PROGRAM_KEYS:
        section, _, name = key.rpartition(".")
        head, _, sub = section.partition(".")
        lines += [f'[{head} "{sub}"]' if sub else f"[{head}]",
                  f"\t{name} = {payload(tmp_path, key, canary)}"]
    with open(repo / ".git" / "config", "a") as f:
        f.write("\n".join(lines) + "\n")
    return repo


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_programs_named_in_git_config_never_run(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    canary = tmp_path / "canary"
    repo = hostile_repo(tmp_path, canary)
    # The attack is real: plain git runs the signature program from `git show`.
    subprocess.run(["git", "show", "-s", "--format=%cI", "HEAD~2"], cwd=repo, env={
        **os.environ, **ENV}, capture_output=True, check=False, stdin=subprocess.DEVNULL)
    assert canary.exists()
    canary.unlink()

    (repo / "untracked.md").write_text("# new\n")  # the listing looks at untracked files
    for args in (("scan", str(repo), "-j", "0"),
                 ("scan", str(repo), "--rev", "HEAD", "-j", "0"),
                 ("history", str(repo), "--last", "3"),
                 ("diff", str(repo), "--base", "HEAD~1", "-j", "0"),
                 ("explain", str(repo), "delivery", "-j", "0")):
        code, out, err = cli(capsys, *args)
        assert code in (0, 1), (args, err)
        assert not canary.exists(), (args, canary.read_text())
    assert gate.revision_present(repo, "HEAD~2")
    assert not canary.exists()


def test_every_git_process_is_hardened_and_has_no_stdin(tmp_path: Path) -> None:
    for key, value in {"log.showSignature": "false", "core.fsmonitor": "false",
                       "gpg.program": "false", "gpg.x509.program": "false",
                       "gpg.ssh.program": "false", "core.hooksPath": "/dev/null"}.items():
        assert gitsafe.HARDENING[key] == value
    assert gitsafe.LOCAL["protocol.allow"] == "never"
    assert gitsafe.git_env()["GIT_ALLOW_PROTOCOL"] == ""
    repo = gitsafe.open_repo(init(tmp_path / "repo"))
    assert repo is not None
    seen = gitsafe.run(repo, "config", "--get", "log.showSignature")
    assert seen.strip() == "false"
    # gitpython's own git processes see the same settings (from the environment).
    assert repo.git.config("--get", "log.showSignature") == "false"
    assert repo.git.config("--get", "protocol.allow") == "never"
    # No stdin: git reads /dev/null, never our terminal or a pipe left open.
    assert gitsafe.run(repo, "hash-object", "--stdin", timeout=5).strip() == \
        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # stdin was empty: /dev/null


def test_partial_clone_fetch_runs_no_upload_pack(tmp_path: Path) -> None:
    """A blob missing from a partial clone makes git fetch it from the promisor remote, whose
    upload-pack program the repository names. No transport is allowed: no fetch, no program."""
    canary = tmp_path / "canary"
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README})
    blob = git(repo, "rev-parse", "HEAD:README.md").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    git(repo, "config", "core.repositoryFormatVersion", "1")
    git(repo, "config", "extensions.partialClone", "origin")
    git(repo, "config", "remote.origin.url", str(tmp_path / "server"))
    git(repo, "config", "remote.origin.promisor", "true")
    git(repo, "config", "remote.origin.uploadpack", payload(tmp_path, "upload-pack", canary))
    git(repo, "config", "protocol.file.allow", "always")
    subprocess.run(["git", "cat-file", "-p", blob], cwd=repo, capture_output=True,
                   stdin=subprocess.DEVNULL, check=False)
    assert canary.exists()  # the attack is real
    canary.unlink()
    source = GitRevisionSource(repo, "HEAD")
    [entry] = list(source.files())
    with pytest.raises((KeyError, OSError, ValueError)):
        source.read(entry.path)
    assert not canary.exists()


# --- another repository ---------------------------------------------------------------------

def other_repo(tmp_path: Path) -> Path:
    other = init(tmp_path / "private")
    commit(other, "secret", {"README.md": "# private\n", "main.tf": 'resource "a" "b" {}\n'})
    return other


@pytest.mark.parametrize("command", ["scan", "scan-rev", "history"])
def test_gitdir_file_to_another_repository_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    other = other_repo(tmp_path)
    scanned = tmp_path / "scanned"
    scanned.mkdir()
    (scanned / ".git").write_text(f"gitdir: {other / '.git'}\n")
    args = {"scan": ("scan", str(scanned), "-j", "0"),
            "scan-rev": ("scan", str(scanned), "--rev", "HEAD", "-j", "0"),
            "history": ("history", str(scanned))}[command]
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert "outside the repository" in err and "refusing to read another repository" in err
    assert "private" not in out


def test_commondir_and_alternates_outside_are_refused(tmp_path: Path) -> None:
    other = other_repo(tmp_path)
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README})
    (repo / ".git" / "commondir").write_text(f"{other / '.git'}\n")
    with pytest.raises(UsageError, match="refusing to read another repository"):
        open_source(repo, "HEAD")
    (repo / ".git" / "commondir").unlink()
    (repo / ".git" / "objects" / "info" / "alternates").write_text(
        f"{other / '.git' / 'objects'}\n")
    secret = git(other, "rev-parse", "HEAD").strip()
    for make in (lambda: open_source(repo, secret), lambda: WorkTreeSource(repo)):
        with pytest.raises(UsageError, match="borrows objects from .*private.*outside"):
            make()
    # Alternates inside the repository are fine.
    (repo / ".git" / "objects" / "info" / "alternates").write_text("../objects\n")
    assert [e.path for e in open_source(repo, "HEAD").files()] == ["README.md"]


def test_core_worktree_elsewhere_says_what_is_wrong(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    other = other_repo(tmp_path)
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README})
    git(repo, "config", "core.worktree", str(other))
    code, _, err = cli(capsys, "scan", str(repo), "-j", "0")
    assert code == 2
    assert f"work tree for {repo / '.git'} is {other} (core.worktree?)" in err
    assert "detector failed" not in err


def test_legitimate_layouts_still_scan(tmp_path: Path) -> None:
    """A sub-folder, a linked worktree, a submodule, a bare mirror: their git directories lie
    elsewhere or above, and name the scanned work tree as theirs."""
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README, "app/main.tf": 'resource "x" "y" {}\n'})
    assert [e.path for e in WorkTreeSource(repo / "app").files()] == ["main.tf"]
    assert [e.path for e in open_source(repo / "app", "HEAD").files()] == ["main.tf"]
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert sorted(e.path for e in WorkTreeSource(tmp_path / "wt").files()) == \
        ["README.md", "app/main.tf"]
    sup = init(tmp_path / "super")
    commit(sup, "init", {"x.md": "x\n"})
    git(sup, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(repo), "mod")
    assert sorted(e.path for e in open_source(sup / "mod", "HEAD").files()) == \
        ["README.md", "app/main.tf"]
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo), str(mirror)], check=True)
    source = open_source(mirror, "HEAD")
    assert sorted(e.path for e in source.files()) == ["README.md", "app/main.tf"]
    assert source.read("README.md") == README.encode()
    # gitpython's git directory reopens as its work tree (the history thread does that).
    reopened = gitsafe.open_repo(Path(gitsafe.open_repo(repo).git_dir))  # type: ignore[union-attr]
    assert reopened is not None and Path(reopened.working_tree_dir or "") == repo


def test_include_if_in_git_config_scans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README})
    git(repo, "tag", "v1.0.0")
    with open(repo / ".git" / "config", "a") as f:
        f.write(f'[includeIf "gitdir:{repo}/"]\n\tpath = extra.cfg\n'
                '[includeIf "onbranch:main"]\n\tpath = /nonexistent/cfg\n')
    (repo / ".git" / "extra.cfg").write_text("[user]\n\tname = X\n")
    for args in (("scan", str(repo), "-j", "0"), ("scan", str(repo), "--rev", "HEAD", "-j", "0"),
                 ("history", str(repo), "--tags")):
        code, _, err = cli(capsys, *args)
        assert code == 0, (args, err)


# --- FIFOs and time bounds -------------------------------------------------------------------

@pytest.mark.parametrize("where", [".gitignore", ".git/info/exclude", ".git/packed-refs",
                                   ".git/shallow", ".git/config.worktree", ".git/refs/tags/v9",
                                   ".git/extra.cfg"])
def test_fifo_where_git_reads_is_refused_at_once(tmp_path: Path, where: str) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README})
    git(repo, "config", "include.path", "extra.cfg")
    (repo / where).parent.mkdir(parents=True, exist_ok=True)
    if (repo / where).exists():
        (repo / where).unlink()
    os.mkfifo(repo / where)
    start = time.monotonic()
    for make in (lambda: list(WorkTreeSource(repo).files()), lambda: open_source(repo, "HEAD"),
                 lambda: history.revisions(repo)):
        with pytest.raises(UsageError, match=f"{where.split('/')[-1]}: is a FIFO, not a regular "
                                             "file: refusing to read this repository"):
            make()
    assert time.monotonic() - start < 10


def test_nested_gitignore_fifo_ends_the_listing_in_time(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README})
    (repo / "sub").mkdir()
    os.mkfifo(repo / "sub" / ".gitignore")
    monkeypatch.setenv(gitsafe.TIMEOUT_ENV, "1")
    start = time.monotonic()
    with pytest.raises(UsageError, match=r"sub/\.gitignore: is not a regular file \(a FIFO\?\)"):
        list(WorkTreeSource(repo).files())
    assert time.monotonic() - start < 8


def test_sigint_ends_a_scan_whose_history_read_blocks(tmp_path: Path) -> None:
    """A loose commit object replaced by a FIFO blocks `git log` in the history thread (the
    listing never reads it). ^C to the scan alone (not its process group) ends it."""
    repo = init(tmp_path / "repo")
    first = commit(repo, "one", {"README.md": README})
    commit(repo, "two", {"README.md": README + "2\n"})
    loose = repo / ".git" / "objects" / first[:2] / first[2:]
    loose.unlink()
    os.mkfifo(loose)
    env = {**os.environ, gitsafe.TIMEOUT_ENV: "300"}
    proc = subprocess.Popen([sys.executable, "-m", "maturity_scan", "scan", str(repo), "-j",
                             "0"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _git_log_child(proc.pid):
            time.sleep(0.1)
        blocked = _git_log_child(proc.pid)
        assert blocked, "the scan never reached the blocking git log"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode != 0
    assert "interrupted" in proc.stderr.read().decode()  # type: ignore[union-attr]
    assert not (Path("/proc") / str(blocked) / "cmdline").exists() or \
        not (Path("/proc") / str(blocked) / "cmdline").read_bytes()  # no git left behind


def _git_log_child(pid: int) -> int | None:
    """A `git log` run by process `pid` that keeps waiting."""
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and b"log" in argv:
            time.sleep(0.5)
            return int(entry.name) if (entry / "stat").exists() else None
    return None


# --- bounded reads -----------------------------------------------------------------------------

def test_huge_commit_messages_are_not_read_into_the_process(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"README.md": README}, date="2026-01-01T00:00:00")
    huge = "feat: " + "x" * (6 << 20) + " (#12)"  # one 6 MB subject line
    body = tmp_path / "msg"
    body.write_text(huge + "\n\n" + "y" * (4 << 20) + "\n")
    git(repo, "commit", "-q", "--allow-empty", "-F", str(body), date="2026-01-02T00:00:00")
    ctx = RepoContext(RepoView(frozenset()), gitsafe.open_repo(repo), None)
    tracemalloc.start()
    try:
        [sig] = list(git_history.DETECTOR.conclude([], ctx))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # the messages are 10 MB
    # The subject is cut in its middle: its start and its end still count.
    assert sig.facts["conventional_commits_share"] == 0.5
    assert sig.facts["merge_share"] == 0.5
    assert sig.facts["commits_90d"] == 2


def test_a_file_growing_while_read_is_cut_at_the_limit(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README)
    source = WorkTreeSource(tmp_path)
    [entry] = list(source.files())
    with open(tmp_path / "README.md", "ab") as f:  # grows after it was listed
        f.write(b"x" * (8 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLarge, match="grew while read"):
            source.read(entry.path)  # default: the size it was listed with
        with pytest.raises(FileTooLarge):
            source.read(entry.path, 1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 << 20
    assert len(source.read(entry.path, 16 << 20)) == len(README) + (8 << 20)


def test_a_blob_over_the_limit_is_never_read(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "init", {"big.json": b"[" + b" " * (8 << 20) + b"]", "README.md": README})
    source = open_source(repo, "HEAD")
    list(source.files())
    tracemalloc.start()
    try:
        with pytest.raises(FileTooLarge, match="exceeds the 1048576-byte limit"):
            source.read("big.json", 1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert source.read("README.md", 100) == README.encode()  # the reader starts again


UNREADABLE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from maturity_scan.engine.source import WorkTreeSource
    source = WorkTreeSource(Path(sys.argv[1]))
    paths = sorted(e.path for e in source.files())
    print(json.dumps({"paths": paths, "errors": [e.to_json() for e in source.errors]}))
""")


@pytest.mark.parametrize("in_git", [False, True])
def test_unreadable_folders_are_error_entries(tmp_path: Path, in_git: bool) -> None:
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("needs setpriv to drop root's permission override")
    root = init(tmp_path / "repo") if in_git else tmp_path / "repo"
    if in_git:
        commit(root, "init", {"README.md": README, "tracked/a.md": "a\n"})
    else:
        (root / "tracked").mkdir(parents=True)
        (root / "README.md").write_text(README)
    (root / "locked").mkdir()
    (root / "locked" / "b.md").write_text("b\n")
    (root / "locked").chmod(0)
    (root / "tracked").chmod(0)
    # As root, permission bits only apply without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH.
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] \
        if os.geteuid() == 0 else []
    try:
        done = subprocess.run([*drop, sys.executable, "-c", UNREADABLE, str(root)],
                              capture_output=True, text=True, cwd=ROOT, timeout=60,
                              stdin=subprocess.DEVNULL)
    finally:
        (root / "locked").chmod(0o755)
        (root / "tracked").chmod(0o755)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["paths"] == ["README.md"]
    errors = {(e["path"], e["message"]) for e in found["errors"]}
    assert ("locked", "folder could not be listed (Permission denied)") in errors
    assert any(path.startswith("tracked") for path, _ in errors)
    assert all(e["detector"] == "listing" for e in found["errors"])


# --- gate and history --------------------------------------------------------------------------

def test_diff_in_a_checkout_owned_by_another_user(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the checkout to another user")
    repo = init(tmp_path / "repo")
    commit(repo, "one", {"README.md": README})
    commit(repo, "two", {"README.md": README + "2\n"})
    subprocess.run(["chown", "-R", "65534:65534", str(repo)], check=True)
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False)
    assert "dubious ownership" in done.stderr  # what plain git says
    code, out, err = cli(capsys, "diff", str(repo), "--base", "HEAD~1", "-j", "0")
    assert code == 0, err
    assert "not in this clone" not in err


def test_revision_present_takes_no_options(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "one", {"README.md": README})
    assert gate.revision_present(repo, "HEAD")
    assert not gate.revision_present(repo, "--all")
    assert not gate.revision_present(repo, "0" * 40)


def test_history_scans_each_tagged_commit_once(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "one", {"README.md": README}, date="2026-01-01T00:00:00")
    for tag in ("v1.0.0", "v1.0.1", "pkg@1.0.0"):
        git(repo, "tag", tag)
    git(repo, "tag", "-a", "v1.0.2", "-m", "annotated", date="2026-01-01T00:00:00")
    commit(repo, "two", {"README.md": README + "2\n"}, date="2026-02-01T00:00:00")
    git(repo, "tag", "v2.0.0")
    scanned: list[str] = []
    real = api.scan_report

    def counting(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        scanned.append(source.revision)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(api, "scan_report", counting)
    revs = history.revisions(repo, tags=True)
    assert sorted(label for _, label, _ in revs) == ["pkg@1.0.0", "v1.0.0", "v1.0.1", "v1.0.2",
                                                     "v2.0.0"]
    hist = history.levels_over_time(repo, revs, "devops", ScanOptions(jobs=0))
    assert len(hist["rows"]) == 5
    assert len(scanned) == len(set(scanned)) == 2
