"""Dependabot version updates: `.github/dependabot.yml` (only the root `.github/` is read by
GitHub), with the ecosystems it updates."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal


class DependabotDetector:
    id = "dependabot"
    description = "Dependabot version updates (.github/dependabot.yml) and their ecosystems"
    kinds = {"dependabot": kind("Dependencies are updated automatically by Dependabot",
                                ecosystems="set", updates="count", grouped="flag")}
    patterns = (".github/dependabot.y{a,}ml",)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        cfg = doc.yaml
        if not isinstance(cfg, dict) or not isinstance(cfg.get("updates"), list):
            return
        updates = [u for u in cfg["updates"] if isinstance(u, dict)]
        if not updates:
            return
        for u in updates:
            eco = u.get("package-ecosystem")
            if isinstance(eco, str) and eco:
                d = u.get("directory", u.get("directories", "/"))
                where = d if isinstance(d, str) else ",".join(map(str, d)) \
                    if isinstance(d, list) else "/"
                yield signal("dependabot", doc.path, u.line_of("package-ecosystem"),
                             f"{eco} in {where}", ecosystems=[eco.lower()], updates=1,
                             grouped=bool(u.get("groups")))
        yield signal("dependabot", doc.path, cfg.line_of("updates"),
                     f"{len(updates)} update configuration(s)")


DETECTOR = DependabotDetector()
