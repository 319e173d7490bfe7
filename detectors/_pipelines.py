"""Shared by the CI-system detectors other than GitHub Actions (GitLab CI, Jenkins, CircleCI,
Azure Pipelines, Bitbucket Pipelines): one `PipelineDetector` each, the same structural reading
of jobs, tests, deploys and environments, plus what a system has of its own.

Calls are followed as GitHub Actions does (`maturity_scan.sdk.ci.follow`): a step that runs
`make test-${target}`… `make ci`, `npm run x`, `tox -e x`, `./scripts/x.sh` is read through the
recipe (`maturity_scan.sdk.recipes`), and GitLab's `include: local:` files through their jobs;
each file analysed once into `links` records that `conclude` joins, with evidence on both
sides."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from maturity_scan.detectors._ci_facts import IAC_CHECKS, environment_tests, notify_command
from maturity_scan.detectors._deploys import deploy_tool, env_deploy
from maturity_scan.sdk import Document, ParseError, RepoContext, Signal, ci, kind, recipes, \
    shell, signal
from maturity_scan.sdk.globs import compile_globs

FACTS: dict[str, str] = {"jobs": "count", "runs_tests": "flag", "deploys": "flag",
                         "environments": "set", "e2e_tests": "flag", "tests_before_merge": "flag",
                         "deploy_tools": "set", "full_env_test_triggers": "set",
                         "full_env_test_stacks": "set", "notifies_on_failure": "flag",
                         "manual_environments": "set", "iac_checks": "flag",
                         "links": "records"}
# A deploy into a cluster the same script (or recipe) creates is an end-to-end test.
CLUSTER_COMMANDS = {"kind": ("create",), "k3d": ("cluster",), "minikube": ("start",),
                    "ctlptl": ("create",)}
CLUSTER_DEPLOYS = ("kubectl", "helm", "helmfile", "skaffold", "kustomize")
_HANDS_OVER = ("make ", "just ", "task ", "npm run ", "npm t", "yarn ", "pnpm ")
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


def _environment(job: ci.Job) -> str:
    """A job's deployment environment, "" when none or not a literal."""
    env = job.environment
    return env if env and "$" not in env else ""


# GitLab rule conditions and `only:` refs that keep a job to the default branch, tags,
# schedules or manual runs: such a job does not test a change before it merges.
_AFTER_MERGE = re.compile(r"CI_DEFAULT_BRANCH|CI_COMMIT_TAG|\bmain\b|\bmaster\b|\brelease|"
                          r"schedule|\bweb\b|\bapi\b|trigger|pipeline\b", re.I)
_BEFORE_MERGE = re.compile(r"merge_request|CI_MERGE_REQUEST|external_pull_request", re.I)
_AFTER_REFS = {"main", "master", "tags", "schedules", "web", "api", "triggers", "pipelines",
               "chat", "external", "/^release.*$/", "$CI_DEFAULT_BRANCH"}


def _gitlab_before_merge(p: ci.Pipeline, job: ci.Job) -> bool:
    """Whether a GitLab job runs on merge requests or on every branch (unless `workflow:`
    `rules`, its own `rules` or `only`/`except` keep it to the default branch, tags or
    schedules)."""
    cfg = p.raw if isinstance(p.raw, dict) else {}
    raw = job.raw if isinstance(job.raw, dict) else {}
    workflow = cfg.get("workflow")
    for rules in (workflow.get("rules") if isinstance(workflow, dict) else None,
                  raw.get("rules")):
        if isinstance(rules, list) and rules and not _rules_before_merge(rules):
            return False
    only, exc = raw.get("only"), raw.get("except")
    refs = only.get("refs") if isinstance(only, dict) else only
    if isinstance(refs, str):
        refs = [refs]
    if isinstance(refs, list) and refs and all(isinstance(r, str) and r in _AFTER_REFS
                                               for r in refs):
        return False
    excepted = exc.get("refs") if isinstance(exc, dict) else exc
    return not (isinstance(excepted, list) and ("branches" in excepted or
                                                "merge_requests" in excepted and not refs))


def _rules_before_merge(rules: list[Any]) -> bool:
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("when") == "never":
            continue
        cond = rule.get("if")
        if not isinstance(cond, str) or _BEFORE_MERGE.search(cond) or \
                not _AFTER_MERGE.search(cond):
            return True  # unconditional, on merge requests, or on any branch
    return False


