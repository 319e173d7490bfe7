"""What a CI script's commands mean for the packs, shared by the GitHub Actions detector and
the other CI systems' (`_pipelines`): which environment a command starts (a local cluster, the
compose stack, Kubify), whether a command notifies people (a webhook `curl`, mail, an issue),
and which commands check infrastructure code."""
from __future__ import annotations

import re

from maturity_scan.sdk import shell

# Commands that check infrastructure code (program -> first arguments that count).
IAC_CHECKS: dict[str, tuple[str, ...]] = {
    "terraform": ("fmt", "validate", "plan"), "tofu": ("fmt", "validate", "plan"),
    "terragrunt": ("plan", "validate", "hclfmt"), "tflint": (), "helm": ("lint",),
    "kubeconform": (), "kubeval": (), "conftest": ("test",), "kustomize": ("build",),
    "flux": ("build",)}
CLUSTER_COMMANDS = {"kind": ("create",), "k3d": ("cluster",), "minikube": ("start",),
                    "ctlptl": ("create",)}
WEBHOOK = re.compile(r"hooks\.slack\.com|webhook\.office\.com|discord(app)?\.com/api/webhooks|"
                     r"webhook", re.I)


def compose_command(words: list[str]) -> str:
    """The compose subcommand (`up`, `run` …) of a `docker compose` / `docker-compose` command."""
    if words[0] == "docker-compose":
        rest = words[1:]
    elif words[0] == "docker" and words[1:2] == ["compose"]:
        rest = words[2:]
    else:
        return ""
    return next((w for w in rest if w in ("up", "run", "exec")), "")


def starts(words: list[str]) -> str:
    """The environment a command starts: "compose" (`compose up`), the cluster tool (kind, k3d,
    minikube, ctlptl), "kubify" (`kubify up`), or ""."""
    if compose_command(words) == "up":
        return "compose"
    if shell.runs(" ".join(words), CLUSTER_COMMANDS):
        return words[0]
    return "kubify" if words[0] == "kubify" and words[1:2] == ["up"] else ""


def tests_itself(words: list[str]) -> bool:
    """`compose up --exit-code-from <svc>` / `--abort-on-container-exit`: the stack's own test
    service decides the outcome."""
    return compose_command(words) == "up" and any(
        a.startswith(("--exit-code-from", "--abort-on-container-exit")) for a in words)


def environment_tests(script: str) -> list[str]:
    """The environments a script starts before it runs tests (in the same script), or []."""
    started: list[str] = []
    for words in shell.commands(script):
        stack = starts(words)
        if stack and stack not in started:
            started.append(stack)
        if started and (tests_itself(words) or shell.runs(" ".join(words), shell.TESTS)):
            return started
    return []


def notify_command(script: str) -> str:
    """The command of a script that notifies people (a `curl` to a webhook, `gh issue create`,
    mail), or ""."""
    for words in shell.commands(script) if script else ():
        if words[0] == "curl" and any(WEBHOOK.search(w) for w in words[1:]):
            return "curl"
        if words[0] == "gh" and words[1:3] == ["issue", "create"]:
            return "gh issue create"
        if words[0] in ("sendmail", "mail", "mailx"):
            return words[0]
    return ""
