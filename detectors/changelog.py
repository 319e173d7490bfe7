"""A changelog (CHANGELOG, CHANGES, HISTORY, NEWS, release notes) at the root or in docs/, or,
in a monorepo, one per package (`packages/*/CHANGELOG.md`, as changesets and lerna write them;
also `apps/`, `libs/`, `crates/`, `modules/`, `plugins/`, `services/`)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.detectors._headings import headings
from maturity_scan.sdk import Document, Signal, kind, signal

NAMES = ("{CHANGELOG,Changelog,changelog,CHANGES,Changes,changes,HISTORY,History,history,NEWS,"
         "News,RELEASE_NOTES,RELEASE-NOTES,RELEASES,ReleaseNotes}")
EXT = "{,.md,.markdown,.rst,.txt,.adoc}"
VERSION = re.compile(r"\bv?\d+\.\d+(\.\d+)?\b")
PACKAGES = "{packages,apps,libs,crates,modules,plugins,services}"  # a monorepo's package folders


class ChangelogDetector:
    id = "changelog"
    description = "A changelog or release notes at the root, in docs/ or per monorepo package"
    kinds = {"changelog": kind("Changes recorded per release", versions="count")}
    patterns = (f"/{NAMES}{EXT}", f"docs/{NAMES}{EXT}", f"/{PACKAGES}/*/{NAMES}{EXT}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if not doc.text.strip():
            return
        versions = [(line, t) for line, t in headings(doc.lines) if VERSION.search(t)]
        line = versions[0][0] if versions else 1
        yield signal("changelog", doc.path, line,
                     f"{len(versions)} versions" if versions else "changelog",
                     versions=len(versions))


DETECTOR = ChangelogDetector()
