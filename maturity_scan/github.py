"""A small GitHub REST client for listing an organization's (or a user's) repositories:
`Link: rel="next"` pagination, primary and secondary rate limits, retries with backoff on 5xx and
dropped connections, and a bounded total wait. The token is only ever put in a request header:
never in a URL, a log line, an exception or a report."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API = "https://api.github.com"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(Exception):
    """A failure worth one clear line (status and GitHub's own message, never credentials)."""


class NotFound(GitHubError):
    pass


def token_from_env() -> str | None:
    for name in TOKEN_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class Repository:
    full_name: str
    name: str
    clone_url: str
    default_branch: str
    archived: bool = False
    fork: bool = False
    visibility: str = "public"
    topics: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Repository:
        return cls(full_name=str(item["full_name"]), name=str(item["name"]),
                   clone_url=str(item.get("clone_url") or ""),
                   default_branch=str(item.get("default_branch") or "main"),
                   archived=bool(item.get("archived")), fork=bool(item.get("fork")),
                   visibility=str(item.get("visibility") or
                                  ("private" if item.get("private") else "public")),
                   topics=tuple(str(t) for t in item.get("topics") or ()))


@dataclass
class Filters:
    include_archived: bool = False
    include_forks: bool = False
    visibility: str = "all"  # all | public | private | internal
    topics: Sequence[str] = ()  # every one must be present
    match: str | None = None  # glob on the repository name

    def keep(self, repo: Repository) -> bool:
        return ((self.include_archived or not repo.archived) and
                (self.include_forks or not repo.fork) and
                (self.visibility == "all" or repo.visibility == self.visibility) and
                all(t in repo.topics for t in self.topics) and
                (self.match is None or fnmatch.fnmatchcase(repo.name, self.match)))


@dataclass
class Client:
    api_url: str = DEFAULT_API
    token: str | None = field(default=None, repr=False)
    retries: int = 5
    backoff: float = 1.0  # first retry delay, doubled each time
    max_wait: float = 600.0  # total seconds this client may sleep for rate limits and retries
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0  # seconds slept so far (reported in the org report)

    def _wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        if self.waited + seconds > self.max_wait:
            raise GitHubError(f"{why}: waiting {seconds:.0f}s more would exceed the "
                              f"{self.max_wait:.0f}s budget")
        self.waited += seconds
        self.sleep(seconds)

    def get(self, url: str) -> tuple[Any, dict[str, str]]:
        """GET a URL of the API (absolute, as in Link headers, or a path)."""
        if not url.startswith(("http://", "https://")):
            url = self.api_url.rstrip("/") + url
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": "maturity-scan"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                req = urllib.request.Request(url, headers=headers)
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                    body = resp.read()
                    return json.loads(body or b"null"), {k.lower(): v for k, v in resp.headers.items()}
            except urllib.error.HTTPError as e:
                hdrs = {k.lower(): v for k, v in (e.headers or {}).items()}
                message = _message(e)
                if self.token:
                    message = message.replace(self.token, "***")
                if e.code in (403, 429) and hdrs.get("x-ratelimit-remaining") == "0":
                    reset = float(hdrs.get("x-ratelimit-reset") or 0)
                    self._wait(reset - time.time() + 1, "primary rate limit")
                    continue
                if e.code in (403, 429) and "retry-after" in hdrs:
                    self._wait(float(hdrs["retry-after"]), "secondary rate limit")
                    continue
                if e.code == 429 and not last:
                    self._wait(delay, "rate limited")
                    delay *= 2
                    continue
                if e.code == 404:
                    raise NotFound(f"{_path(url)}: not found") from None
                if e.code >= 500 and not last:
                    self._wait(delay, f"server error {e.code}")
                    delay *= 2
                    continue
                # 401, a 403 that is not a rate limit (permissions, SAML), other 4xx: not retried
                raise GitHubError(f"{_path(url)}: HTTP {e.code}{': ' + message if message else ''}") \
                    from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                if last:
                    raise GitHubError(f"{_path(url)}: {type(getattr(e, 'reason', e)).__name__} "
                                      f"after {self.retries + 1} attempts") from None
                self._wait(delay, "connection failed")
                delay *= 2
        raise GitHubError(f"{_path(url)}: gave up after {self.retries + 1} attempts")

    def paginate(self, path: str) -> Iterator[Any]:
        url: str | None = path
        while url:
            body, headers = self.get(url)
            if not isinstance(body, list):
                raise GitHubError(f"{_path(url)}: unexpected response (not a list)")
            yield from body
            m = _NEXT.search(headers.get("link", ""))
            url = m.group(1) if m else None

    def repositories(self, owner: str, filters: Filters | None = None) -> list[Repository]:
        """An organization's repositories, else a user's."""
        filters = filters or Filters()
        try:
            items = list(self.paginate(f"/orgs/{owner}/repos?per_page=100&type=all"))
        except NotFound:
            items = list(self.paginate(f"/users/{owner}/repos?per_page=100&type=owner"))
        repos = [Repository.from_api(i) for i in items if isinstance(i, dict)]
        return sorted((r for r in repos if filters.keep(r)), key=lambda r: r.full_name.lower())


def _path(url: str) -> str:
    """The URL without scheme, host or query: enough to say what failed."""
    return re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]


def _message(e: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(e.read() or b"{}")
    except (ValueError, OSError):
        return ""
    msg = body.get("message") if isinstance(body, dict) else None
    return str(msg)[:200] if msg else ""