def _circleci_before_merge(p: ci.Pipeline, job: ci.Job) -> bool:
    """Whether a CircleCI job runs in a workflow on other branches than the default one."""
    cfg = p.raw if isinstance(p.raw, dict) else {}
    workflows = cfg.get("workflows")
    if not isinstance(workflows, dict):
        return True  # no workflows: every job of a 2.0 config runs on every push
    for wf in workflows.values():
        for entry in wf.get("jobs") or () if isinstance(wf, dict) else ():
            name, spec = (entry, {}) if isinstance(entry, str) else \
                next(iter(entry.items())) if isinstance(entry, dict) and entry else ("", {})
            if name != job.id:
                continue
            filters = spec.get("filters") if isinstance(spec, dict) else None
            branches = filters.get("branches") if isinstance(filters, dict) else None
            only = branches.get("only") if isinstance(branches, dict) else None
            only = [only] if isinstance(only, str) else only
            if not only or not all(isinstance(b, str) and b in ("main", "master") for b in only):
                return True
    return False


def _bitbucket_before_merge(p: ci.Pipeline, job: ci.Job) -> bool:
    """Whether a Bitbucket step is in the `default` pipeline (every branch without its own)
    or the `pull-requests` one."""
    pipes = p.raw.get("pipelines") if isinstance(p.raw, dict) else None
    for section in ("default", "pull-requests"):
        node = pipes.get(section) if isinstance(pipes, dict) else None
        groups = node.values() if isinstance(node, dict) else [node]
        if any(s is job.raw for g in groups for s in _steps_in(g)):
            return True
    return False


def _steps_in(node: Any, depth: int = 0) -> Iterator[Any]:
    """The `step:` mappings of a Bitbucket pipeline section (also in `parallel`, `stage`)."""
    if depth > 8:
        return
    for item in node if isinstance(node, list) else [node]:
        if isinstance(item, dict):
            if isinstance(item.get("step"), dict):
                yield item["step"]
            for key in ("parallel", "steps", "stage"):
                if key in item:
                    yield from _steps_in(item[key], depth + 1)


def _azure_before_merge(p: ci.Pipeline, job: ci.Job) -> bool:
    """Azure builds pull requests unless the pipeline says `pr: none`."""
    pr = p.raw.get("pr", "") if isinstance(p.raw, dict) else ""
    return pr not in ("none", False) and pr != []


BEFORE_MERGE: dict[str, Callable[[ci.Pipeline, ci.Job], bool]] = {
    "gitlab_ci": _gitlab_before_merge, "circleci": _circleci_before_merge,
    "bitbucket_pipelines": _bitbucket_before_merge, "azure_pipelines": _azure_before_merge,
}


_GITLAB_EVENTS = (("schedule", "schedule"), ("merge_request", "merge_request"),
                  ("CI_COMMIT_TAG", "tag"), ("CI_COMMIT_BRANCH", "push"),
                  ("CI_COMMIT_REF_NAME", "push"), ("push", "push"), ("web", "web"))
_GITLAB_REFS = {"schedules": "schedule", "merge_requests": "merge_request", "tags": "tag",
                "web": "web", "api": "api", "triggers": "trigger", "pipelines": "pipeline"}
ALL_EVENTS = ("merge_request", "push", "schedule")


def job_events(p: ci.Pipeline, job: ci.Job) -> list[str]:
    """The pipeline events a job runs on, where the file says: GitLab `rules: if:` and
    `only:` (a job without them runs in every pipeline: push, merge request, schedule); the
    other systems: push, merge requests when `before_merge`, schedules when the file has
    them (Azure `schedules:`, a CircleCI workflow `triggers: schedule`)."""
    raw = job.raw if isinstance(job.raw, dict) else {}
    if p.system == "gitlab_ci":
        events: set[str] = set()
        rules = raw.get("rules")
        for rule in rules if isinstance(rules, list) else ():
            cond = rule.get("if") if isinstance(rule, dict) else None
            if isinstance(rule, dict) and rule.get("when") == "never":
                continue
            if not isinstance(cond, str):
                return list(ALL_EVENTS)
            found = {e for key, e in _GITLAB_EVENTS if key in cond}
            events |= found or set(ALL_EVENTS)
        only = raw.get("only")
        refs = only.get("refs") if isinstance(only, dict) else only
        for ref in [refs] if isinstance(refs, str) else refs if isinstance(refs, list) else ():
            events.add(_GITLAB_REFS.get(str(ref), "push"))
        has_rules = isinstance(rules, list) and bool(rules) or refs
        return sorted(events) if has_rules else list(ALL_EVENTS)
    events = {"push"} | ({"merge_request"} if before_merge(p, job) else set())
    cfg = p.raw if isinstance(p.raw, dict) else {}
    workflows = cfg.get("workflows")
    if cfg.get("schedules") or isinstance(workflows, dict) and any(
            isinstance(w, dict) and any(isinstance(t, dict) and "schedule" in t
                                        for t in w.get("triggers") or ())
            for w in workflows.values()):
        events.add("schedule")
    return sorted(events)


