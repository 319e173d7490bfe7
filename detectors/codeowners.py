"""CODEOWNERS where GitHub and GitLab read it: the root, `.github/`, `docs/` (and GitLab's
`.gitlab/`). A nested copy elsewhere is read by nothing."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

# @user, @org/team, an e-mail; bare names too (invalid for GitHub, but the file still declares
# ownership and a person reading it sees whose code it is)
_OWNER = re.compile(r"^(@?[\w.-]+(/[\w.-]+)?|[^@\s]+@[^@\s]+\.\w+)$")


class CodeownersDetector:
    id = "codeowners"
    description = "CODEOWNERS at the root, .github/, docs/ or .gitlab/"
    kinds = {"codeowners": kind("Code ownership declared for review routing",
                                rules="count", owners="count")}
    patterns = ("/CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        rules, owners, first = 0, set(), 0
        for i, line in enumerate(doc.lines, 1):
            words = line.split("#", 1)[0].split()
            if len(words) < 2 or words[0].startswith("["):
                continue  # a comment, a pattern without owners or a GitLab [Section]
            named = [w for w in words[1:] if _OWNER.match(w)]
            if named:
                rules += 1
                owners.update(named)
                first = first or i
        if rules:
            yield signal("codeowners", doc.path, first, f"{rules} ownership rules",
                         rules=rules, owners=len(owners))


DETECTOR = CodeownersDetector()
