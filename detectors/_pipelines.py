"""Shared by the CI-system detectors other than GitHub Actions (GitLab CI, Jenkins, CircleCI,
Azure Pipelines, Bitbucket Pipelines): the same structural reading of tests and deploys."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from maturity_scan.sdk import Signal, ci, signal

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
            test = ci.runs(step.run, ci.TESTS) if step.run else ""
            if test or _task_tests(step):
                yield signal(p.system, p.path, step.line,
                             f"job {job.id} runs {test or step.uses}", runs_tests=True)
            deploy = ci.runs(step.run, ci.DEPLOYS) if step.run else ""
            if deploy or (step.uses and DEPLOY_STEPS.search(step.uses)):
                yield signal(p.system, p.path, step.line,
                             f"job {job.id} deploys ({deploy or step.uses})", deploys=True)
