"""A small GitHub REST client for listing an organization's (or a user's) repositories:
`Link: rel="next"` pagination, primary and secondary rate limits, retries with backoff on 5xx and
dropped connections, and a bounded total wait. HTTP is httpx (one pooled connection per host,
redirects never followed by it, bodies streamed and cut at a bound); the retry policy is GitHub's
(rate-limit headers), with every wait counted against the budget. httpx is imported at the first
request: `maturity-scan` starts without it.

The API is untrusted input. The token is only ever put in a request header, and only on a
request to the API's own origin (scheme, host and port of `api_url`), over https unless that
API is plain http on loopback: a redirect or a `Link` elsewhere never carries it. It is never in
a URL, a log line, an exception or a report. Pages are bounded (count, size, no revisits), each
listing entry is checked before it is kept, and duplicates are dropped."""
from __future__ import annotations

import fnmatch
import ipaddress
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from maturity_scan.report import printable

if TYPE_CHECKING:
    import httpx

DEFAULT_API = "https://api.github.com"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
MAX_PAGES = 1000  # 100,000 repositories at 100 a page
MAX_BODY_BYTES = 32 << 20  # a page of 100 repositories is ~0.6 MB; a recursive tree up to ~7 MB
MAX_REDIRECTS = 5
MAX_ERROR_BODY = 1 << 20  # of an error answer, read for GitHub's message
MAX_WARNINGS = 20  # kept verbatim; the rest are counted
_REDIRECTS = (301, 302, 303, 307, 308)
# GitHub's own rules are narrower; these keep a name one path component in our output folders
_FULL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Origin:
    """scheme://host:port, the unit a token is scoped to."""
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an http(s) URL without credentials in it, else None."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or not parts.hostname or \
                parts.username is not None or parts.password is not None:
            return None
        return cls(parts.scheme, parts.hostname.lower(),
                   port or (443 if parts.scheme == "https" else 80))

    def __str__(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port != default else "")


def api_origin(api_url: str) -> Origin:
    origin = Origin.of(api_url)
    if origin is None:
        raise GitHubError(f"--api-url must be an http(s) URL without credentials in it, "
                          f"not {api_url[:100]!r}")
    return origin


def clone_origin(api_url: str) -> Origin:
    """Where repositories of this API are cloned from: api.github.com -> github.com; a GitHub
    Enterprise Server (https://HOST/api/v3) -> the same host; same scheme and port."""
    api = api_origin(api_url)
    host = "github.com" if api.host == "api.github.com" else api.host
    return Origin(api.scheme, host, api.port)


def plain_http_allowed(api_url: str) -> bool:
    """Plain http only for an API on this machine (tests, a local proxy)."""
    api = api_origin(api_url)
    return api.scheme == "https" or _is_loopback(api.host)


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
    def from_api(cls, item: Any) -> Repository:
        """An entry of a listing; ValueError (saying which field) when it is not one."""
        if not isinstance(item, dict):
            raise ValueError(f"not an object ({type(item).__name__})")
        full_name = item.get("full_name")
        if not isinstance(full_name, str) or not _FULL_NAME.fullmatch(full_name):
            raise ValueError(f"full_name {_shown(full_name)} is not OWNER/NAME")
        name = item.get("name", full_name.split("/", 1)[1])
        if not isinstance(name, str) or not name:
            raise ValueError(f"{full_name}: name {_shown(name)} is not a string")
        clone_url = item.get("clone_url") or ""
        if not isinstance(clone_url, str):
            raise ValueError(f"{full_name}: clone_url {_shown(clone_url)} is not a string")
        branch = item.get("default_branch") or "main"
        if not isinstance(branch, str) or not valid_branch(branch):
            raise ValueError(f"{full_name}: default_branch {_shown(branch)} is not a branch name")
        topics = item.get("topics") or []
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise ValueError(f"{full_name}: topics {_shown(topics)} is not a list of strings")
        visibility = item.get("visibility") or ("private" if item.get("private") else "public")
        if not isinstance(visibility, str):
            raise ValueError(f"{full_name}: visibility {_shown(visibility)} is not a string")
        return cls(full_name=full_name, name=name, clone_url=clone_url, default_branch=branch,
                   archived=item.get("archived") is True, fork=item.get("fork") is True,
                   visibility=visibility, topics=tuple(topics))

    @classmethod
    def from_state(cls, item: Any) -> Repository:
        """An entry of our own repos.json (checked like the API's: it sits in OUT)."""
        if not isinstance(item, dict):
            raise ValueError(f"not an object ({type(item).__name__})")
        return cls.from_api({**item, "topics": list(item.get("topics") or [])})

    @property
    def key(self) -> str:
        """One repository, one report file: names that differ only in case or in `/` vs `_`
        would overwrite each other's report."""
        return self.full_name.replace("/", "_").lower()