def _manual(job: ci.Job) -> bool:
    """A GitLab job a person starts: `when: manual` (also in its rules)."""
    raw = job.raw if isinstance(job.raw, dict) else {}
    rules = raw.get("rules")
    return raw.get("when") == "manual" or isinstance(rules, list) and any(
        isinstance(r, dict) and r.get("when") == "manual" for r in rules)


def before_merge(p: ci.Pipeline, job: ci.Job) -> bool:
    """Whether a job runs before a change merges, where the system's file says (Jenkins: a
    multibranch pipeline builds every branch and change request; its `when` is not read)."""
    known = BEFORE_MERGE.get(p.system)
    return known(p, job) if known else True


def signals(p: ci.Pipeline, **facts: Any) -> Iterator[Signal]:
    """A job's `environment:` is one of `environments` when the job deploys (a deploy command
    or task, or, in a job with an environment, a cloud CLI's deploy verb or a copy to a host:
    `detectors/_deploys.py`); the name alone deploys nothing."""
    yield signal(p.system, p.path, 1, f"{p.system.replace('_', ' ')}: {len(p.jobs)} jobs",
                 jobs=len(p.jobs), runs_tests=False, deploys=False, **facts)
    for job in p.jobs:
        env = _environment(job)
        deployed = False
        merge = None
        for step in job.steps:
            test = shell.runs(step.run, shell.TESTS) if step.run else ""
            if test or _task_tests(step):
                merge = before_merge(p, job) if merge is None else merge
                yield signal(p.system, p.path, step.line,
                             f"job {job.id} runs {test or step.uses}", runs_tests=True,
                             tests_before_merge=merge)
            iac = shell.runs(step.run, IAC_CHECKS) if step.run else ""
            if iac:
                yield signal(p.system, p.path, step.line, f"job {job.id} checks IaC ({iac})",
                             iac_checks=True)
            deploy = shell.runs(step.run, shell.DEPLOYS) if step.run else ""
            if deploy.split(" ")[0] in CLUSTER_DEPLOYS and shell.runs(step.run, CLUSTER_COMMANDS):
                yield signal(p.system, p.path, step.line,
                             f"job {job.id} tests in its own cluster ({deploy})", e2e_tests=True)
            elif deploy or (step.uses and DEPLOY_STEPS.search(step.uses)) or \
                    env and env_deploy(step.run, step.uses):
                deployed = True
                what = deploy or env_deploy(step.run, step.uses) or step.uses
                yield signal(p.system, p.path, step.line, f"job {job.id} deploys ({what})",
                             deploys=True, deploy_tools=[deploy_tool(what)])
        if env and deployed:
            yield _env_signal(p.system, p.path, job.line, job.id, env, _manual(job))
        script = "\n".join(st.run for st in job.steps if st.run)
        stacks = environment_tests(script)
        if stacks:
            yield signal(p.system, p.path, job.line,
                         f"job {job.id} tests against {' + '.join(stacks)}",
                         full_env_test_triggers=job_events(p, job),
                         full_env_test_stacks=sorted(stacks))
        notify = notify_command(script) if isinstance(job.raw, dict) and \
            job.raw.get("when") == "on_failure" else ""
        if notify:
            yield signal(p.system, p.path, job.line, f"job {job.id} notifies on failure ({notify})",
                         notifies_on_failure=True)


_MERGE_EVENTS = {True: ("before_merge",), False: ("after_merge",)}


