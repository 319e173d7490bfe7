"""GitHub Actions: the workflows under the root `.github/workflows/`, read as jobs and steps.

What a workflow does is read from its structure (maturity_scan.sdk.ci): a step that runs `pytest`
runs tests; a step that echoes "pytest" or a comment that mentions it does not. A job runs on the
workflow's triggers narrowed by its `if:` (`ci.job_events`).

Calls are followed: a local composite action (`uses: ./.github/actions/x`), a local reusable
workflow (`uses: ./.github/workflows/_t.yml`, run on its caller's events), a wrapper action's
command input, and the recipe a step hands over to (`make test`, `npm run x`, `./scripts/x.sh`,
… see `maturity_scan.sdk.recipes`). Each of those files is analysed once, on its own, into
records of what it does and what it calls (the `links` fact); `conclude` joins them, at most
`ci.MAX_DEPTH` calls deep and never twice through the same recipe, and reports what a call runs
with evidence on both sides: the CI line and the recipe line that runs the tool.

An image the job builds is followed into its Dockerfile (read as text, never built or run):
`docker build -t NAME [-f FILE] CONTEXT` (or docker/build-push-action `tags:`/`context:`/`file:`)
runs the Dockerfile's RUN lines (tests there run while CI builds the image, so they count), and
a later `docker run NAME` with no command of its own in the same job runs its last stage's
ENTRYPOINT + CMD (`CMD ["pytest"]`: tests in CI). An image never run, run in another job, run
with its own command, or whose CMD starts a server runs no tests; a broken exec form runs nothing.

A job (or recipe) that starts a complete environment (a kind/k3d/minikube cluster, `docker
compose up`, `kubify up`: the `environments` it starts) and runs tests after it tests against a
full environment: `full_env_test_triggers` are the events such a job runs on (`schedule` for a
nightly regression), `full_env_test_stacks` what it starts. `docker compose up
--exit-code-from <svc>` is both. A step that notifies a person (Slack, Teams, Discord, mail,
a webhook `curl`, `gh issue create`) when the job fails (`if: failure()`, or a notify action
run `if: always()` with the job's status) sets `notifies_on_failure`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from maturity_scan.detectors._ci_facts import IAC_CHECKS, compose_command, notify_command, \
    starts, tests_itself
from maturity_scan.detectors._deploys import deploy_tool, env_deploy
from maturity_scan.detectors._folders import named_dirs as _named_dirs
from maturity_scan.detectors._paths_filter import job_paths, outputs, step_filters, step_paths
from maturity_scan.sdk import Document, Evidence, ParseError, RepoContext, Signal, ci, kind, \
    recipes, shell, signal

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
CLUSTER_ACTIONS = ("helm/kind-action", "absaoss/k3d-action", "medyagh/setup-minikube",
                   "nolar/setup-k3d-k3s", "container-tools/kind-action", "engineerd/setup-kind",
                   "manusa/actions-setup-minikube", "rinx/setup-k3d")
CLUSTER_COMMANDS = {"kind": ("create",), "k3d": ("cluster",), "minikube": ("start",),
                    "ctlptl": ("create",)}
E2E_PROGRAMS = ("cypress", "playwright")  # test runners that drive the running system
CLUSTER_STACKS = {"helm/kind-action": "kind", "container-tools/kind-action": "kind",
                  "absaoss/k3d-action": "k3d", "nolar/setup-k3d-k3s": "k3d",
                  "medyagh/setup-minikube": "minikube", "engineerd/setup-kind": "kind",
                  "manusa/actions-setup-minikube": "minikube", "rinx/setup-k3d": "k3d"}
# Actions that send a message to people (chat, mail, an issue).
NOTIFY_ACTIONS = (
    "slackapi/slack-github-action", "rtcamp/action-slack-notify", "8398a7/action-slack",
    "ravsamhq/notify-slack-action", "act10ns/slack", "voxmedia/github-action-slack-notify-build",
    "dawidd6/action-send-mail", "aliencube/microsoft-teams-actions",
    "jdcargile/ms-teams-notification", "skitionek/notify-microsoft-teams",
    "toko-bifrost/ms-teams-deploy-card", "sarisia/actions-status-discord",
    "ilshidur/action-discord", "appleboy/discord-action", "appleboy/telegram-action",
    "jasonetco/create-an-issue", "mattermost/action-mattermost-notify")
_FAILURE = re.compile(r"\bfailure\(\)|job\.status\s*==\s*'failure'|job\.status\s*!=\s*'success'")
_SHA = re.compile(r"^[0-9a-f]{40}$")
# Stated false on every workflow so a report says "no" rather than nothing.
FLAGS = ("runs_tests", "tests_on_pull_request", "builds_images", "publishes_images", "deploys",
         "iac_checks", "service_containers", "compose_in_ci", "cluster_in_ci", "scheduled_tests",
         "scheduled_scans", "drift_detection", "reusable_workflows", "notifies_on_failure")


def _pinned(uses: str) -> bool | None:
    """None for a step without `uses`; local actions and digests count as pinned."""
    if not uses:
        return None
    if uses.startswith("./") or uses.startswith("docker://"):
        return not uses.startswith("docker://") or "@sha256:" in uses
    return bool(_SHA.match(uses.rsplit("@", 1)[1])) if "@" in uses else False


def _scanners(step: ci.Step, run: str) -> set[str]:
    found = set()
    action = step.action
    words = {w[0] for w in shell.commands(run)} if run else set()
    for name, (actions, programs) in SCANNERS.items():
        if action and any(action == a or action.startswith(a + "/") for a in actions):
            found.add(name)
        elif words & set(programs):
            found.add(name)
    return found


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() not in ("false", ""))


ACTION_FILES = ("**/action.{yml,yaml}",)
# Facts that depend on when a job runs: computed as if it ran on every event, then narrowed.
_ON_PR = ("tests_on_pull_request",)
_ON_SCHEDULE = ("scheduled_tests", "scheduled_scans", "drift_detection")
# Kubernetes deploy commands that, after a throwaway cluster is created, are an end-to-end test.
_CLUSTER_DEPLOYS = ("kubectl", "helm", "helmfile", "skaffold", "kustomize")


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
        reusable_workflows="flag", scanners="set", e2e_tests="flag", change_pipelines="count",
        deploy_tools="set", environments="set", full_env_test_triggers="set",
        full_env_test_stacks="set",
        notifies_on_failure="flag", links="records",
        filters="records",  # per workflow: `paths` filters, each job's matrix values and folder

    )}
    patterns = (*ci.GITHUB_WORKFLOWS, *ACTION_FILES, *recipes.PATTERNS, *recipes.DOCKERFILES)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.path.startswith(".github/workflows/") and doc.path.count("/") == 2:
            wf = ci.pipeline(doc)
            if wf is None:
                return
            links: list[dict[str, Any]] = []
            yield from _workflow(doc, wf, links)
        else:
            if not doc.repo.has_dir(".github/workflows"):
                return  # nothing could call it
            links = _action(doc) if doc.name in ("action.yml", "action.yaml") else ci.recipe_links(
                doc, _recipe_step, _sequence)
        if links:
            yield Signal("github_actions", (), {"links": links})

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        # a job's environment is a deploy environment when what the job calls deploys
        envs = {(r["p"], r["l"]): r["v"] for s in found for r in s.facts.get("links") or ()
                if r.get("v")}
        # calls made after the job started a cluster: what they deploy goes into that cluster
        clustered = {(r["p"], r["l"]) for s in found for r in s.facts.get("links") or ()
                     if r.get("k") == "call" and
                     set(str(r.get("t")).partition("@env:")[2].split("+")) - {"", "compose"}}
        done = set()
        for sig in ci.conclude_calls(_with_environments(found), _narrow, "github_actions"):
            if any((e.path, e.line) in clustered for e in sig.evidence[:-1]) and \
                    {k for k, v in sig.facts.items() if v} <= _DEPLOY_ONLY:
                sig = _own_cluster_test(sig)
            yield sig
            first = sig.evidence[0] if sig.evidence and sig.facts.get("deploys") else None
            env = envs.get((first.path, first.line)) if first else None
            if first and env and (first.path, env[1]) not in done:
                done.add((first.path, env[1]))
                yield _environment_signal(first.path, env[1], env[2], env[0])


_DEPLOY_ONLY = {"deploys", "deploy_tools"}


def _own_cluster_test(sig: Signal) -> Signal:
    """A deploy reached through a call the job made after creating its own cluster (kind, k3d,
    minikube): an end-to-end test, as `_in_own_cluster` says of the job's own lines."""
    *chain, last = sig.evidence
    detail = last.detail.replace(" deploys (", " tests in its own cluster (", 1)
    return Signal(sig.kind, (*(Evidence(e.path, e.line, e.detail, frozenset({"e2e_tests"}))
                               for e in chain),
                             Evidence(last.path, last.line, detail, frozenset({"e2e_tests"}))),
                  {"e2e_tests": True})


