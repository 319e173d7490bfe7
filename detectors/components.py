"""Components: the services of a monorepo, each with the folder it lives in, so that a scan can
judge each one on its own (`scan --components`).

Where a component comes from, most explicit first:
- a Backstage catalog entry (`catalog-info.yaml`, any depth, several documents per file):
  `kind: Component` with `metadata.name`, `spec.owner`, `spec.type`; its folder is the one the
  `backstage.io/source-location` annotation names inside this repository (`dir:./x`, or a
  `url:` with `/tree/<ref>/<path>`), else the catalog file's own;
- a Kubify service config (`kubify.yaml` / `kubify.yml`, read as the kubify detector reads it):
  `metadata.name` and the services its `depends_on` names;
- where neither exists, a folder under a services root (`services/*`, `apps/*`, `cmd/*`; under
  `src/*` only with a Dockerfile or a chart) or a workspace member (`detectors/_workspaces.py`:
  `package.json` `workspaces`, `pnpm-workspace.yaml`, `go.work`, Cargo `[workspace] members`,
  uv `[tool.uv.workspace] members`) that holds a Dockerfile, a Helm chart or a deployable
  entry point (`main.py`, `app.py`, `manage.py`, `main.go`, `server.js`,
  `src/main.rs`, a `Procfile`, `serverless.yml`, a `package.json` with a `start` script);
- where none of those finds it, a folder a Skaffold artifact is built from
  (`build.artifacts[].context`, also in profiles; named after its image) or a Docker Compose
  service is (`build: ./server` or `build: {context: ./client}`; named after the service),
  relative to the file, unless it is the root, outside the repository, a remote context, a
  support folder (`docker/`, `.devcontainer/`, `deploy/` …), or inside (or above) another
  component's folder.

Nothing is run; paths are only listed. Files under test data or vendored folders are set aside
by the scan like any other, so they make no component. The facts: `components` (one record per
component: name, path, owner, type, source, file, line, depends_on), `names`, `count`, and
`without_kubify`, the components whose folder holds no kubify.yaml (the DevEx ladder's
"one kubify.yaml per service").
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from maturity_scan.detectors._workspaces import FILES as WORKSPACE_FILES
from maturity_scan.detectors._workspaces import deploying, members
from maturity_scan.detectors._kubify import depends_on, is_config, service_configs
from maturity_scan.sdk import Document, ParseError, RepoContext, Signal, globs, kind, signal

ROOTS = ("services", "apps", "cmd")
# `src/<service>/` (microservices-demo and its like): only an image or a chart makes it one; an
# entry point there is as often a package of one program.
IMAGE_ROOTS = ("src",)
# What makes a folder deployable, relative to the folder.
ANCHORS = ("**/{Dockerfile,Containerfile,*.Dockerfile,Dockerfile.*,Chart.yaml}",
           "{,src/,app/}{main,app,manage,server,wsgi,asgi}.py", "{,cmd/*/}main.go",
           "{,src/}{server,main}.{js,ts,mjs}", "src/main.rs",
           "{Procfile,serverless.yml,serverless.yaml}")
START_SCRIPT = "package.json"  # an anchor when its `scripts.start` is set
CATALOG = "catalog-info.y{a,}ml"
SOURCES = ("backstage", "kubify", "workspace", "services_root", "skaffold",
           "compose")  # most explicit first
MAX_BUILDS = 1000  # build contexts judged per repository (each against every component)
COMPOSE = ("docker-compose*.y{a,}ml", "compose*.y{a,}ml", "*.compose.y{a,}ml")
SKAFFOLD = ("skaffold.y{a,}ml", "skaffold-*.y{a,}ml", "skaffold.*.y{a,}ml")
# First folders of a build context that hold images of the tooling, not services.
SUPPORT = frozenset({"docker", ".docker", "dockerfiles", "containers", "images", "deploy",
                     "deployment", "infra", "ops", "ci", ".ci", "scripts", "tools", "hack",
                     ".devcontainer", "devcontainer", "dev", ".github", ".gitlab"})
_ROOTS = "{" + ",".join(ROOTS) + "}/*/"
_ANCHORED = (*("/" + _ROOTS + a for a in ANCHORS),
             *(f"/{r}/*/{ANCHORS[0]}" for r in IMAGE_ROOTS))
_TREE = re.compile(r"/(?:tree|blob|src)/[^/]+/(.*)$")  # GitHub, GitLab (-/tree), Bitbucket


def _anchor_rx() -> re.Pattern[str]:
    return globs.compile_globs(tuple("/" + a for a in ANCHORS))


def _record(name: str, path: str, source: str, file: str, line: int, *, owner: Any = None,
            type_: Any = None, deps: Sequence[str] = (), namespace: Any = None) -> dict[str, Any]:
    out = {"name": name, "path": path or ".", "source": source, "file": file, "line": line,
           "owner": owner if isinstance(owner, str) and owner else None,
           "type": type_ if isinstance(type_, str) and type_ else None,
           "depends_on": list(deps)}
    if isinstance(namespace, str) and namespace:  # a catalog's metadata.namespace (exports)
        out["namespace"] = namespace
    return out


class ComponentsDetector:
    id = "components"
    description = ("Components (services) of a monorepo: Backstage catalog entries, Kubify "
                   "configs, services roots and workspace members that deploy")
    kinds = {"component": kind(
        "A service of the repository, with its folder (one per component)",
        components="records", names="set", count="count", without_kubify="set",
        # what one file said, combined by `conclude`
        workspaces="records", anchors="records", starts="set", builds="records")}
    patterns = (CATALOG, "kubify.y{a,}ml", *(f"/{f}" for f in WORKSPACE_FILES),
                *(_ROOTS + a for a in ANCHORS), START_SCRIPT,  # any package.json: its start
                *(f"{r}/*/{ANCHORS[0]}" for r in IMAGE_ROOTS), *COMPOSE, *SKAFFOLD)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if globs.matches(doc.path, (CATALOG,)):
            yield from self._catalog(doc)  # this detector owns the file: a bad one is an error
            return
        try:
            if globs.matches(doc.path, COMPOSE) or globs.matches(doc.path, SKAFFOLD):
                builds = _skaffold_builds(doc) if globs.matches(doc.path, SKAFFOLD) else \
                    _compose_builds(doc) if not doc.name.startswith("composer") else []
                if builds:  # evidence on the file, so that the scan scopes it like the file
                    yield signal("component", doc.path, None, "", builds=builds)
                return
            if is_config(doc):
                for d, name, line in service_configs(doc):
                    yield signal("component", doc.path, line, f"kubify service {name}".strip(),
                                 components=[_record(name or posixpath.basename(doc.dir),
                                                     doc.dir, "kubify", doc.path, line,
                                                     deps=depends_on(d))])
            if "/" not in doc.path and doc.name in WORKSPACE_FILES:
                entries = list(members(doc))
                if entries:  # evidence on the file, so that the scan scopes it like the file
                    yield signal("component", doc.path, None, "", workspaces=[
                        {"glob": g, "file": doc.path, "line": ln} for g, ln in entries])
            starts = "/" in doc.path and doc.name == START_SCRIPT and _has_start(doc)
            if "/" in doc.path and (globs.matches(doc.path, _ANCHORED) or
                                    starts and globs.matches(doc.path, (_ROOTS + START_SCRIPT,))):
                top = "/".join(doc.path.split("/")[:2])
                yield signal("component", doc.path, None, "",
                             anchors=[{"dir": top, "file": doc.path}])
            elif starts:  # a workspace member's entry point, perhaps
                yield signal("component", doc.path, None, "", starts=[doc.dir])
        except ParseError:
            return  # the kubify detector (or the manifest's own) reports a file that is broken

    def _catalog(self, doc: Document) -> Iterator[Signal]:
        entries = [d for d in doc.yaml_documents if isinstance(d, dict) and
                   str(d.get("kind")).lower() == "component" and
                   str(d.get("apiVersion", "")).startswith("backstage.io/")]
        for d in entries:
            meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
            spec = d.get("spec") if isinstance(d.get("spec"), dict) else {}
            name = meta.get("name") if isinstance(meta.get("name"), str) else ""
            if not name:
                continue
            line = meta.line_of("name") if hasattr(meta, "line_of") else 1
            notes = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
            folder = _source_location(doc.dir, notes.get("backstage.io/source-location"))
            if folder == doc.dir and len(entries) > 1:  # one catalog of several, unlocated
                folder = _folder_named(doc, name)
            yield signal("component", doc.path, line, f"catalog component {name}",
                         components=[_record(name, folder, "backstage", doc.path, line,
                                             owner=spec.get("owner"),
                                             type_=spec.get("type"),
                                             namespace=meta.get("namespace"))])

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        records: list[dict[str, Any]] = []
        workspaces: list[dict[str, Any]] = []
        anchors: dict[str, str] = {}
        starts: set[str] = set()  # folders whose package.json has a start script
        builds: list[dict[str, Any]] = []  # compose services' build contexts
        for sig in found:
            records += sig.facts.get("components") or []
            builds += sig.facts.get("builds") or []
            workspaces += sig.facts.get("workspaces") or []
            starts.update(sig.facts.get("starts") or ())
            for a in sig.facts.get("anchors") or []:
                anchors.setdefault(a["dir"], a["file"])
        for r in records:  # a source location this repository does not hold: the file's folder
            if r["path"] != "." and not repo.view.has_dir(r["path"]):
                r["path"] = posixpath.dirname(r["file"]) or "."
        explicit = {r["path"] for r in records}
        records += [_record(folder.rsplit("/", 1)[-1], folder, "workspace", w["file"], w["line"])
                    for folder, w in deploying(workspaces, repo.view, _anchor_rx(), starts)
                    if folder not in explicit]
        taken = {r["path"] for r in records}
        for folder in sorted(anchors):
            if folder not in taken:
                name = folder.rsplit("/", 1)[-1]
                records.append(_record(name, folder, "services_root", anchors[folder], 1))
        records += _built(builds, records, repo)
        yield from _signals(records)


def _compose_builds(doc: Document) -> list[dict[str, Any]]:
    """`{name, dir, file, line, source}` of each compose service built from a folder of this
    repository (its `build:` context, relative to the compose file's folder)."""
    data = doc.yaml
    services = data.get("services") if isinstance(data, dict) else None
    out: list[dict[str, Any]] = []
    for name, svc in services.items() if isinstance(services, dict) else ():
        build = svc.get("build") if isinstance(svc, dict) else None
        context = build.get("context", ".") if isinstance(build, dict) else build
        line = svc.line_of("build") if isinstance(svc, dict) and hasattr(svc, "line_of") else 1
        out += _build(doc, name, context, line, "compose")
    return out[:200]


def _skaffold_builds(doc: Document) -> list[dict[str, Any]]:
    """The same of each Skaffold artifact (`build.artifacts[]`, also a profile's): its
    `context` (default: the file's folder), named after the last segment of its `image`."""
    out: list[dict[str, Any]] = []
    for d in doc.yaml_documents:
        if not isinstance(d, dict) or not str(d.get("apiVersion", "")).startswith("skaffold/"):
            continue
        sections = [d, *(p for p in d.get("profiles") or () if isinstance(p, dict))] \
            if isinstance(d.get("profiles") or [], list) else [d]
        for section in sections:
            build = section.get("build")
            arts = build.get("artifacts") if isinstance(build, dict) else None
            for art in arts if isinstance(arts, list) else ():
                image = art.get("image") if isinstance(art, dict) else None
                if isinstance(image, str):
                    name = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
                    out += _build(doc, name, art.get("context", "."),
                                  getattr(art, "line", 1) or 1, "skaffold")
    return out[:200]


def _build(doc: Document, name: Any, context: Any, line: Any,
           source: str) -> list[dict[str, Any]]:
    """A build context's record, when it is a folder below the root of this repository."""
    if not isinstance(name, str) or not name or not isinstance(context, str) or \
            not context.strip() or "://" in context or context.startswith(("git@", "/")) or \
            "$" in context or "{{" in context:
        return []
    folder = posixpath.normpath(posixpath.join(doc.dir, context.strip()))
    if folder in (".", "") or folder.startswith(".."):
        return []
    return [{"name": name, "dir": folder, "file": doc.path, "line": int(line or 1),
             "source": source}]


def _built(builds: list[dict[str, Any]], records: list[dict[str, Any]],
           repo: RepoContext) -> list[dict[str, Any]]:
    """Components from Skaffold and compose build contexts (Skaffold's first) that no other
    source found: an existing folder,
    not a support folder, neither inside nor above another component's folder; the first
    service (by file and line) built from a folder names it, a name taken already prefixed
    with its compose project (`angular-web`: the compose file's folder, as Compose names
    containers), else the folder's own name."""
    others = [r["path"] for r in records]
    names = {r["name"] for r in records}
    out: dict[str, dict[str, Any]] = {}
    builds = sorted(builds, key=lambda b: (SOURCES.index(b.get("source", "compose")),
                                           b["file"], b["line"]))
    for b in builds[:MAX_BUILDS]:
        folder = b["dir"]
        if folder in out or folder.split("/", 1)[0].lower() in SUPPORT or \
                not repo.view.has_dir(folder) or any(
                    o == "." or o == folder or folder.startswith(o + "/") or
                    o.startswith(folder + "/") for o in others):
            continue
        name = b["name"]
        if name in names:
            project = posixpath.basename(posixpath.dirname(b["file"]))
            name = f"{project}-{name}" if project else posixpath.basename(folder)
        names.add(name)
        out[folder] = _record(name, folder, b.get("source", "compose"), b["file"], b["line"])
    return list(out.values())


def _signals(records: list[dict[str, Any]]) -> Iterator[Signal]:
    """One signal per folder: the most explicit source names it; a Kubify config at the same
    folder adds what it depends on, a catalog entry its owner and type."""
    by_path: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_path.setdefault(r["path"], []).append(r)
    for path in sorted(by_path):
        found = sorted(by_path[path], key=lambda r: (SOURCES.index(r["source"]), r["file"],
                                                      r["line"]))
        rec = dict(found[0])
        for other in found[1:]:
            for key in ("owner", "type"):
                rec[key] = rec[key] or other[key]
            if not rec["depends_on"]:
                rec["depends_on"] = other["depends_on"]
        kubify = any(r["source"] == "kubify" for r in found)
        yield signal("component", rec["file"], rec["line"],
                     f"component {rec['name']} ({rec['source']}) at {rec['path']}",
                     components=[rec], names=[rec["name"]], count=1,
                     without_kubify=[] if kubify else [rec["name"]])


def _folder_named(doc: Document, name: str) -> str:
    """The folder of a component listed with others in one catalog and no source location:
    `<root>/<name>` under a services root beside the catalog, else `<name>` itself, else the
    catalog's own folder."""
    for rel in (*(f"{r}/{name}" for r in (*ROOTS, *IMAGE_ROOTS)), name):
        folder = posixpath.normpath(posixpath.join(doc.dir, rel))
        if not folder.startswith("..") and doc.repo.has_dir(folder):
            return folder
    return doc.dir


def _source_location(folder: str, value: Any) -> str:
    """The repository folder a `backstage.io/source-location` names, or `folder` (the catalog
    file's) when it names none inside the repository."""
    if not isinstance(value, str):
        return folder
    target, kind_ = value.strip(), ""
    if ":" in target:
        kind_, target = target.split(":", 1)
    if kind_ == "url":
        m = _TREE.search(target)
        if not m:
            return folder
        target = m.group(1)
    elif kind_ == "dir":
        target = posixpath.join(folder, target)
    else:
        return folder
    target = posixpath.normpath(target.split("?", 1)[0].rstrip("/") or ".")
    if target.startswith("..") or target.startswith("/"):
        return folder
    return "" if target == "." else target


def _has_start(doc: Document) -> bool:
    data = doc.json
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return isinstance(scripts, dict) and isinstance(scripts.get("start"), str)


DETECTOR = ComponentsDetector()
