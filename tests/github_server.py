"""A loopback server (127.0.0.1) that speaks the GitHub REST API's shapes for repository
listings (pagination with Link headers, rate-limit headers, errors) and serves real git
repositories over git's smart HTTP protocol through `git http-backend`, with fault injection."""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=lambda: {"message": "boom"})
    drop: bool = False  # close the connection without a response
    raw: bytes | None = None  # sent as it is instead of `body` as JSON


@dataclass
class State:
    root: Path  # GIT_PROJECT_ROOT: <root>/<owner>/<name>.git
    repos: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # owner -> items
    users: set[str] = field(default_factory=set)  # owners that are users, not orgs
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    stall: set[str] = field(default_factory=set)  # repo paths whose git endpoint hangs
    gone: set[str] = field(default_factory=set)  # repo paths deleted after listing
    per_page: int = 30
    stall_seconds: float = 30.0
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location (302)
    links: dict[str, str] = field(default_factory=dict)  # listing path -> Link header, always
    no_trees: set[str] = field(default_factory=set)  # repo paths whose tree listing fails (500)
    seen_auth: list[str] = field(default_factory=list)
    api_calls: list[str] = field(default_factory=list)
    git_calls: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # the Host header of every request
    login: str | None = None  # GET /user answers this login to a request with a token
    # /users/{u}/repos lists public repositories only, as GitHub's does (private ones of the
    # authenticated user come from /user/repos)
    user_listing_public_only: bool = False
    teams: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # org -> slug -> names


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json",
                                                        **(headers or {})})

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        st = self.state
        st.seen_auth.append(self.headers.get("Authorization", ""))
        st.hosts.append(self.headers.get("Host", ""))
        url = urlsplit(self.path)
        if url.path in st.redirects:
            return self._send(302, b"", {"Location": st.redirects[url.path]})
        if url.path.startswith("/git/"):
            return self._git(url)
        st.api_calls.append(url.path)
        faults = st.faults.get(url.path)
        api_path = url.path[len("/api"):] if url.path.startswith("/api/") else url.path
        if faults:
            fault = faults.pop(0)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault.raw is not None:
                return self._send(fault.status, fault.raw, fault.headers)
            return self._json(fault.status, fault.body, fault.headers)
        parts = api_path.strip("/").split("/")
        authorized = bool(self.headers.get("Authorization"))
        if parts == ["user"]:
            if not (authorized and st.login):
                return self._json(401, {"message": "Requires authentication"})
            return self._json(200, {"login": st.login, "type": "User"})
        if parts == ["user", "repos"]:
            if not (authorized and st.login):
                return self._json(401, {"message": "Requires authentication"})
            return self._page(url, st.repos.get(st.login, []))
        if len(parts) == 3 and parts[0] == "orgs" and parts[2] == "teams" and \
                parts[1] in st.teams:
            return self._page(url, [{"slug": slug, "name": slug.title()}
                                    for slug in st.teams[parts[1]]])
        if len(parts) == 5 and parts[0] == "orgs" and parts[2] == "teams" and \
                parts[4] == "repos" and parts[3] in st.teams.get(parts[1], {}):
            names = st.teams[parts[1]][parts[3]]
            return self._page(url, [r for r in st.repos.get(parts[1], []) if r["name"] in names])
        if len(parts) == 3 and parts[2] == "repos" and parts[0] in ("orgs", "users"):
            owner = parts[1]
            is_user = owner in st.users
            if (parts[0] == "orgs") == is_user or owner not in st.repos:
                return self._json(404, {"message": "Not Found"})
            items = st.repos[owner]
            if is_user and st.user_listing_public_only:
                items = [r for r in items if r.get("visibility", "public") == "public"]
            return self._page(url, items)
        if len(parts) == 6 and parts[0] == "repos" and parts[3:5] == ["git", "trees"]:
            return self._tree(parts[1], parts[2], parts[5])
        self._json(404, {"message": "Not Found"})

    def _page(self, url: Any, items: list[Any]) -> None:
        """One page of a listing, with GitHub's Link header."""
        st = self.state
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        chunk = items[(page - 1) * st.per_page: page * st.per_page]
        headers = {"x-ratelimit-remaining": "4999", "x-ratelimit-limit": "5000"}
        if page * st.per_page < len(items):
            host = f"http://{self.headers['Host']}"
            headers["Link"] = (f'<{host}{url.path}?per_page={st.per_page}&page={page + 1}>; '
                               f'rel="next", <{host}{url.path}?page=1>; rel="first"')
        if url.path in st.links:
            headers["Link"] = st.links[url.path]
        self._json(200, chunk, headers)

    def _tree(self, owner: str, name: str, revision: str) -> None:
        """GET /repos/OWNER/NAME/git/trees/REV?recursive=1, as GitHub answers it."""
        if f"{owner}/{name}" in self.state.no_trees:
            return self._json(500, {"message": "tree listing unavailable"})
        bare = self.state.root / owner / f"{name}.git"
        done = subprocess.run(["git", "--git-dir", str(bare), "ls-tree", "-r", "-l", "-z",
                               "--full-tree", revision], capture_output=True)
        if not bare.is_dir() or done.returncode != 0:
            return self._json(404, {"message": "Not Found"})
        tree = []
        for record in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if record:
                meta, path = record.split("\t", 1)
                mode, kind, oid, size = meta.split()
                entry = {"path": path.encode("utf-8", "surrogateescape").decode("utf-8",
                                                                                "replace"),
                         "mode": mode, "type": kind, "sha": oid}
                if kind == "blob":
                    entry["size"] = int(size)
                tree.append(entry)
        self._json(200, {"sha": revision, "tree": tree, "truncated": False})

    def _git(self, url: Any) -> None:
        st = self.state
        path_info = url.path[len("/git"):]
        repo = path_info.split(".git", 1)[0].strip("/")
        st.git_calls.append(f"{self.command} {path_info}")
        if repo in st.gone:
            return self._send(404, b"Repository not found\n", {"Content-Type": "text/plain"})
        if repo in st.stall:
            time.sleep(st.stall_seconds)
            return self._send(504, b"", {})
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {**os.environ, "GIT_PROJECT_ROOT": str(st.root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": path_info, "REQUEST_METHOD": self.command,
               "QUERY_STRING": url.query, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1",
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", "")}
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True,
                              timeout=120)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                if k.lower() == "status":
                    status = int(v.split()[0])
                else:
                    headers[k] = v.strip()
        self._send(status, payload, headers)


class GitHubServer:
    """`host` is the name in its URLs: "127.0.0.1", or "localhost" for the same server under
    another host name."""

    def __init__(self, root: Path, host: str = "127.0.0.1") -> None:
        self.host = host
        self.state = State(root)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.httpd.server_address[1]}"

    def __enter__(self) -> GitHubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_repo(self, owner: str, name: str, files: dict[str, str] | None, *,
                 archived: bool = False, fork: bool = False, topics: tuple[str, ...] = (),
                 visibility: str = "public") -> Path:
        """A real bare repository served over smart HTTP (files None: an empty repository)."""
        bare = self.state.root / owner / f"{name}.git"
        bare.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
               "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.state.root)}
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True,
                       env=env)
        for key, value in (("uploadpack.allowFilter", "true"),
                           ("uploadpack.allowAnySHA1InWant", "true"),
                           ("http.receivepack", "false")):
            subprocess.run(["git", "--git-dir", str(bare), "config", key, value], check=True)
        if files is not None:
            self.push(owner, name, files)
        self.state.repos.setdefault(owner, []).append({
            "name": name, "full_name": f"{owner}/{name}",
            "clone_url": f"{self.url}/git/{owner}/{name}.git", "default_branch": "main",
            "archived": archived, "fork": fork, "topics": list(topics),
            "visibility": visibility, "private": visibility != "public"})
        return bare

    def push(self, owner: str, name: str, files: dict[str, str], *, message: str = "update",
             when: int | None = None, tag: str | None = None, author: str = "t@example.com",
             delete: tuple[str, ...] = ()) -> None:
        """A new commit on main with these files written (others kept, `delete` removed),
        dated `when` (unix time) if given, tagged (annotated) `tag` if given."""
        bare = self.state.root / owner / f"{name}.git"
        work = self.state.root / "_work" / owner / name
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": author,
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
               "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.state.root)}
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{when} +0000"
        for rel in delete:
            (work / rel).unlink()
        if not work.exists():
            work.mkdir(parents=True)
            subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True, env=env)
        for rel, content in files.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_text(content)
        subprocess.run(["git", "add", "-A"], cwd=work, check=True, env=env)
        subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=work,
                       check=True, env=env)
        if tag:
            subprocess.run(["git", "tag", "-a", tag, "-m", f"release {tag}"], cwd=work,
                           check=True, env=env)
        subprocess.run(["git", "push", "-q", "--force", "--follow-tags", str(bare), "main"],
                       cwd=work, check=True, env=env)