def _with_environments(found: Sequence[Signal]) -> Sequence[Signal]:
    """The signals, and for every environment a job started before calling something
    (`<unit>@env:<stacks>` call targets), a variant of every called unit whose tests are tests
    against that environment (and whose calls go to the variants)."""
    records = [r for s in found for r in s.facts.get("links") or ()]
    envs = {str(r["t"]).partition("@env:")[2] for r in records
            if r.get("k") == "call" and "@env:" in str(r.get("t"))}
    if not envs:
        return found
    extra: list[dict[str, Any]] = []
    for env in sorted(envs):
        stacks = env.split("+")
        for r in records:
            if "@env:" in str(r.get("u")) or "@env:" in str(r.get("t")):
                continue
            if r.get("k") == "act" and r["f"].get("runs_tests") and \
                    not r["f"].get("full_env_test_triggers"):
                extra.append({**r, "u": f"{r['u']}@env:{env}",
                              "d": f"{r['d']} against {' + '.join(stacks)}",
                              "f": {"full_env_test_triggers": ["*"],
                                    "full_env_test_stacks": sorted(stacks)}})
            elif r.get("k") == "call" and r.get("e") is None:
                extra.append({**r, "u": f"{r['u']}@env:{env}", "t": f"{r['t']}@env:{env}"})
    return [*found, Signal("github_actions", (), {"links": extra})]


