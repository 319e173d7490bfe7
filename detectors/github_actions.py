"""GitHub Actions: the workflows under the root `.github/workflows/`, read as jobs and steps.

What a workflow does is read from its structure (maturity_scan.sdk.ci): a step that runs `pytest`
runs tests; a step that echoes "pytest" or a comment that mentions it does not.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.sdk import Document, Signal, ci, kind, shell, signal

DEPLOY_ACTIONS = ("azure/webapps-deploy", "azure/k8s-deploy", "azure/functions-action",
                  "aws-actions/amazon-ecs-deploy-task-definition", "aws-actions/aws-cloudformation-github-deploy",
                  "google-github-actions/deploy-cloudrun", "google-github-actions/deploy-appengine",
                  "google-github-actions/deploy-cloud-functions", "superfly/flyctl-actions",
                  "amondnet/vercel-action", "cloudflare/wrangler-action", "serverless/github-action",
                  "pulumi/actions", "akhileshns/heroku-deploy", "digitalocean/app_action")
# Environments that publish packages or pages rather than deploy a running system.
PUBLISH_ENVIRONMENTS = re.compile(r"^(github-pages|pages|pypi|testpypi|npm|release|releases|"
                                  r"publish|crates(\.io)?|rubygems|maven|docs)$", re.I)
SCANNERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # name -> (actions, programs)
    "trivy": (("aquasecurity/trivy-action",), ("trivy",)),
    "codeql": (("github/codeql-action/init", "github/codeql-action/analyze"), ("codeql",)),
    "semgrep": (("returntocorp/semgrep-action", "semgrep/semgrep-action"), ("semgrep",)),
    "snyk": (("snyk/actions",), ("snyk",)),
    "sonar": (("sonarsource/sonarqube-scan-action", "sonarsource/sonarcloud-github-action"),
              ("sonar-scanner",)),
    "gitleaks": (("gitleaks/gitleaks-action",), ("gitleaks",)),
    "trufflehog": (("trufflesecurity/trufflehog",), ("trufflehog",)),
    "checkov": (("bridgecrewio/checkov-action",), ("checkov",)),
    "tfsec": (("aquasecurity/tfsec-action", "aquasecurity/tfsec-sarif-action"), ("tfsec",)),
    "kics": (("checkmarx/kics-github-action",), ("kics",)),
    "grype": (("anchore/scan-action",), ("grype",)),
    "scorecard": (("ossf/scorecard-action",), ()),
    "zap": (("zaproxy/action-baseline", "zaproxy/action-full-scan", "zaproxy/action-api-scan"), ()),
    "osv-scanner": (("google/osv-scanner-action",), ("osv-scanner",)),
    "dependency-review": (("actions/dependency-review-action",), ()),
    "bandit": ((), ("bandit",)), "gosec": (("securego/gosec",), ("gosec",)),
}
IAC_CHECKS = {"terraform": ("fmt", "validate", "plan"), "tofu": ("fmt", "validate", "plan"),
              "terragrunt": ("plan", "validate", "hclfmt"), "tflint": (), "helm": ("lint",),
              "kubeconform": (), "kubeval": (), "conftest": ("test",)}
CLUSTER_ACTIONS = ("helm/kind-action", "absaoss/k3d-action", "medyagh/setup-minikube",
                   "nolar/setup-k3d-k3s", "container-tools/kind-action")
CLUSTER_COMMANDS = {"kind": ("create",), "k3d": ("cluster",), "minikube": ("start",),
                    "ctlptl": ("create",)}
_SHA = re.compile(r"^[0-9a-f]{40}$")
# Stated false on every workflow so a report says "no" rather than nothing.
FLAGS = ("runs_tests", "tests_on_pull_request", "builds_images", "publishes_images", "deploys",
         "iac_checks", "service_containers", "compose_in_ci", "cluster_in_ci", "scheduled_tests",
         "scheduled_scans", "drift_detection", "reusable_workflows")


def _pinned(uses: str) -> bool | None:
    """None for a step without `uses`; local actions and digests count as pinned."""
    if not uses:
        return None
    if uses.startswith("./") or uses.startswith("docker://"):
        return not uses.startswith("docker://") or "@sha256:" in uses
    return bool(_SHA.match(uses.rsplit("@", 1)[1])) if "@" in uses else False


def _scanners(step: ci.Step) -> set[str]:
    found = set()
    for name, (actions, programs) in SCANNERS.items():
        if any(step.action == a or step.action.startswith(a + "/") for a in actions):
            found.add(name)
        elif step.run and any(shell.invokes(step.run, p) for p in programs):
            found.add(name)
    return found


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() not in ("false", ""))


class GitHubActionsDetector:
    id = "github_actions"
    description = "GitHub Actions workflows (root .github/workflows), read as jobs and steps"
    kinds = {"github_actions": kind(
        "CI/CD pipelines on GitHub Actions",
        workflows="count", triggers="set", runs_tests="flag", tests_on_pull_request="flag",
        builds_images="flag", publishes_images="flag", deploys="flag",
        deploy_environments="set", iac_checks="flag", service_containers="flag",
        compose_in_ci="flag", cluster_in_ci="flag", scheduled_tests="flag",
        scheduled_scans="flag", drift_detection="flag", actions_pinned_sha="count",
        actions_unpinned="count", workflows_without_permissions="count",
        reusable_workflows="flag", scanners="set",
    )}
    patterns = ci.GITHUB_WORKFLOWS

    def analyze(self, doc: Document) -> Iterable[Signal]:
        wf = ci.pipeline(doc)
        if wf is None:
            return
        yield from _workflow(doc, wf)


def _workflow(doc: Document, wf: ci.Pipeline) -> Iterator[Signal]:
    raw = wf.raw if isinstance(wf.raw, dict) else {}
    triggers = set(wf.triggers)
    on_pr = bool(triggers & {"pull_request", "pull_request_target", "merge_group"})
    scheduled = "schedule" in triggers
    name = raw.get("name") if isinstance(raw.get("name"), str) else doc.path.rsplit("/", 1)[-1]
    permissions = "permissions" in raw or (
        bool(wf.jobs) and all(isinstance(j.raw, dict) and "permissions" in j.raw for j in wf.jobs))
    pinned = unpinned = 0
    for job in wf.jobs:
        for uses in [job.uses, *(s.uses for s in job.steps)]:
            state = _pinned(uses)
            pinned += state is True
            unpinned += state is False
    yield signal("github_actions", doc.path, 1,
                 f"workflow {name}: on {', '.join(sorted(triggers)) or '?'}",
                 **dict.fromkeys(FLAGS, False),
                 workflows=1, triggers=sorted(triggers), actions_pinned_sha=pinned,
                 actions_unpinned=unpinned,
                 workflows_without_permissions=0 if permissions else 1)
    for job in wf.jobs:
        if job.uses:
            yield signal("github_actions", doc.path, job.line,
                         f"job {job.id} -> reusable workflow {job.uses.split('@')[0]}",
                         reusable_workflows=True)
        if job.services:
            yield signal("github_actions", doc.path, job.line,
                         f"job {job.id}: service containers", service_containers=True)
        env = job.environment
        if env and "${{" not in env and not PUBLISH_ENVIRONMENTS.match(env):
            yield signal("github_actions", doc.path, job.line,
                         f"job {job.id} -> environment {env}", deploys=True,
                         deploy_environments=[env])
        for step in job.steps:
            yield from _step(doc, job, step, on_pr, scheduled)


def _step(doc: Document, job: ci.Job, step: ci.Step, on_pr: bool,
          scheduled: bool) -> Iterator[Signal]:
    where = f"job {job.id}"
    run = step.run
    test = shell.runs(run, shell.TESTS) if run else ""
    if test:
        yield signal("github_actions", doc.path, step.line, f"{where} runs {test}",
                     runs_tests=True, tests_on_pull_request=on_pr, scheduled_tests=scheduled)
    deploy = shell.runs(run, shell.DEPLOYS) if run else ""
    if deploy or any(step.action.startswith(a) for a in DEPLOY_ACTIONS):
        yield signal("github_actions", doc.path, step.line,
                     f"{where} deploys ({deploy or step.action})", deploys=True)
    builds = step.action == "docker/build-push-action" or any(
        w[0] in ("docker", "podman", "buildah") and ("build" in w[1:3] or "bud" in w[1:2])
        or w[0] == "ko" and w[1:2] in (["build"], ["publish"]) for w in shell.commands(run))
    pushes = (step.action == "docker/build-push-action" and _truthy(step.inputs.get("push"))) or \
        any(w[0] in ("docker", "podman") and ("push" in w[1:2] or "--push" in w)
            for w in shell.commands(run))
    if builds or pushes:
        yield signal("github_actions", doc.path, step.line,
                     f"{where} {'builds and pushes' if pushes else 'builds'} an image",
                     builds_images=builds, publishes_images=pushes)
    iac = shell.runs(run, IAC_CHECKS) if run else ""
    if iac:
        drift = scheduled and (iac.startswith(("terraform plan", "tofu plan")) and
                               "-detailed-exitcode" in run)
        yield signal("github_actions", doc.path, step.line, f"{where} checks IaC ({iac})",
                     iac_checks=True, drift_detection=drift)
    if run and (shell.invokes(run, "driftctl", "scan") and scheduled):
        yield signal("github_actions", doc.path, step.line, f"{where} detects drift",
                     drift_detection=True)
    if any(w[0] in ("docker-compose", "docker") and ("up" in w[1:3] or "run" in w[1:3])
           and (w[0] == "docker-compose" or w[1] == "compose") for w in shell.commands(run)):
        yield signal("github_actions", doc.path, step.line, f"{where} starts docker compose",
                     compose_in_ci=True)
    if step.action in CLUSTER_ACTIONS or (run and shell.runs(run, CLUSTER_COMMANDS)):
        yield signal("github_actions", doc.path, step.line, f"{where} starts a cluster",
                     cluster_in_ci=True)
    scanners = _scanners(step)
    if scanners:
        yield signal("github_actions", doc.path, step.line,
                     f"{where} scans with {', '.join(sorted(scanners))}",
                     scanners=sorted(scanners), scheduled_scans=scheduled)


DETECTOR = GitHubActionsDetector()
