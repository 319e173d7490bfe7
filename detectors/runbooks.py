"""Operational documents: runbooks, postmortem templates, on-call guides."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

POSTMORTEM = re.compile(r"post[-_ ]?mortem|incident[-_ ]review", re.I)


class RunbooksDetector:
    id = "runbooks"
    description = "Runbooks, postmortem templates and on-call docs"
    kinds = {"runbooks": kind("Operations are documented", documents="count",
                              postmortem_template="flag")}
    patterns = ("**/{runbooks,runbook,playbooks,on-call,oncall,postmortems}/**/*.{md,rst,adoc}",
                "*{runbook,Runbook,RUNBOOK}*.{md,rst,adoc}",
                "*{postmortem,post-mortem,Postmortem,POSTMORTEM}*.{md,rst,adoc}",
                "*{on-call,oncall,OnCall,ONCALL}*.{md,rst,adoc}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if "/playbooks/" in f"/{doc.path}" and not re.search(r"incident|outage|alert|on-?call",
                                                           doc.text, re.I):
            return  # "playbooks" folders also hold Ansible docs
        if doc.text.strip():
            yield signal("runbooks", doc.path, 1, f"operations doc {doc.name}", documents=1,
                         postmortem_template=bool(POSTMORTEM.search(doc.path)))


DETECTOR = RunbooksDetector()