def _sig(path: str, line: int, detail: str, facts: dict[str, Any]) -> Signal:
    return signal("github_actions", path, line, detail, **facts)


def _narrow(sig: Signal, events: Iterable[str]) -> Signal | None:
    """A signal computed as if its job ran on every event, for the events it runs on; None
    when nothing it shows is left."""
    events = set(events)
    facts = dict(sig.facts)
    for name in _ON_PR:
        if name in facts:
            facts[name] = bool(facts[name]) and bool(events & ci.PULL_REQUEST_EVENTS)
    for name in _ON_SCHEDULE:
        if name in facts:
            facts[name] = bool(facts[name]) and "schedule" in events
    if facts.get("full_env_test_triggers"):
        facts["full_env_test_triggers"] = sorted(events)
        if not events:
            facts["full_env_test_stacks"] = []
    supports = frozenset(k for k, v in facts.items() if v)
    if not supports:
        return None
    return Signal(sig.kind, tuple(Evidence(e.path, e.line, e.detail, supports)
                                  for e in sig.evidence), facts)


def _workflow(doc: Document, wf: ci.Pipeline, links: list[dict[str, Any]]) -> Iterator[Signal]:
    raw = wf.raw if isinstance(wf.raw, dict) else {}
    triggers = set(wf.triggers)
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
                 workflows_without_permissions=0 if permissions else 1,
                 change_pipelines=int(bool(triggers & {"push", "pull_request", "merge_group"})),
                 **_filters(doc, wf))
    unit = f"workflow:{doc.path}"
    callable_ = "workflow_call" in triggers
    for job in wf.jobs:
        events = ci.job_events(triggers, job.condition)
        where = f"job {job.id}"
        if job.uses:
            yield signal("github_actions", doc.path, job.line,
                         f"job {job.id} -> reusable workflow {job.uses.split('@')[0]}",
                         reusable_workflows=True)
            target = ci.local_target(job.uses)
            if target:
                links.append({"k": "call", "u": unit, "p": doc.path, "l": job.line,
                              "d": f"{where} -> {target}", "t": f"workflow:{target}",
                              "c": job.condition, "e": list(events)})
        if job.services:
            yield signal("github_actions", doc.path, job.line,
                         f"job {job.id}: service containers", service_containers=True)
        env = job.environment
        if not env or "${{" in env or PUBLISH_ENVIRONMENTS.match(env):
            env = ""
        acts: list[Signal] = []
        conds: list[list[str]] = []  # the job's `if:` then the step's, for each act
        started: list[str] = []  # environments the job's steps started so far
        images: dict[str, str] = {}  # image name -> the Dockerfile a step of the job built it from
        for step in job.steps:
            cond = [job.condition, step.condition]
            new = list(_step(doc.path, where, step))
            if env and not any(a.facts.get("deploys") for a in new):
                new += _env_deploy(doc.path, where, step)
            notify = _notifies(step, job.condition)
            if notify:
                new.append(_sig(doc.path, step.line, f"{where} notifies on failure ({notify})",
                                {"notifies_on_failure": True}))
            acts += new
            conds += [cond] * len(new)
            started += [e for a in new for e in a.facts.get("environments") or ()
                        if e not in started]
            for target, label in [*_step_calls(step), *ci.docker_calls(step, images)]:
                # after an environment, what the call runs is also read as testing against it
                for t in [target, *([f"{target}@env:{'+'.join(started)}"] if started else [])]:
                    links.append({"k": "call", "u": unit, "p": doc.path, "l": step.line,
                                  "d": f"{where} -> {label}", "t": t, "c": cond,
                                  "e": list(ci.job_events(events, step.condition)),
                                  **({"v": [env, job.line, job.id]} if env else {})})
        acts, conds = _sequenced(acts, conds)
        if env and any(a.facts.get("deploys") for a in acts):
            yield _environment_signal(doc.path, job.line, job.id, env)
        for act, cond in zip(acts, conds):
            narrowed = _narrow(act, ci.job_events(events, cond[1]))
            if narrowed is not None:
                yield narrowed
            if callable_:
                links.append(_act(unit, act, cond))


