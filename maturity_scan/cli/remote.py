"""`maturity-scan scan URL`: a remote repository scanned from the org scan's frugal partial clone
(blobless, depth 1, the claimed blobs fetched in one batch, the commit graph for history
facts), as repolinter `--git` and Scorecard `--repo` do. Only https URLs (plain http on the
loopback interface, for tests); git runs hardened (`org.clone`). The token (`GITHUB_TOKEN` /
`GH_TOKEN`) is sent only to the clone host of the GitHub API (`GITHUB_API_URL`, as GitHub
Actions sets it, else api.github.com: github.com), as the org scan sends it: an HTTP header in
git's environment, no redirect followed."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from maturity_scan import config
from maturity_scan.errors import UsageError

if TYPE_CHECKING:  # imported when a URL is given: a local scan does without git transports
    from maturity_scan.org import clone

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^[^/]+@[^/]+:")  # scheme://… or user@host:path
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CLONE_SECONDS = 600.0


def is_url(target: str) -> bool:
    return bool(_URL.match(target))


def token_for(url: str) -> str | None:
    """The token from the environment when `url` is on the clone host of the GitHub API
    (`GITHUB_API_URL`, else the default), over https (plain http on loopback only); else None."""
    from maturity_scan.org import github

    api = os.environ.get("GITHUB_API_URL") or github.DEFAULT_API
    try:
        if github.Origin.of(url) != github.clone_origin(api) or \
                not github.plain_http_allowed(api):
            return None
    except github.GitHubError:  # GITHUB_API_URL is no http(s) URL: nothing is sent
        return None
    return github.token_from_env()


def default_branch(url: str, git: clone.Git) -> str:
    """The branch the remote's HEAD names (`git ls-remote --symref URL HEAD`)."""
    from maturity_scan.org import clone

    out = git.run(["ls-remote", "--symref", "--", url, "HEAD"], network=True).decode()
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            return line[len("ref: refs/heads/"):-len("\tHEAD")]
    raise clone.CloneError("the repository has no default branch (empty?)")


def open_remote(url: str, rev: str | None, max_file_bytes: int
                ) -> tuple[clone.CheckoutSource, config.Config]:
    """The remote repository's default branch as a Source, and its committed configuration.
    The clone lives in a temporary folder removed when the command ends."""
    from maturity_scan.org import clone
    from maturity_scan.org import run as org_run

    if rev:
        raise UsageError(f"{url}: --rev is for local repositories (a URL scans its default "
                         "branch)")
    host = urlsplit(url).hostname if "://" in url else None
    loopback = host in LOOPBACK
    if not url.lower().startswith(("https://", "http://")) or \
            (url.lower().startswith("http://") and not loopback):
        raise UsageError(f"{url}: only https:// git URLs are scanned (clone ssh or other URLs "
                         "yourself and scan the folder)")
    try:
        clone.check_clone_url(url, url, allow_http=loopback)
    except clone.CloneError as e:
        raise UsageError(f"{url}: {e}") from None
    tmp = Path(click.get_current_context().with_resource(
        tempfile.TemporaryDirectory(prefix="maturity-scan-")))
    git = clone.Git(clone.Budget(CLONE_SECONDS), timeout=300.0, token=token_for(url),
                    allow_http=loopback)
    try:
        branch = default_branch(url, git)
        checkout = clone.fetch(url, branch, tmp / "repo.git", git, max_file_bytes=max_file_bytes,
                               history=True)
        cfg = org_run._repository_config(checkout, git, tmp / "config")
    except clone.CloneError as e:
        raise UsageError(f"{url}: {e}") from None
    return clone.CheckoutSource(checkout, url), cfg
