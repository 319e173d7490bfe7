"""A security policy (`SECURITY.md`, also .rst/.txt/.adoc) where GitHub shows it: the root,
`.github/` or `docs/`. Copies deeper in the tree (vendored packages) are not the project's."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

NAMES = "{SECURITY,Security,security}{,.md,.markdown,.rst,.txt,.adoc}"


class SecurityPolicyDetector:
    id = "security_policy"
    description = "Security policy (SECURITY.md at the root, in .github/ or docs/)"
    kinds = {"security_policy": kind("The project says how to report vulnerabilities",
                                     reporting_contact="flag")}
    patterns = (f"/{NAMES}", f".github/{NAMES}", f"docs/{NAMES}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if not doc.text.strip():
            return  # an empty placeholder says nothing
        contact = doc.line_of(r"(?i)(@[\w-]+\.\w+|security advisor|/security/advisories|"
                              r"report(ing)? (a |security )?vulnerabilit|huntr|hackerone|"
                              r"bug bounty|private vulnerability)")
        if not doc.name.startswith("SECURITY") and doc.line_of(r"(?i)vulnerab") is None:
            return  # docs/security.md about the product's features, not a disclosure policy
        yield signal("security_policy", doc.path, 1, "security policy",
                     reporting_contact=contact is not None)


DETECTOR = SecurityPolicyDetector()