_act = ci.act_record
_CHANGE_EVENTS = ("push", "pull_request", "pull_request_target", "merge_group")


def _filters(doc: Document, wf: ci.Pipeline) -> dict[str, Any]:
    """`{"filters": [record]}` when the workflow says which part of a monorepo it is for: the
    `paths` / `paths-ignore` of its change events (an event without them runs on any change),
    each job's `strategy.matrix` values (expressions left out) and `working-directory` (and
    the steps' own, and the repository folders a step's commands name); {} otherwise. `scan --components` reads them to give each service only its
    own CI."""
    raw = wf.raw if isinstance(wf.raw, dict) else {}
    on = raw.get("on", raw.get(True))
    events = {}
    for event in _CHANGE_EVENTS if isinstance(on, dict) else ():
        spec = on.get(event, 0)
        if spec == 0:
            continue
        spec = spec if isinstance(spec, dict) else {}
        events[event] = {key: [p for p in spec.get(name) or () if isinstance(p, str)]
                         if isinstance(spec.get(name), list) else []
                         for key, name in (("paths", "paths"), ("paths_ignore", "paths-ignore"))}
    jobs = []
    changed = outputs(raw.get("jobs"))  # dorny/paths-filter outputs, for jobs' `if:`
    for job in wf.jobs:
        strategy = job.raw.get("strategy") if isinstance(job.raw, dict) else None
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        values: list[str] = []
        for key, rows in matrix.items() if isinstance(matrix, dict) else ():
            for row in rows if isinstance(rows, list) and key != "exclude" else ():
                for item in row.values() if isinstance(row, dict) else [row]:
                    if isinstance(item, str) and "${{" not in item and item not in values:
                        values.append(item)
        workdir = ""
        for node in (job.raw, raw):  # `defaults: run: working-directory:`, the job's first
            run = (node.get("defaults") or {}).get("run") if isinstance(node, dict) and \
                isinstance(node.get("defaults"), dict) else None
            if not workdir and isinstance(run, dict) and isinstance(run.get("working-directory"),
                                                                    str):
                workdir = run["working-directory"]
        entry: dict[str, Any] = {"id": job.id, "line": job.line, "matrix": values, "dir": workdir}
        steps = []
        own = step_filters(job.raw)  # paths-filter steps of this job, for its steps' `if:`
        for st in job.steps:  # a step's own working-directory, the folders its commands name
            step: dict[str, Any] = {"line": st.line, "dir": st.workdir} \
                if st.workdir and st.workdir != workdir else {"line": st.line}
            names = _named_dirs(doc, st.run) if not st.workdir else []
            if names:
                step["names"] = names
            paths = step_paths(st.condition, own)
            if paths:
                step["paths"] = paths
            if len(step) > 1:
                steps.append(step)
        if steps:
            entry["steps"] = steps
        paths = job_paths(job.condition, changed)
        if paths:  # the job runs when a paths-filter filter matched
            entry.update(paths=paths, paths_ignore=[])
        jobs.append(entry)
    if not any(f["paths"] or f["paths_ignore"] for f in events.values()) and \
            not any(j["matrix"] or j["dir"] or j.get("steps") or j.get("paths") for j in jobs):
        return {}
    return {"filters": [{"workflow": doc.path, "events": events, "jobs": jobs}]}


