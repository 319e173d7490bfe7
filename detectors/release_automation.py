"""Release automation: semantic-release, release-please, goreleaser, changesets, commitizen,
release-it and JReleaser configs (JavaScript configs only by name, never run), their actions
or CLIs in CI, and release workflows: a workflow run on a tag push or a release event (or a
"release"/"publish" workflow run by hand or on pushes) with a step that publishes (PyPI, npm,
GitHub release, Ansible Galaxy, Hackage …)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from maturity_scan.sdk import Document, ParseError, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, Hit, Job, Step, find, lenient_pipeline

CONFIGS = [(re.compile(r"^\.releaserc(\.(json|ya?ml|c?js|mjs))?$|^release\.config\.(c?js|mjs|ts)$"),
            "semantic-release"),
           (re.compile(r"^(release-please-config|\.release-please-manifest)\.json$"),
            "release-please"),
           (re.compile(r"^\.?goreleaser\.ya?ml$"), "goreleaser"),
           (re.compile(r"^\.?cz\.(toml|json|ya?ml)$"), "commitizen"),
           (re.compile(r"^\.release-it\.(json|ya?ml|toml|c?js)$"), "release-it"),
           (re.compile(r"^jreleaser\.(ya?ml|toml|json)$"), "jreleaser")]
TOOL_ACTIONS = {"googleapis/release-please-action": "release-please",
                "google-github-actions/release-please-action": "release-please",
                "cycjimmy/semantic-release-action": "semantic-release",
                "codfish/semantic-release-action": "semantic-release",
                "goreleaser/goreleaser-action": "goreleaser", "changesets/action": "changesets",
                "commitizen-tools/commitizen-action": "commitizen",
                "jreleaser/release-action": "jreleaser",
                # releases every chart whose version changed (GitHub release + index.yaml)
                "helm/chart-releaser-action": "chart-releaser"}
TOOL_PROGRAMS = {"semantic-release": "semantic-release", "release-please": "release-please",
                 "goreleaser": "goreleaser", "changeset": "changesets", "cz": "commitizen",
                 "release-it": "release-it", "jreleaser": "jreleaser"}
PUBLISH_ACTIONS = ("pypa/gh-action-pypi-publish", "softprops/action-gh-release",
                   "ncipollo/release-action", "actions/create-release",
                   "svenstaro/upload-release-action", "helm/chart-releaser-action",
                   "rubygems/release-gem", "js-devtools/npm-publish", "jreleaser/release-action",
                   "docker/build-push-action", "haskell-actions/hackage-publish")
# program -> first arguments that publish
PUBLISH_RUNS = {"twine": {"upload"}, "npm": {"publish"}, "yarn": {"publish", "npm"},
                "pnpm": {"publish"}, "cargo": {"publish"}, "poetry": {"publish"},
                "uv": {"publish"}, "flit": {"publish"}, "hatch": {"publish"}, "gem": {"push"},
                "gh": {"release"}, "mvn": {"deploy"}, "mvnw": {"deploy"},
                "gradle": {"publish"}, "gradlew": {"publish"}, "dotnet": {"nuget"},
                "vsce": {"publish"}, "release-cli": {"create"}, "docker": {"push"},
                "helm": {"push"},
                # an Ansible role or collection to Galaxy (`role install` / `collection build`
                # are not releases); two words where the subcommand has a group
                "ansible-galaxy": {"import", "role import", "collection publish"}}
_MANUAL_NAME = re.compile(r"(?i)release|publish")
_PUBLISH_WORDS = re.compile(r"(?i)release|publish|push|upload|deploy")


def _tag_or_release(wf: Any) -> bool:
    on = wf.get("on", wf.get(True)) if isinstance(wf, dict) else None
    names = [on] if isinstance(on, str) else on if isinstance(on, (list, dict)) else []
    if "release" in names:
        return True
    push = on.get("push") if isinstance(on, dict) else None
    return isinstance(push, dict) and bool(push.get("tags"))


def _on_tags(job: Any) -> bool:
    """A GitLab job limited to tag pipelines (`only: [tags]`, `rules: - if: $CI_COMMIT_TAG`)."""
    if not isinstance(job, dict):
        return False
    only = job.get("only")
    refs = only.get("refs") if isinstance(only, dict) else only
    rules = job.get("rules") if isinstance(job.get("rules"), list) else []
    return (isinstance(refs, list) and "tags" in refs) or any(
        isinstance(r, dict) and r.get("when") != "never" and "CI_COMMIT_TAG" in str(r.get("if"))
        and not re.search(r"!\s*\$CI_COMMIT_TAG|CI_COMMIT_TAG\s*==\s*(null|\"\"|'')",
                          str(r.get("if"))) for r in rules)


def _delegates_publishing(job: Job) -> bool:
    """A job of a tag/release workflow that calls a reusable workflow to release or push."""
    if not job.uses or not isinstance(job.raw, dict):
        return False
    inputs = job.raw.get("with") if isinstance(job.raw.get("with"), dict) else {}
    return bool(_PUBLISH_WORDS.search(f"{job.id} {job.uses.split('@')[0].rsplit('/', 1)[-1]}")) \
        or any(_PUBLISH_WORDS.search(str(k)) and str(v).lower() == "true"
               for k, v in inputs.items())


def _publishes(hit: Hit) -> bool:
    if hit.via != "run":
        push = str(hit.inputs.get("push")).lower()
        return not hit.step.action.startswith("docker/build-push-action") or \
            push == "true" or "${{" in push  # an expression: in a tag/release run, it pushes
    args = [w for w in hit.words[1:] if not w.startswith("-")]
    if hit.words[0] == "docker" and "--push" in hit.words:
        return True  # docker buildx build --push
    table = PUBLISH_RUNS[hit.words[0]]
    return bool(args) and (args[0] in table or " ".join(args[:2]) in table)


class ReleaseAutomationDetector:
    id = "release_automation"
    description = "Release automation: semantic-release, release-please, goreleaser, changesets, " \
                  "commitizen, release workflows"
    kinds = {"release_automation": kind("Releases are cut and published by automation",
                                        tools="set")}
    patterns = (*CI_FILES, ".releaserc{,.json,.yaml,.yml,.js,.cjs,.mjs}",
                "release.config.{js,cjs,mjs,ts}", "release-please-config.json",
                ".release-please-manifest.json", "{.,}goreleaser.y{a,}ml", "{.,}cz.{toml,json,yaml,yml}",
                ".release-it.{json,yaml,yml,toml,js,cjs}", "jreleaser.{yml,yaml,toml,json}",
                ".changeset/config.json", "package.json", "pyproject.toml")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.path.startswith(".github/workflows/") or doc.path == ".gitlab-ci.yml":
            yield from self._ci(doc)
        elif doc.name == "package.json":
            yield from self._package(doc)
        elif doc.name == "pyproject.toml":
            try:
                tool = doc.toml.get("tool")
            except ParseError:
                return  # not ours to report
            if isinstance(tool, dict) and isinstance(tool.get("commitizen"), dict):
                yield signal("release_automation", doc.path,
                             doc.line_of(r"^\s*\[tool\.commitizen\]") or 1,
                             "commitizen configuration", tools=["commitizen"])
        elif doc.path.endswith(".changeset/config.json"):
            if isinstance(doc.json, dict):
                yield signal("release_automation", doc.path, 1, "changesets configuration",
                             tools=["changesets"])
        else:
            tool = next((t for rx, t in CONFIGS if rx.match(doc.name)), None)
            if tool is None:
                return
            if doc.name.endswith(".json"):
                doc.json
            elif doc.name.endswith((".yml", ".yaml")) or doc.name == ".releaserc":
                doc.yaml  # .releaserc is JSON or YAML: YAML reads both
            elif doc.name.endswith(".toml"):
                doc.toml
            else:
                doc.text  # a JavaScript config: by name only, never run
            yield signal("release_automation", doc.path, 1, f"{tool} configuration",
                         tools=[tool])

    def _package(self, doc: Document) -> Iterator[Signal]:
        try:
            pkg = doc.json
        except ParseError:
            return  # the Node detectors own package.json errors
        if not isinstance(pkg, dict):
            return
        for key, tool in (("release", "semantic-release"), ("release-it", "release-it")):
            if isinstance(pkg.get(key), dict):
                yield signal("release_automation", doc.path,
                             doc.line_of(rf'^\s*"{key}"\s*:') or 1, f"{tool} in package.json",
                             tools=[tool])

    def _ci(self, doc: Document) -> Iterator[Signal]:
        for hit in find(doc, actions=tuple(TOOL_ACTIONS), programs=tuple(TOOL_PROGRAMS)):
            if hit.via == "run":
                args = [w for w in hit.words[1:] if not w.startswith("-")]
                if hit.words[0] in ("cz", "changeset") and not (args and args[0] in (
                        "bump", "publish", "version", "release")):
                    continue  # `cz check`, `changeset status`
                if hit.words[0] == "goreleaser" and (args[:1] in (["check"], ["build"]) or
                                                     "--snapshot" in hit.words):
                    continue  # a test build, not a release
                tool, what = TOOL_PROGRAMS[hit.words[0]], f"runs {hit.words[0]}"
            else:
                tool = next(t for a, t in TOOL_ACTIONS.items() if hit.step.action.startswith(a))
                args = str(hit.inputs.get("args") or "").split()
                if tool == "goreleaser" and (args[:1] in (["check"], ["build"]) or
                                             "--snapshot" in args):
                    continue  # a test build, not a release
                what = f"uses {hit.step.action}"
            yield signal("release_automation", doc.path, hit.line, f"job {hit.job.id} {what}",
                         tools=[tool])
        p = lenient_pipeline(doc)
        if p is None:
            return
        if p.system == "github_actions":
            name = f"{doc.name} {p.raw.get('name') or ''}"
            # a tag or release run; or a workflow named for releasing, run by hand or on pushes
            # (release-on-merge: it tags the version and publishes, as hadolint's does)
            if not (_tag_or_release(p.raw) or
                    ({"workflow_dispatch", "push"} & set(p.triggers) and
                     _MANUAL_NAME.search(name))):
                return
            hits = [h for h in find(doc, actions=PUBLISH_ACTIONS, programs=tuple(PUBLISH_RUNS))
                    if _publishes(h)]
            hits += [Hit(j, Step(j.line, j.id, j.uses), j.raw.line_of("uses"), "workflow")
                     for j in p.jobs if _delegates_publishing(j)]
        else:  # GitLab: a job with `release:` or a publish script in a tag pipeline
            hits = [h for h in find(doc, programs=tuple(PUBLISH_RUNS))
                    if _publishes(h) and _on_tags(h.job.raw)]
            for job in p.jobs:
                if isinstance(job.raw, dict) and isinstance(job.raw.get("release"), dict):
                    yield signal("release_automation", doc.path, job.raw.line_of("release"),
                                 f"job {job.id} creates a release", tools=["release-workflow"])
        for h in hits[:3]:
            what = h.step.action if h.via != "run" else " ".join(h.words[:2])
            yield signal("release_automation", doc.path, h.line,
                         f"release workflow: job {h.job.id} publishes ({what})",
                         tools=["release-workflow"])


DETECTOR = ReleaseAutomationDetector()
