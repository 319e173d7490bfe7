"""What kind of repository this is (library, CLI, service, operator, infrastructure, GitOps
config, examples collection, docs site), inferred from its manifests and its layout, so that
packs can say a dimension or a requirement does not apply (`applies_to`): a library has no
deployment, an operator needs no Terraform.

`analyze` reads package manifests (entry points, web frameworks, controller-runtime);
`conclude` combines what they said with the paths the repository lists. Every archetype
comes with the evidence that made it; none found means none is claimed (then everything
applies). The facts: `types` (the archetypes) and `stacks` (python, go, node, rust, java,
ruby), which hints can be tailored to."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from maturity_scan.sdk import Document, Evidence, ParseError, RepoContext, Signal, kind

MANIFESTS = {"pyproject.toml": "python", "setup.py": "python", "setup.cfg": "python",
             "package.json": "node", "go.mod": "go", "Cargo.toml": "rust", "pom.xml": "java",
             "build.gradle": "java", "build.gradle.kts": "java", "Gemfile": "ruby"}
EXTENSIONS = {"py": "python", "go": "go", "rs": "rust", "java": "java", "kt": "java",
              "rb": "ruby", "js": "node", "ts": "node"}
WEB_PY = re.compile(r"""["'\s](django|flask|fastapi|uvicorn|gunicorn|starlette|aiohttp|tornado)\b""",
                    re.I)
WEB_NODE = ("express", "fastify", "koa", "@nestjs/core", "next", "@hapi/hapi")
WEB_GO = re.compile(r"github\.com/(gin-gonic/gin|labstack/echo|gofiber/fiber|gorilla/mux|"
                    r"go-chi/chi)|google\.golang\.org/grpc")
CONTROLLER_GO = re.compile(r"sigs\.k8s\.io/controller-runtime|github\.com/operator-framework/")
DEPLOY = ("**/Chart.yaml", "**/docker-compose*.y{a,}ml", "**/compose.y{a,}ml", "Procfile",
          "**/serverless.y{a,}ml", "app.yaml", "fly.toml", "**/kubify.yaml", "**/skaffold.yaml",
          "{k8s,kubernetes,deploy,manifests}/**/*.y{a,}ml")
DOCKERFILES = ("**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile")
CODE = ("**/*.{py,go,js,ts,rs,java,rb,kt,cs}",)
DOCS = ("mkdocs.y{a,}ml", "docusaurus.config.{js,ts,mjs,cjs}", "antora.yml", "book.toml",
        "{docs,doc}/conf.py", "**/.vitepress/config.{js,ts,mjs,mts}")
GITOPS = ("**/flux-system/**", "clusters/**/*.y{a,}ml", "**/argocd/**/*.y{a,}ml",
          "**/applicationset*.y{a,}ml", "**/kustomization.y{a,}ml")
MIN_EXAMPLES = 3


def _hint(path: str, detail: str, **facts: Any) -> Signal:
    return Signal("archetype", (Evidence(path, 1, detail, frozenset(facts)),), facts)


