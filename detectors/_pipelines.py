"""Shared by the CI-system detectors other than GitHub Actions (GitLab CI, Jenkins, CircleCI,
Azure Pipelines, Bitbucket Pipelines): one `PipelineDetector` each, the same structural reading
of jobs, tests, deploys and environments, plus what a system has of its own."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from maturity_scan.sdk import Document, Signal, ci, kind, shell, signal

FACTS: dict[str, str] = {"jobs": "count", "runs_tests": "flag", "deploys": "flag",
                         "environments": "set"}
# Tasks and orbs that run tests or deploy, for systems whose steps name them (Azure, CircleCI).
TEST_STEPS = re.compile(r"^(VSTest|DotNetCoreCLI|Maven|Gradle|Npm|PublishTestResults)@|"
                        r"(^|/)(test|run-tests|python/test|node/test)$", re.I)
DEPLOY_STEPS = re.compile(r"^(AzureWebApp|AzureRmWebAppDeployment|AzureFunctionApp|"
                          r"KubernetesManifest|HelmDeploy|Kubernetes|AzureContainerApps|"
                          r"TerraformTaskV\d|TerraformCLI)@|(^|/)(deploy|helm-deploy)", re.I)
TEST_INPUTS = re.compile(r"^(test|verify|install|package|check)\b", re.I)


def _task_tests(step: ci.Step) -> bool:
    if not step.uses or not TEST_STEPS.search(step.uses):
        return False
    if step.uses.lower().startswith(("vstest", "publishtestresults")) or "/" in step.uses:
        return True
    goal = step.inputs.get("command") or step.inputs.get("goals") or step.inputs.get("tasks")
    return isinstance(goal, str) and bool(TEST_INPUTS.match(goal))


def signals(p: ci.Pipeline, **facts: Any) -> Iterator[Signal]:
    yield signal(p.system, p.path, 1, f"{p.system.replace('_', ' ')}: {len(p.jobs)} jobs",
                 jobs=len(p.jobs), runs_tests=False, deploys=False, **facts)
    for job in p.jobs:
        env = job.environment
        if env and "$" not in env:
            yield signal(p.system, p.path, job.line, f"job {job.id} -> environment {env}",
                         deploys=True, environments=[env])
        for step in job.steps:
            test = shell.runs(step.run, shell.TESTS) if step.run else ""
            if test or _task_tests(step):
                yield signal(p.system, p.path, step.line,
                             f"job {job.id} runs {test or step.uses}", runs_tests=True)
            deploy = shell.runs(step.run, shell.DEPLOYS) if step.run else ""
            if deploy or (step.uses and DEPLOY_STEPS.search(step.uses)):
                yield signal(p.system, p.path, step.line,
                             f"job {job.id} deploys ({deploy or step.uses})", deploys=True)


class PipelineDetector:
    """The detector of one CI system: its files read as a `ci.Pipeline` (`ci.pipeline` knows
    each system's format) and reported by `signals`; `facts` of the system's own (declared in
    `own_facts`) join the file's signal, `more` adds signals of its own."""

    def __init__(self, system: str, description: str, meaning: str, patterns: Sequence[str], *,
                 own_facts: Mapping[str, str] | None = None,
                 facts: Callable[[ci.Pipeline], dict[str, Any]] | None = None,
                 more: Callable[[Document, ci.Pipeline], Iterable[Signal]] | None = None) -> None:
        self.id = system
        self.description = description
        self.kinds = {system: kind(meaning, **FACTS, **(own_facts or {}))}
        self.patterns = tuple(patterns)
        self._facts = facts
        self._more = more

    def analyze(self, doc: Document) -> Iterable[Signal]:
        p = ci.pipeline(doc)
        if p is None:
            return
        yield from signals(p, **(self._facts(p) if self._facts else {}))
        if self._more:
            yield from self._more(doc, p)
