"""Pull request (GitHub) and merge request (GitLab) templates where the platforms read them."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

NAME = "{pull_request_template,PULL_REQUEST_TEMPLATE}"


class PrTemplateDetector:
    id = "pr_template"
    description = "Pull / merge request templates (.github/, docs/, root, .gitlab/)"
    kinds = {"pr_template": kind("Pull requests start from a template",
                                 templates="count", checklist="flag")}
    patterns = (f"/{NAME}.md", f".github/{NAME}.md", f"docs/{NAME}.md",
                f"/{NAME}/*.md", f".github/{NAME}/*.md", f"docs/{NAME}/*.md",
                ".gitlab/merge_request_templates/*.md")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if not doc.text.strip():
            return
        box = doc.line_of(r"^\s*[-*] \[[ xX]\]")
        yield signal("pr_template", doc.path, box or 1,
                     "template with a checklist" if box else "template",
                     templates=1, checklist=bool(box))


DETECTOR = PrTemplateDetector()
