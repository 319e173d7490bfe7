"""IaC checks: the security scanners checkov, tfsec, KICS and terrascan, and the linters and
dry runs that check infrastructure code (tflint, cfn-lint, ansible-lint, `ansible-playbook
--syntax-check` / `--check`, `pulumi preview`), by their configs, CI steps, root pre-commit hooks
and GitLab's SAST-IaC template. (`trivy config` is reported by trivy.)"""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.detectors._citools import PRE_COMMIT, hook_signals
from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, find, gitlab_includes, include_detail

ACTIONS = {"bridgecrewio/checkov-action": "checkov", "aquasecurity/tfsec-action": "tfsec",
           "aquasecurity/tfsec-sarif-action": "tfsec", "aquasecurity/tfsec-pr-commenter-action":
           "tfsec", "checkmarx/kics-github-action": "kics", "tenable/terrascan-action":
           "terrascan", "accurics/terrascan-action": "terrascan",
           "ansible/ansible-lint": "ansible-lint", "pulumi/actions": "pulumi"}
PROGRAMS = {"checkov": "checkov", "tfsec": "tfsec", "kics": "kics", "terrascan": "terrascan",
            "tflint": "tflint", "cfn-lint": "cfn-lint", "ansible-lint": "ansible-lint",
            "ansible-playbook": "ansible-playbook", "pulumi": "pulumi"}
# commands that check only with one of these arguments (`ansible-playbook site.yml` deploys)
NEEDS = {"kics": {"scan"}, "terrascan": {"scan"}, "pulumi": {"preview"},
         "ansible-playbook": {"--syntax-check", "--check", "-C"}}
RUN_BARE = {"tflint", "ansible-lint"}  # lint the current folder with no arguments
HOOK_PROGRAMS = {k: v for k, v in PROGRAMS.items() if k not in ("ansible-playbook", "pulumi")}
IMAGES = ("bridgecrew/checkov", "aquasec/tfsec", "aquasec/tfsec-ci", "checkmarx/kics",
          "tenable/terrascan", "accurics/terrascan")
HOOKS = {"checkov": "checkov", "checkov_diff": "checkov", "checkov_secrets": "checkov",
         "terraform_checkov": "checkov", "terraform_tfsec": "tfsec", "tfsec": "tfsec",
         "terrascan": "terrascan", "terraform_terrascan": "terrascan", "kics": "kics",
         "terraform_tflint": "tflint", "tflint": "tflint", "cfn-lint": "cfn-lint",
         "cfn-python-lint": "cfn-lint", "ansible-lint": "ansible-lint"}
# The scanners that check infrastructure code against security and compliance policies (the
# rest are linters and dry runs: tflint, cfn-lint, ansible-lint find errors, not policy breaches).
POLICY_SCANNERS = frozenset({"checkov", "tfsec", "kics", "terrascan"})
CONFIGS = {".checkov.yml": "checkov", ".checkov.yaml": "checkov", "kics.config": "kics",
           ".tfsec/config.yml": "tfsec", ".tfsec/config.yaml": "tfsec", ".tfsec/config.json": "tfsec"}


class IacScanningDetector:
    id = "iac_scanning"
    description = "IaC checks (checkov, tfsec, KICS, terrascan, tflint, cfn-lint, ansible-lint …)"
    kinds = {"iac_scanning": kind("Infrastructure code is scanned for misconfigurations",
                                  tools="set", in_ci="flag", pre_commit="flag",
                                  policy_scanners="set")}
    patterns = (*CI_FILES, PRE_COMMIT, ".checkov.y{a,}ml", "kics.config",
                ".tfsec/config.{yml,yaml,json}")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        for sig in self._analyze(doc):
            tools = [t for t in sig.facts.get("tools") or () if t in POLICY_SCANNERS]
            if tools and (sig.facts.get("in_ci") or sig.facts.get("pre_commit")):
                sig = signal("iac_scanning", sig.evidence[0].path, sig.evidence[0].line,
                             sig.evidence[0].detail, **sig.facts, policy_scanners=tools)
            yield sig

    def _analyze(self, doc: Document) -> Iterable[Signal]:
        key = ".tfsec/" + doc.name if doc.path.endswith(f".tfsec/{doc.name}") else doc.name
        if key in CONFIGS:
            if doc.name == "kics.config":  # JSON, YAML, TOML or HCL: found by name
                data = doc.text and None
            else:
                data = doc.json if doc.name.endswith(".json") else doc.yaml
            if data is None or isinstance(data, dict):
                yield signal("iac_scanning", doc.path, 1, f"{CONFIGS[key]} configuration",
                             tools=[CONFIGS[key]])
        elif doc.path == PRE_COMMIT.lstrip("/"):
            yield from hook_signals(doc, "iac_scanning", HOOKS, HOOK_PROGRAMS)
        else:
            for hit in find(doc, actions=tuple(ACTIONS), programs=tuple(PROGRAMS), images=IMAGES):
                if hit.via == "run":
                    prog = hit.words[0]
                    args = [w for w in hit.words[1:] if w not in ("version", "--version", "-v")]
                    if not args and (prog not in RUN_BARE or len(hit.words) > 1) or \
                            "--version" in hit.words or args == ["--init"]:
                        continue  # `checkov --version`, `tflint -v`, `tflint --init` (plugins)
                    if prog in NEEDS and not NEEDS[prog] & set(args):
                        continue  # `ansible-playbook site.yml`, `pulumi up`
                    tool, detail = PROGRAMS[prog], f"job {hit.job.id} runs {prog}"
                    if prog in ("pulumi", "ansible-playbook"):
                        detail += " " + sorted(NEEDS[prog] & set(args))[0]
                else:
                    if hit.step.action.startswith("pulumi/actions") and \
                            str(hit.inputs.get("command", "")).strip() != "preview":
                        continue  # `pulumi up` deploys; only a preview checks
                    tool = next((t for a, t in ACTIONS.items() if hit.step.action.startswith(a)),
                                hit.step.action.rsplit("/", 1)[-1])
                    detail = f"job {hit.job.id} uses {hit.step.action}"
                yield signal("iac_scanning", doc.path, hit.line, detail, tools=[tool], in_ci=True)
            for template, line in gitlab_includes(doc):
                if "sast-iac" in template.lower():
                    yield signal("iac_scanning", doc.path, line, include_detail(template),
                                 tools=["kics"], in_ci=True)


DETECTOR = IacScanningDetector()