def _step_calls(step: ci.Step) -> Iterator[tuple[str, str]]:
    """(unit, label) of what a step hands over to: a local action, recipes its commands run."""
    if step.uses:
        target = ci.local_target(step.uses)
        if target:
            yield f"action:{target}", "action ./" + ("" if target == "." else target)
    if step.workdir.strip().strip("./"):
        return  # run in another folder: the root's recipes are not the ones it runs
    for script in (step.run, ci.action_command(step) if step.uses else ""):
        for call in shell.calls(script) if script else ():
            yield f"{call.runner}:{call.name}", call.label


def _environment_signal(path: str, line: int, job: str, env: str) -> Signal:
    return _sig(path, line, f"job {job} -> environment {env}", {"deploy_environments": [env]})


def _env_deploy(path: str, where: str, step: ci.Step) -> list[Signal]:
    """A step of a job with a deployment environment that deploys, by what it runs."""
    what = env_deploy(step.run or (ci.action_command(step) if step.uses else ""), step.action)
    return [_sig(path, step.line, f"{where} deploys ({what})",
                 {"deploys": True, "deploy_tools": [deploy_tool(what)]})] if what else []


def _notifies(step: ci.Step, job_condition: str) -> str:
    """What a step notifies people with when its job fails, or ""."""
    cond = f"{job_condition} {step.condition}"
    action = step.action.lower()
    notifier = next((a for a in NOTIFY_ACTIONS if action == a or action.startswith(a + "/")), "")
    notifier = notifier or notify_command(step.run)
    if not notifier:
        return ""
    if _FAILURE.search(cond):
        return notifier
    # a notify action run whatever happened, told the job's status, reports the failure
    if notifier in NOTIFY_ACTIONS and "always()" in cond and \
            any("job.status" in str(v) or str(v).strip().lower() == "failure"
                for v in step.inputs.values()):
        return notifier
    return ""


def _sequenced(acts: list[Signal], conds: list[Any]) -> tuple[list[Signal], list[Any]]:
    """`_sequence` over a job's acts, each new act under the condition of the one it follows."""
    out, out_conds = [], []
    for group, cond in zip(_full_env(_in_own_cluster(acts)), conds):
        out += group
        out_conds += [cond] * len(group)
    return out, out_conds


def _sequence(acts: list[Signal]) -> list[Signal]:
    """What a recipe's lines mean in order (own-cluster deploys, tests after an environment)."""
    return [a for group in _full_env(_in_own_cluster(acts)) for a in group]