def _narrow(sig: Signal, events: tuple[str, ...]) -> Signal | None:
    """Tests a job reaches through a call run before merge when the job does (its call's
    pseudo-events say; an include's calls carry none, so its jobs' own facts stay)."""
    facts = dict(sig.facts)
    if events and facts.get("runs_tests"):
        facts["tests_before_merge"] = "before_merge" in events
    supports = frozenset(k for k, v in facts.items() if v)
    if not supports:
        return None
    return Signal(sig.kind, tuple(dataclasses.replace(e, supports=supports)
                                  for e in sig.evidence), facts)


def _env_signal(system: str, path: str, line: int, job: str, env: str,
                manual: bool = False) -> Signal:
    """A deployed environment; `manual`: a person starts the deploy (GitLab `when: manual`),
    the pipeline's approval gate."""
    return signal(system, path, line, f"job {job} -> environment {env}" +
                  (" (started by hand)" if manual else ""), environments=[env],
                  **({"manual_environments": [env]} if manual else {}))


class PipelineDetector:
    """The detector of one CI system: its files read as a `ci.Pipeline` (`ci.pipeline` knows
    each system's format) and reported by `signals`; `facts` of the system's own (declared in
    `own_facts`) join the file's signal, `more` adds signals of its own. When one of `anchors`
    (the system's usual CI file paths) exists, recipes (`recipes.PATTERNS`) and `included`
    files are read too, for `conclude` to follow the calls into them."""

    def __init__(self, system: str, description: str, meaning: str, patterns: Sequence[str], *,
                 own_facts: Mapping[str, str] | None = None,
                 facts: Callable[[ci.Pipeline], dict[str, Any]] | None = None,
                 more: Callable[[Document, ci.Pipeline], Iterable[Signal]] | None = None,
                 anchors: Sequence[str] = (), included: Sequence[str] = (),
                 includes: Callable[[ci.Pipeline], Iterable[tuple[str, int]]] | None = None,
                 ) -> None:
        self.id = system
        self.description = description
        self.kinds = {system: kind(meaning, **FACTS, **(own_facts or {}))}
        self.patterns = (*patterns, *recipes.PATTERNS, *included) if anchors else tuple(patterns)
        self._own = tuple(patterns)  # compiled on first use (compile_globs keeps them)
        self._included = tuple(included)
        self._anchors = tuple(anchors)
        self._facts = facts
        self._more = more
        self._includes = includes

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if compile_globs(self._own).match(doc.path):
            p = ci.pipeline(doc)
            if p is None:
                return
            yield from signals(p, **(self._facts(p) if self._facts else {}))
            if p.system == "jenkins":
                yield from _jenkins_failure_notifications(doc)
                yield from _jenkins_scheduled(doc, p)
            if self._more:
                yield from self._more(doc, p)
            links = _calls(doc, p, f"{self.id}:{doc.path}", ())
            for path, line in (self._includes(p) if self._includes else ()):
                links.append(ci.call_record(f"{self.id}:{doc.path}", doc.path, line,
                                            f"include {path}", f"include:{path}", "", ()))
        elif not any(doc.repo.exists(a) for a in self._anchors):
            return  # nothing of this system could call it
        elif self._included and compile_globs(self._included).match(doc.path) and \
                doc.name.endswith((".yml", ".yaml")):
            links = self._included_links(doc)
        else:
            links = ci.recipe_links(doc, self._recipe_step, _in_own_cluster)
        if links:
            yield Signal(self.id, (), {"links": links})

    def _included_links(self, doc: Document) -> list[dict[str, Any]]:
        """Records of a file the CI file includes: its jobs' signals and calls."""
        try:
            p = ci.read_as(doc, self.id)
        except (ParseError, TypeError, AttributeError, ValueError):
            return []
        if p is None:
            return []
        unit = f"include:{doc.path}"
        links = [ci.act_record(unit, s) for s in list(signals(p))[1:]]
        return links + _calls(doc, p, unit, None)

    def _recipe_step(self, path: str, where: str, line: int, text: str,
                     hands_over: bool) -> Iterator[Signal]:
        test = shell.runs(text, shell.TESTS)
        if test and not (hands_over and test.startswith(_HANDS_OVER)):
            yield signal(self.id, path, line, f"{where} runs {test}", runs_tests=True)
        iac = shell.runs(text, IAC_CHECKS)
        if iac:
            yield signal(self.id, path, line, f"{where} checks IaC ({iac})", iac_checks=True)
        deploy = shell.runs(text, shell.DEPLOYS)
        if deploy:
            yield signal(self.id, path, line, f"{where} deploys ({deploy})", deploys=True,
                         deploy_tools=[deploy_tool(deploy)])
        if shell.runs(text, CLUSTER_COMMANDS):  # a marker for `_in_own_cluster`, never reported
            yield signal(self.id, path, line, f"{where} starts a cluster", e2e_tests=False)

    def conclude(self, found: Sequence[Signal], repo: RepoContext) -> Iterable[Signal]:
        # a job's environment counts when what the job calls (a script, a make target) deploys
        envs = {(r["p"], r["l"]): r["v"] for s in found for r in s.facts.get("links") or ()
                if r.get("v")}
        done = set()
        for sig in ci.conclude_calls(found, _narrow, kind=self.id):
            yield sig
            first = sig.evidence[0] if sig.evidence and sig.facts.get("deploys") else None
            env = envs.get((first.path, first.line)) if first else None
            if first and env and (first.path, env[1]) not in done:
                done.add((first.path, env[1]))
                env, line, job, manual = (*env, False)[:4]
                yield _env_signal(self.id, first.path, line, job, env, bool(manual))


