"""Snyk: the `.snyk` policy file and Snyk run in CI (snyk/actions/*, `snyk test|monitor|...`,
the snyk/snyk image)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, find

SCANS = {"test", "monitor", "container", "iac", "code", "sbom", "ignore"}
IMAGES = ("snyk/snyk",)


class SnykDetector:
    id = "snyk"
    description = "Snyk: .snyk policy files and Snyk scans in CI"
    kinds = {"snyk": kind("Dependency / container / IaC scanning with Snyk",
                          in_ci="flag", products="set")}
    patterns = (*CI_FILES, ".snyk")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name == ".snyk":
            policy = doc.yaml
            if policy is None or isinstance(policy, dict):
                yield signal("snyk", doc.path, 1, "Snyk policy file")
            return
        for hit in find(doc, actions=("snyk/actions/",), programs=("snyk",), images=IMAGES):
            if hit.via == "run":
                args = [w for w in hit.words[1:] if not w.startswith("-")]
                if not args or args[0] not in SCANS:
                    continue  # `snyk auth`, `snyk --version`
                product = {"test": "open-source", "monitor": "open-source"}.get(args[0], args[0])
                if product == "ignore":
                    continue
                yield signal("snyk", doc.path, hit.line, f"job {hit.job.id} runs snyk {args[0]}",
                             in_ci=True, products=[product])
            else:
                action = hit.step.action
                sub = action.split("/")[2] if action.count("/") >= 2 else ""
                if sub == "setup":
                    continue  # installs the CLI: the scan is a later `snyk …` step
                cmd = str(hit.inputs.get("command") or "test").split()
                product = "container" if sub == "docker" else "iac" if cmd[:1] == ["iac"] \
                    else "code" if cmd[:1] == ["code"] else "open-source"
                yield signal("snyk", doc.path, hit.line, f"job {hit.job.id} uses {action}",
                             in_ci=True, products=[product])


DETECTOR = SnykDetector()