def _full_env(acts: list[Signal]) -> list[list[Signal]]:
    """Each act, followed by a full-environment test when it runs tests after an earlier act
    started an environment (or is itself `compose up --exit-code-from`)."""
    out, started = [], []
    for act in acts:
        group = [act]
        for stack in act.facts.get("environments") or ():
            if stack not in started:
                started.append(stack)
        if act.facts.get("runs_tests") and started or act.facts.get("full_env_test_triggers"):
            if not act.facts.get("full_env_test_triggers"):
                e = act.evidence[0]
                group.append(_sig(e.path, e.line or 1,
                                  f"{e.detail} against {' + '.join(started)}",
                                  {"full_env_test_triggers": ["*"],
                                   "full_env_test_stacks": sorted(started)}))
        out.append(group)
    return out


def _in_own_cluster(acts: list[Signal]) -> list[Signal]:
    """A deploy into a cluster an earlier step of the same job (or recipe) created (kind, k3d,
    minikube) is an end-to-end test, not a deploy."""
    out, cluster = [], False
    for act in acts:
        if cluster and act.facts.get("deploys") and set(act.facts) <= {"deploys", "deploy_tools"}:
            e = act.evidence[0]
            detail = e.detail.replace(" deploys (", " tests in its own cluster (", 1)
            act = _sig(e.path, e.line or 1, detail, {"e2e_tests": True})
        cluster = cluster or bool(act.facts.get("cluster_in_ci"))
        out.append(act)
    return out


def _action(doc: Document) -> list[dict[str, Any]]:
    """Records of a local composite action: what its `runs.steps` do and call."""
    try:
        data = doc.yaml
    except ParseError:
        return []
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, dict) or not isinstance(runs.get("steps"), list):
        return []
    unit = f"action:{doc.dir}"
    where = f"action ./{doc.dir}" if doc.dir else "action ./"
    links: list[dict[str, Any]] = []
    acts: list[Signal] = []
    conds: list[str] = []
    for raw in runs["steps"]:
        if not isinstance(raw, dict):
            continue
        inputs = raw.get("with") if isinstance(raw.get("with"), dict) else {}
        cond = raw.get("if") if isinstance(raw.get("if"), str) else ""
        step = ci.Step(int(getattr(raw, "line", 1) or 1), str(raw.get("name") or ""),
                       str(raw.get("uses") or ""), str(raw.get("run") or ""), inputs, cond)
        new = list(_step(doc.path, where, step))
        acts += new
        conds += [cond] * len(new)
        for target, label in _step_calls(step):
            links.append({"k": "call", "u": unit, "p": doc.path, "l": step.line,
                          "d": f"{where} -> {label}", "t": target, "c": cond, "e": None})
    acts, conds = _sequenced(acts, conds)
    links += [_act(unit, a, c) for a, c in zip(acts, conds)]
    return links


def _recipe_step(path: str, where: str, line: int, text: str, calls: bool) -> Iterator[Signal]:
    programs = _PROGRAMS - _RUNNERS if calls else _PROGRAMS  # `make x` there is followed
    if not any(w[0] in programs for w in shell.commands(text)):
        return iter(())  # most recipe lines run nothing this detector knows: parsed once
    return _step(path, where, ci.Step(line, run=text), recipe=calls)