def valid_branch(name: str) -> bool:
    """A conservative `git check-ref-format --branch`: never an option, never a pattern."""
    return (0 < len(name) <= 255 and not name.startswith(("-", "/", ".")) and
            not name.endswith(("/", ".", ".lock")) and not _BAD_REF.search(name))


def _shown(value: Any) -> str:
    return printable(repr(value)[:60])


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
class _Redirect:
    location: str


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]  # names lower-case
    body: bytes  # at most MAX_BODY_BYTES + 1 (MAX_ERROR_BODY for an error)


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
    max_pages: int = MAX_PAGES
    warnings: list[str] = field(default_factory=list)  # listing entries skipped, and why

    def __post_init__(self) -> None:
        self.origin = api_origin(self.api_url)
        if self.token and not plain_http_allowed(self.api_url):
            raise GitHubError(f"refusing to send the token over plain http to {self.origin}: "
                              "use an https --api-url")
        self._http: httpx.Client | None = None
        self._skipped = 0

    def _session(self) -> httpx.Client:
        """The HTTP client, made at the first request. It follows no redirect (`get` does,
        deciding per hop whether the token goes along) and retries nothing itself (the policy
        below does, within the wait budget)."""
        if self._http is None:
            import httpx
            # identity: a body is read as sent and cut at the bound (no decompression bomb)
            self._http = httpx.Client(follow_redirects=False, timeout=self.timeout,
                                      headers={"User-Agent": "maturity-scan",
                                               "Accept-Encoding": "identity"})
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:  # a copy (Dask, copy.copy) opens its own
        return {**self.__dict__, "_http": None}

    def warn(self, message: str) -> None:
        self._skipped += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append("further listing problems are counted, not shown")

    @property
    def skipped(self) -> int:
        return self._skipped

    def _wait(self, seconds: float, why: str) -> None:
        seconds = max(0.0, seconds)
        if self.waited + seconds > self.max_wait:
            raise GitHubError(f"{why}: waiting {seconds:.0f}s more would exceed the "
                              f"{self.max_wait:.0f}s budget")
        self.waited += seconds
        self.sleep(seconds)

    def _authorized(self, url: str) -> bool:
        """The token goes to the API's own origin only (http there only on loopback)."""
        return bool(self.token) and Origin.of(url) == self.origin and \
            plain_http_allowed(self.api_url)

    def get(self, url: str) -> tuple[Any, dict[str, str]]:
        """GET a URL of the API (absolute, as in Link headers, or a path). Redirects are
        followed; only a hop to the API's own origin carries the token."""
        if not url.startswith(("http://", "https://")):
            url = self.api_url.rstrip("/") + url
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._get_once(url)
            if not isinstance(answer, _Redirect):
                return answer
            url = urljoin(url, answer.location)
        raise GitHubError(f"{_path(url)}: more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url: str) -> tuple[Any, dict[str, str]] | _Redirect:
        if Origin.of(url) is None:
            raise GitHubError(f"refusing to request {_shown(_path(url))}: not an http(s) URL")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if self._authorized(url):
            headers["Authorization"] = f"Bearer {self.token}"
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                answer = self._request(url, headers)
            except OSError as e:  # httpx.TransportError is one (below); so are socket errors
                if last:
                    raise GitHubError(f"{_path(url)}: {type(e).__name__} "
                                      f"after {self.retries + 1} attempts") from None
                self._wait(delay, "connection failed")
                delay *= 2
                continue
            code, hdrs = answer.status, answer.headers
            if code < 300:
                return _decode(url, answer.body), hdrs
            if code in _REDIRECTS and hdrs.get("location"):
                return _Redirect(hdrs["location"])
            message = _message(answer.body)
            if self.token:
                message = message.replace(self.token, "***")
            if code in (403, 429) and hdrs.get("x-ratelimit-remaining") == "0":
                self._wait(_number(hdrs.get("x-ratelimit-reset")) - time.time() + 1,
                           "primary rate limit")
                continue
            if code in (403, 429) and "retry-after" in hdrs:
                self._wait(_number(hdrs["retry-after"]), "secondary rate limit")
                continue
            if code == 429 and not last:
                self._wait(delay, "rate limited")
                delay *= 2
                continue
            if code == 404:
                raise NotFound(f"{_path(url)}: not found")
            if code >= 500 and not last:
                self._wait(delay, f"server error {code}")
                delay *= 2
                continue
            # 401, a 403 that is not a rate limit (permissions, SAML), other 4xx: not retried
            detail = f": {message}" if message else ""
            raise GitHubError(f"{_path(url)}: HTTP {code}{detail}")
        raise GitHubError(f"{_path(url)}: gave up after {self.retries + 1} attempts")

    def _request(self, url: str, headers: dict[str, str]) -> _Answer:
        """One GET, its body streamed and cut one byte past the bound (an error's at
        MAX_ERROR_BODY). A transport failure (refused, reset, timed out, a connection dropped
        before the answer) is an OSError."""
        import httpx
        try:
            with self._session().stream("GET", url, headers=headers) as resp:
                limit = MAX_BODY_BYTES + 1 if resp.status_code < 300 else MAX_ERROR_BODY
                body = bytearray()
                for chunk in resp.iter_raw():
                    body += chunk[:limit - len(body)]
                    if len(body) >= limit:
                        break
                return _Answer(resp.status_code,
                               {k.lower(): v for k, v in resp.headers.items()}, bytes(body))
        except httpx.TransportError as e:
            raise ConnectionError(type(e).__name__) from None

    def paginate(self, path: str) -> Iterator[Any]:
        """The items of every page; pages stay on the API's origin, are never read twice, and
        number at most `max_pages`."""
        url: str | None = path if path.startswith(("http://", "https://")) else \
            self.api_url.rstrip("/") + path
        seen: set[str] = set()
        while url:
            if url in seen:
                raise GitHubError(f"{_path(url)}: the next-page link repeats a page already "
                                  "read (a pagination loop)")
            if len(seen) >= self.max_pages:
                raise GitHubError(f"{_path(url)}: more than {self.max_pages} pages; "
                                  "refusing to read further")
            seen.add(url)
            body, headers = self.get(url)
            if not isinstance(body, list):
                raise GitHubError(f"{_path(url)}: unexpected response (not a list)")
            yield from body
            url = self._next_page(url, headers.get("link", ""))

    def _next_page(self, url: str, link: str) -> str | None:
        m = _NEXT.search(link)
        if not m:
            return None
        nxt = urljoin(url, m.group(1).strip())
        if Origin.of(nxt) != self.origin:
            where = Origin.of(nxt)
            raise GitHubError(f"{_path(url)}: the next-page link points away from the API "
                              f"(to {where or 'a non-http URL'}); refusing to follow it")
        return nxt

    def repositories(self, owner: str, filters: Filters | None = None) -> list[Repository]:
        """An organization's repositories, else a user's: checked entry by entry (a bad one is
        skipped with a warning), each repository once, sorted by name."""
        filters = filters or Filters()
        try:
            return self._listing(f"/orgs/{owner}/repos?per_page=100&type=all", filters)
        except NotFound:
            pass
        if self.token and (self.login() or "").lower() == owner.lower():
            # the authenticated user's own: /users/{u}/repos would list public ones only
            return self._listing("/user/repos?per_page=100&affiliation=owner", filters)
        return self._listing(f"/users/{owner}/repos?per_page=100&type=owner", filters)

    def login(self) -> str | None:
        """The authenticated user's login (`GET /user`), None without a token or an answer."""
        if not self.token:
            return None
        try:
            body, _ = self.get("/user")
        except GitHubError:
            return None
        login = body.get("login") if isinstance(body, dict) else None
        return login if isinstance(login, str) and login else None

    def teams(self, org: str, max_teams: int = 1000) -> dict[str, list[str]]:
        """The organization's teams (by slug) and the full names of their repositories;
        {} when teams cannot be listed (a user, or a token without read:org)."""
        found: dict[str, list[str]] = {}
        try:
            for n, team in enumerate(self.paginate(f"/orgs/{org}/teams?per_page=100")):
                slug = team.get("slug") if isinstance(team, dict) else None
                if n >= max_teams or not isinstance(slug, str) or \
                        not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", slug):
                    continue
                names = []
                for item in self.paginate(f"/orgs/{org}/teams/{slug}/repos?per_page=100"):
                    full = item.get("full_name") if isinstance(item, dict) else None
                    if isinstance(full, str) and _FULL_NAME.fullmatch(full):
                        names.append(full)
                found[slug] = sorted(set(names), key=str.lower)
        except GitHubError:
            return found
        return found

    def _listing(self, path: str, filters: Filters) -> list[Repository]:
        kept: dict[str, Repository] = {}  # by Repository.key: the raw items are not held
        seen: set[str] = set()
        for n, item in enumerate(self.paginate(path), 1):
            try:
                repo = Repository.from_api(item)
            except ValueError as e:
                self.warn(f"listing entry {n} skipped: {e}")
                continue
            if repo.key in seen:
                self.warn(f"listing entry {n} skipped: {repo.full_name} is listed twice")
                continue
            seen.add(repo.key)
            if filters.keep(repo):
                kept[repo.key] = repo
        return sorted(kept.values(), key=lambda r: r.full_name.lower())

    def tree_sizes(self, full_name: str, revision: str) -> tuple[dict[str, int], bool]:
        """Blob sizes by path at `revision` (git's trees API), and whether GitHub truncated the
        listing (then paths missing from it have no known size)."""
        body, _ = self.get(f"/repos/{full_name}/git/trees/{revision}?recursive=1")
        if not isinstance(body, dict) or not isinstance(body.get("tree"), list):
            raise GitHubError(f"/repos/{full_name}/git/trees: unexpected response")
        sizes = {}
        for entry in body["tree"]:
            if isinstance(entry, dict) and entry.get("type") == "blob" and \
                    isinstance(entry.get("path"), str) and type(entry.get("size")) is int:
                sizes[entry["path"]] = entry["size"]
        return sizes, body.get("truncated") is True


def _decode(url: str, body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise GitHubError(f"{_path(url)}: the response is larger than "
                          f"{MAX_BODY_BYTES >> 20} MiB")
    try:
        return json.loads(body or b"null")
    except ValueError as e:
        raise GitHubError(f"{_path(url)}: the response is not JSON ({type(e).__name__})") \
            from None


def _number(value: str | None) -> float:
    try:
        number = float(value or 0)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 1e12  # "forever": more than any budget


def _path(url: str) -> str:
    """The URL without scheme, host or query: enough to say what failed."""
    return printable(re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*", "", url).split("?", 1)[0][:200])


def _message(body: bytes) -> str:
    """GitHub's `message` from an error answer's JSON body, one safe line."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return ""
    msg = data.get("message") if isinstance(data, dict) else None
    return printable(str(msg)[:200]) if msg else ""
