"""A documentation site: MkDocs, Sphinx, Docusaurus, Antora, mdBook, VitePress, Read the Docs,
or a docs/ folder with several pages."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from maturity_scan.sdk import Document, RepoContext, Signal, kind, signal

CONFIGS = {"mkdocs.yml": "mkdocs", "mkdocs.yaml": "mkdocs", "antora.yml": "antora",
           "book.toml": "mdbook", ".readthedocs.yml": "readthedocs",
           ".readthedocs.yaml": "readthedocs", "conf.py": "sphinx"}
PAGES = ("docs/**/*.{md,mdx,rst,adoc}", "doc/**/*.{md,mdx,rst,adoc}")
MIN_PAGES = 3


class DocsSiteDetector:
    id = "docs_site"
    description = "Documentation sites (MkDocs, Sphinx, Docusaurus, Antora, mdBook, a docs/ folder)"
    kinds = {"docs_site": kind("Documentation published as a site or a docs folder",
                               tools="set", pages="count")}
    patterns = ("mkdocs.y{a,}ml", "antora.yml", "book.toml", "/.readthedocs.y{a,}ml",
                "{docs,doc,documentation}/conf.py", "{docs,doc,documentation}/source/conf.py",
                "docusaurus.config.{js,ts,mjs,cjs}", "**/.vitepress/config.{js,ts,mjs,mts}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        tool = CONFIGS.get(doc.name)
        if doc.name.startswith("docusaurus.config"):
            tool = "docusaurus"
        elif doc.name.startswith("config.") and "/.vitepress/" in f"/{doc.path}":
            tool = "vitepress"
        if tool == "sphinx" and not any(w in doc.text for w in ("extensions", "html_theme",
                                                                "sphinx", "project =")):
            return  # a conf.py that is not Sphinx's
        if tool == "mkdocs" and "site_name" not in doc.text:
            return
        if tool == "book.toml" and "[book]" not in doc.text:
            return
        if tool and doc.text.strip():
            yield signal("docs_site", doc.path, 1, f"{tool} configuration", tools=[tool])

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        yield from found
        pages = repo.view.glob(*PAGES)
        if len(pages) >= MIN_PAGES:
            yield signal("docs_site", pages[0].split("/", 1)[0] + "/", None,
                         f"{len(pages)} documentation pages", pages=len(pages))


DETECTOR = DocsSiteDetector()