_JENKINS_FAILURE = re.compile(r"\b(failure|unsuccessful)\s*\{")
_JENKINS_NOTIFY = re.compile(r"\b(slackSend|mail|emailext|office365ConnectorSend|discordSend|"
                             r"mattermostSend|rocketSend|googlechatnotification)\b")
MAX_BLOCK = 20_000  # characters read of one `post { failure { … } }` block


def _jenkins_failure_notifications(doc: Document) -> Iterator[Signal]:
    """A declarative `post { failure { slackSend … } }` (or `unsuccessful`, or `mail` /
    `emailext` …) notifies people when the build fails. Read as text: the block runs to its
    matching brace (strings are not parsed), at most `MAX_BLOCK` characters."""
    text = doc.text
    for m in _JENKINS_FAILURE.finditer(text):
        depth, end = 1, m.end()
        limit = min(len(text), m.end() + MAX_BLOCK)
        while end < limit and depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        hit = _JENKINS_NOTIFY.search(text, m.end(), end)
        if hit:
            line = text.count("\n", 0, hit.start()) + 1
            yield signal("jenkins", doc.path, line,
                         f"post {m.group(1)} notifies ({hit.group(1)})", notifies_on_failure=True)
            return


_JENKINS_CRON = re.compile(r"\btriggers\s*\{[^}]{0,2000}?\b(cron|parameterizedCron)\s*\(")


def _jenkins_scheduled(doc: Document, p: ci.Pipeline) -> Iterator[Signal]:
    """A pipeline with a `triggers { cron(…) }` runs its stages on a schedule too: the stages
    that test against an environment they start are a scheduled full-environment run."""
    if not _JENKINS_CRON.search(doc.text):
        return
    for job in p.jobs:
        stacks = environment_tests("\n".join(st.run for st in job.steps if st.run))
        if stacks:
            yield signal(p.system, p.path, job.line,
                         f"job {job.id} tests against {' + '.join(stacks)} (cron)",
                         full_env_test_triggers=["schedule"], full_env_test_stacks=sorted(stacks))


def _in_own_cluster(acts: list[Signal]) -> list[Signal]:
    """A recipe's deploys after a line that creates a cluster (kind, k3d, minikube) are an
    end-to-end test, not a deploy."""
    out, cluster = [], False
    for act in acts:
        if act.facts == {"e2e_tests": False}:
            cluster = True
            continue
        if cluster and act.facts.get("deploys"):
            e = act.evidence[0]
            detail = e.detail.replace(" deploys (", " tests in its own cluster (", 1)
            act = signal(act.kind, e.path, e.line, detail, e2e_tests=True)
        out.append(act)
    return out


def _calls(doc: Document, p: ci.Pipeline, unit: str,
           events: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Call records of the recipes the steps of a pipeline hand over to."""
    spans = ci.Spans(doc, p)
    out: list[dict[str, Any]] = []
    for job in p.jobs:
        env = _environment(job)
        # own jobs (events given): whether they run before merge, as pseudo-events
        merge = _MERGE_EVENTS[before_merge(p, job)] if events is not None else None
        for step in job.steps:
            calls = ci.script_calls(doc, unit, f"job {job.id}", step, step.line,
                                    max(spans.end(step.line), step.line + 1), "", merge)
            out += [{**c, "v": [env, job.line, job.id, _manual(job)]} for c in calls] \
                if env else calls
    return out
