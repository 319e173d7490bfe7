"""Open Policy Agent: Rego policies (`*.rego` with a `package`), Gatekeeper ConstraintTemplates
and constraints (templates/constraints.gatekeeper.sh), and conftest (`conftest.toml`, or
`conftest` run in a CI workflow). `conftest` is either; `conftest_in_ci` only a CI step that
runs `conftest test`/`verify` (or a conftest action or image): a `conftest.toml` checks nothing
by itself."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from maturity_scan.detectors import _kube as kube
from maturity_scan.detectors._gitops import release_signals
from maturity_scan.sdk import Document, ParseError, Signal, ci, k8s, kind, shell, signal

_PACKAGE = re.compile(r"^\s*package\s+[\w.\[\]\"]+")
GATEKEEPER = ("templates.gatekeeper.sh", "constraints.gatekeeper.sh", "mutations.gatekeeper.sh",
              "config.gatekeeper.sh", "externaldata.gatekeeper.sh", "expansion.gatekeeper.sh")
CI = ci.CI_PATTERNS


class OPADetector:
    id = "opa"
    description = "Open Policy Agent: Rego, Gatekeeper and conftest"
    kinds = {"opa": kind(
        "Policy as code with Open Policy Agent",
        rego_files="count", rego_tests="count", gatekeeper="flag", constraint_templates="count",
        constraints="count", conftest="flag", conftest_in_ci="flag",
    )}
    patterns = ("*.rego", "conftest.toml", "**/*.y{a,}ml", *CI)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name.endswith(".rego"):
            line = doc.line_of(_PACKAGE)
            if line is not None:
                test = doc.name.endswith("_test.rego")
                yield signal("opa", doc.path, line, "rego policy" + (" tests" if test else ""),
                             rego_files=1, rego_tests=int(test))
        elif doc.name == "conftest.toml":
            doc.toml  # must parse to count
            yield signal("opa", doc.path, 1, "conftest configuration", conftest=True)
        else:
            try:
                yield from self._ci(doc)
            except ParseError:
                return  # a generic YAML claim: a broken file is not ours to report
            yield from self._gatekeeper(doc, kube.objects(doc))
            yield from release_signals(doc, "opa", {"gatekeeper": {"gatekeeper": True}})

    @staticmethod
    def _ci(doc: Document) -> Iterator[Signal]:
        pipe = ci.pipeline(doc)
        for job, step in pipe.steps() if pipe else ():
            if shell.invokes(step.run, "conftest", "test", "verify") or \
                    "conftest" in step.action or \
                    step.uses.startswith("docker://openpolicyagent/conftest"):
                yield signal("opa", doc.path, step.line, f"job {job.id} runs conftest",
                             conftest=True, conftest_in_ci=True)

    @staticmethod
    def _gatekeeper(doc: Document, objs: list[k8s.K8sObject]) -> Iterator[Signal]:
        for obj in objs:
            if obj.group not in GATEKEEPER:
                continue
            template = obj.kind == "ConstraintTemplate"
            yield signal("opa", doc.path, obj.line,
                         f"Gatekeeper {obj.kind} {obj.name}".strip(), gatekeeper=True,
                         constraint_templates=int(template),
                         constraints=int(obj.group == "constraints.gatekeeper.sh"))


DETECTOR = OPADetector()
