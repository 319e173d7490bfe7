"""CODEOWNERS where GitHub and GitLab read it: the root, `.github/`, `docs/` (and GitLab's
`.gitlab/`, whose owners may be nested groups and whose `[Section] @owners` give the patterns
below them default owners). A nested copy elsewhere is read by nothing."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

# @user, @org/team, GitLab's @group/subgroup/…, an e-mail; bare names too (invalid for GitHub,
# but the file still declares ownership and a person reading it sees whose code it is)
_OWNER = re.compile(r"^(@?[\w.-]+(/[\w.-]+)*|[^@\s]+@[^@\s]+\.\w+)$")
# a GitLab section header, optionally with default owners: `[Documentation][2] @docs-team`
_SECTION = re.compile(r"^\s*\^?\[[^\]]+\](?:\[\d+\])?(.*)$")


class CodeownersDetector:
    id = "codeowners"
    description = "CODEOWNERS at the root, .github/, docs/ or .gitlab/"
    kinds = {"codeowners": kind("Code ownership declared for review routing",
                                rules="count", owners="count")}
    patterns = ("/CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        rules, owners, first = 0, set(), 0
        defaults: list[str] = []  # the current GitLab section's default owners
        for i, line in enumerate(doc.lines, 1):
            text = line.split("#", 1)[0]
            section = _SECTION.match(text)
            if section:
                defaults = [w for w in section.group(1).split() if _OWNER.match(w)]
                continue
            words = text.split()
            if not words or len(words) < 2 and not defaults:
                continue  # a comment, or a pattern without owners and no section default
            named = [w for w in words[1:] if _OWNER.match(w)] or defaults
            if named:
                rules += 1
                owners.update(named)
                first = first or i
        if rules:
            yield signal("codeowners", doc.path, first, f"{rules} ownership rules",
                         rules=rules, owners=len(owners))


DETECTOR = CodeownersDetector()