def _step(path: str, where: str, step: ci.Step, recipe: bool = False) -> Iterator[Signal]:
    """What a step does, as if its job ran on every event (`_narrow` says when it runs)."""
    run = step.run or (ci.action_command(step) if step.uses else "")
    words = list(shell.commands(run)) if run else []
    env = _environment(path, where, step, words)
    if env and env[1] == 0:  # started before any test of the same script
        yield env[0]
    test = shell.runs(run, shell.TESTS) if run else ""
    if test and not (recipe and test.startswith(("make ", "just ", "task ", "npm run ", "npm t",
                                                  "yarn ", "pnpm "))):
        facts = {"runs_tests": True, "tests_on_pull_request": True, "scheduled_tests": True}
        if test.split()[0] in E2E_PROGRAMS:
            facts["e2e_tests"] = True
        yield _sig(path, step.line, f"{where} runs {test}", facts)
    deploy = shell.runs(run, shell.DEPLOYS) if run else ""
    action = step.action
    if deploy or (action and any(action.startswith(a) for a in DEPLOY_ACTIONS)):
        yield _sig(path, step.line, f"{where} deploys ({deploy or step.action})",
                   {"deploys": True, "deploy_tools": [deploy_tool(deploy or step.action)]})
    builds = step.action == "docker/build-push-action" or any(
        w[0] in ("docker", "podman", "buildah") and ("build" in w[1:3] or "bud" in w[1:2])
        or w[0] == "ko" and w[1:2] in (["build"], ["publish"]) for w in words)
    pushes = (step.action == "docker/build-push-action" and _truthy(step.inputs.get("push"))) or \
        any(w[0] in ("docker", "podman") and ("push" in w[1:2] or "--push" in w) for w in words)
    if builds or pushes:
        yield _sig(path, step.line,
                   f"{where} {'builds and pushes' if pushes else 'builds'} an image",
                   {"builds_images": builds, "publishes_images": pushes})
    iac = shell.runs(run, IAC_CHECKS) if run else ""
    if iac:
        drift = iac.startswith(("terraform plan", "tofu plan")) and "-detailed-exitcode" in run
        yield _sig(path, step.line, f"{where} checks IaC ({iac})",
                   {"iac_checks": True, "drift_detection": drift})
    if run and shell.invokes(run, "driftctl", "scan"):
        yield _sig(path, step.line, f"{where} detects drift", {"drift_detection": True})
    if env and env[1] == 1:
        yield env[0]
    elif not env and any(compose_command(w) in ("up", "run") for w in words):
        yield _sig(path, step.line, f"{where} starts docker compose", {"compose_in_ci": True})
    scanners = _scanners(step, run)
    if scanners:
        yield _sig(path, step.line, f"{where} scans with {', '.join(sorted(scanners))}",
                   {"scanners": sorted(scanners), "scheduled_scans": True})


def _environment(path: str, where: str, step: ci.Step,
                 words: list[list[str]]) -> tuple[Signal, int] | None:
    """The act of a step that starts an environment (a cluster, the compose stack, Kubify), and
    0 when it comes before the step's first test command (tests in the same script run after
    it), else 1; None when the step starts none."""
    stacks: list[str] = []
    first_test = next((i for i, w in enumerate(words) if shell.runs(" ".join(w), shell.TESTS)),
                      len(words))
    at = len(words)
    action = step.action
    if action in CLUSTER_ACTIONS:
        stacks.append(CLUSTER_STACKS.get(action, "kind"))
        at = -1
    compose_tests = False
    for i, w in enumerate(words):
        stack = starts(w)
        compose_tests = compose_tests or tests_itself(w)
        if stack and stack not in stacks:
            stacks.append(stack)
            at = min(at, i)
    if not stacks:
        return None
    facts: dict[str, Any] = {"environments": stacks}
    if "compose" in stacks:
        facts["compose_in_ci"] = True
    if set(stacks) - {"compose"}:
        facts["cluster_in_ci"] = True
    what = "a cluster" if "cluster_in_ci" in facts and stacks[0] != "kubify" else \
        "kubify" if stacks[0] == "kubify" else "docker compose"
    if compose_tests:  # `up --exit-code-from tests`: the stack's own test service decides
        facts.update(runs_tests=True, tests_on_pull_request=True, scheduled_tests=True,
                     full_env_test_triggers=["*"], full_env_test_stacks=sorted(stacks))
    sig = _sig(path, step.line, f"{where} starts {what}", facts)
    return sig, 0 if at < first_test else 1


# Every program `_step` may report on a line of its own (a recipe line running none is skipped).
_PROGRAMS = frozenset({*shell.TESTS, *shell.DEPLOYS, *IAC_CHECKS, *CLUSTER_COMMANDS, "driftctl",
                       "docker", "podman", "buildah", "ko", "docker-compose", "kubify",
                       *(p for _, programs in SCANNERS.values() for p in programs)})
_RUNNERS = frozenset({"make", "just", "task", "npm", "yarn", "pnpm", "bun", "tox", "nox"})

DETECTOR = GitHubActionsDetector()
