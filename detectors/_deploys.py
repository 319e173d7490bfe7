"""What deploys in a CI job that names a deployment environment, beyond the deploy commands
every job is read for (`shell.DEPLOYS`): cloud CLIs' deploy verbs, a copy to a host, a deploy
action. A job's `environment:` alone deploys nothing (a test job with `environment: ci`)."""
from __future__ import annotations

from maturity_scan.sdk import shell

# Deploy actions and tasks by the tool they drive (the rest are named by their action).
ACTION_TOOLS = {"azure/k8s-deploy": "kubectl", "kubernetesmanifest": "kubectl",
                "kubernetes": "kubectl", "helmdeploy": "helm", "aws-actions/amazon-ecs-deploy-"
                "task-definition": "ecs", "aws-actions/aws-cloudformation-github-deploy":
                "cloudformation", "pulumi/actions": "pulumi", "serverless/github-action":
                "serverless", "google-github-actions/deploy-cloudrun": "cloudrun"}
KUBERNETES_TOOLS = ("helm", "helmfile", "kubectl", "kustomize", "skaffold", "argocd", "flux",
                    "kubify", "kapp", "werf", "devspace", "timoni")


def deploy_tool(what: str) -> str:
    """The tool a deploy runs: a command's program, or what a deploy action or task drives
    (`azure/k8s-deploy` -> kubectl, `HelmDeploy@0` -> helm)."""
    name = what.split(" ")[0].lower()
    base = name.split("@", 1)[0]
    return ACTION_TOOLS.get(base, base.rsplit("/", 1)[-1] if "/" not in base else base)

ENV_DEPLOYS: dict[str, tuple[str, ...]] = {
    "gcloud": ("run", "app", "functions", "deploy"),
    "az": ("webapp", "containerapp", "functionapp", "deployment"),
    "rsync": (), "scp": (), "heroku": ("container:release", "releases"), "dpl": (),
    "kamal": ("deploy",), "cap": (), "ansible-playbook": (), "eb": ("deploy",),
}
AWS_DEPLOYS = (("s3", "sync"), ("s3", "cp"), ("ecs", "update-service"),
               ("lambda", "update-function-code"), ("cloudformation", "deploy"),
               ("deploy", "create-deployment"), ("elasticbeanstalk", "update-environment"))


def env_deploy(run: str, action: str = "") -> str:
    """What a step of a job with a deployment environment deploys with ("" for nothing)."""
    what = shell.runs(run, ENV_DEPLOYS) if run else ""
    for words in shell.commands(run) if run and not what else ():
        if words[0] == "aws" and tuple(words[1:3]) in AWS_DEPLOYS:
            return " ".join(words[:3])
    if not what and action and "deploy" in action.split("/", 1)[-1]:
        return action
    return what