class ArchetypeDetector:
    id = "archetype"
    description = ("Repository archetypes (library, CLI, service, operator, IaC, GitOps config, "
                   "examples, docs) from manifests and layout")
    kinds = {"archetype": kind("What kind of repository this is, so packs know what applies",
                               types="set", stacks="set",
                               # what one manifest said, combined by `conclude` into types
                               operator="flag", cli="flag", web="flag", package="flag")}
    patterns = ("/pyproject.toml", "/setup.py", "/setup.cfg", "/package.json", "/go.mod",
                "/Cargo.toml", "/PROJECT")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        """What one manifest says. A manifest that does not parse says nothing here: the
        detectors that own the file report it (an archetype is a side reading)."""
        try:
            yield from self._analyze(doc)
        except ParseError:
            return

    def _analyze(self, doc: Document) -> Iterable[Signal]:
        text = doc.text
        if doc.name == "PROJECT":
            if "kubebuilder" in text or "operator-sdk" in text or "layout:" in text:
                yield _hint(doc.path, "kubebuilder / operator-sdk project", operator=True)
            return
        if doc.name == "pyproject.toml":
            data = doc.toml
            project = data.get("project") if isinstance(data.get("project"), dict) else {}
            poetry = (data.get("tool") or {}).get("poetry") if isinstance(data.get("tool"), dict) \
                else None
            poetry = poetry if isinstance(poetry, dict) else {}
            if project.get("scripts") or poetry.get("scripts"):
                yield _hint(doc.path, "pyproject.toml declares console scripts", cli=True)
            if WEB_PY.search(text):
                yield _hint(doc.path, "depends on a web framework", web=True)
            if project.get("name") or poetry.get("name"):
                yield _hint(doc.path, "a Python package", package=True)
            return
        if doc.name in ("setup.py", "setup.cfg"):
            if "console_scripts" in text:
                yield _hint(doc.path, f"{doc.name} declares console scripts", cli=True)
            if WEB_PY.search(text):
                yield _hint(doc.path, "depends on a web framework", web=True)
            if "name" in text:
                yield _hint(doc.path, "a Python package", package=True)
            return
        if doc.name == "package.json":
            data = doc.json
            if not isinstance(data, dict):
                return
            deps = {**(data.get("dependencies") or {})} if isinstance(data.get("dependencies"),
                                                                      dict) else {}
            if data.get("bin"):
                yield _hint(doc.path, "package.json declares bin", cli=True)
            if any(d in deps for d in WEB_NODE):
                yield _hint(doc.path, "depends on a web framework", web=True)
            if not data.get("private") and (data.get("main") or data.get("exports")
                                            or data.get("module")):
                yield _hint(doc.path, "a published npm package", package=True)
            return
        if doc.name == "go.mod":
            if CONTROLLER_GO.search(text):
                yield _hint(doc.path, "requires controller-runtime", operator=True)
            if WEB_GO.search(text):
                yield _hint(doc.path, "depends on a web / gRPC framework", web=True)
            if text.lstrip().startswith("module") or "\nmodule " in text:
                yield _hint(doc.path, "a Go module", package=True)
            return
        if doc.name == "Cargo.toml":
            data = doc.toml
            if data.get("bin"):
                yield _hint(doc.path, "Cargo.toml declares binaries", cli=True)
            if isinstance(data.get("package"), dict):
                yield _hint(doc.path, "a Rust crate", package=True)

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        view = repo.view
        said: dict[str, Evidence] = {}
        for s in found:
            for fact, value in s.facts.items():
                if value:
                    said.setdefault(fact, s.evidence[0])
        stacks = sorted({MANIFESTS[p.rsplit("/", 1)[-1]] for p in view.glob(
            *(f"**/{m}" for m in MANIFESTS)) if "/node_modules/" not in f"/{p}"})
        root_manifests = [m for m in MANIFESTS if view.exists(m)]
        code = view.glob(*CODE)
        stacks = sorted(set(stacks) | {EXTENSIONS[p.rsplit(".", 1)[-1]] for p in code
                                       if p.rsplit(".", 1)[-1] in EXTENSIONS})
        evidence: list[Evidence] = []
        types: list[str] = []

        def claim(archetype: str, path: str, detail: str) -> None:
            if archetype not in types:
                types.append(archetype)
            evidence.append(Evidence(path, None, f"{archetype}: {detail}",
                                     frozenset({"types"})))

        crds = view.glob("config/crd/**/*.y{a,}ml", "**/crds/*.y{a,}ml")
        controllers = view.glob("controllers/**/*.go", "internal/controller/**/*.go",
                                "pkg/controller/**/*.go")
        if "operator" in said:
            claim("operator", said["operator"].path, said["operator"].detail)
        elif crds and controllers:
            claim("operator", controllers[0], "controller code with its CRDs")

        tf = view.glob("**/*.tf")
        root_module = view.glob("/*.tf")
        if tf and not root_manifests and not code_outside(code, ("examples/", "test/", "tests/")):
            claim("infrastructure", (root_module or tf)[0],
                  f"{len(tf)} Terraform files and no application code")

        gitops = view.glob(*GITOPS)
        if gitops and not code and not root_manifests and (
                len(gitops) >= 2 or any("flux-system" in p for p in gitops)):
            claim("gitops", gitops[0], "Kubernetes configuration for reconciliation, no code")

        examples = sorted({p.split("/")[1] for p in view.glob("examples/*/**")
                           if p.count("/") >= 2})
        # a Terraform module at the root with examples/ of its use is the module, not a collection
        if len(examples) >= MIN_EXAMPLES and not root_manifests and not root_module:
            claim("examples", "examples/", f"{len(examples)} example projects")
        else:
            tops = sorted({p.split("/", 1)[0] for p in view.glob(
                *(f"*/{m}" for m in MANIFESTS), "*/Dockerfile", "*/main.tf")})
            if len(tops) >= MIN_EXAMPLES and not root_manifests and not view.exists("Dockerfile") \
                    and "infrastructure" not in types:
                claim("examples", tops[0] + "/", f"{len(tops)} self-contained projects side by "
                      "side")

        docs = view.glob(*DOCS)
        # a docs site is little else: a Terraform module with an mkdocs site is infrastructure
        if docs and len(code) <= 3 and set(root_manifests) <= {"package.json"} and \
                "infrastructure" not in types and not root_module:
            claim("docs", docs[0], "a documentation site and little code")

        settled = {"operator", "gitops", "examples", "docs", "infrastructure"} & set(types)
        if not settled:
            dockerfiles = view.glob(*DOCKERFILES)
            deploy = view.glob(*DEPLOY)
            if "web" in said and (dockerfiles or deploy):
                claim("service", said["web"].path, said["web"].detail + ", shipped as "
                      f"{(dockerfiles or deploy)[0]}")
            elif dockerfiles and deploy:
                claim("service", deploy[0], f"deployed ({deploy[0]}) from {dockerfiles[0]}")
            elif "web" in said:
                claim("service", said["web"].path, said["web"].detail)
            elif deploy and code and "package" not in said:
                claim("service", deploy[0], f"application code deployed with {deploy[0]}")
            if "cli" in said:
                claim("cli", said["cli"].path, said["cli"].detail)
            elif view.glob("cmd/*/main.go") and "service" not in types:
                claim("cli", view.glob("cmd/*/main.go")[0], "a Go command")
            if "package" in said and "service" not in types:
                claim("library", said["package"].path, said["package"].detail)
        if types:
            yield Signal("archetype", tuple(evidence), {"types": types, "stacks": stacks})


def code_outside(code: Sequence[str], prefixes: Sequence[str]) -> bool:
    return any(not any(p.startswith(x) or f"/{x}" in p for x in prefixes) for p in code)


DETECTOR = ArchetypeDetector()
