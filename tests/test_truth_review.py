"""Verdicts checked against real repositories by reading them (docs/truth-review.md): each
finding's general cause, fixed, on hand-written fixtures under fixtures/truth_review/."""
from __future__ import annotations

from pathlib import Path

from maturity_scan import api, report
from maturity_scan.testing import scan_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "truth_review"


def _assess(case: str, pack: str = api.DEFAULT_PACK) -> tuple[object, dict]:
    result = scan_fixture(FIXTURES / case)
    rep = report.build(result, api.assess(result, api.get_pack(pack)), timings=False)
    report.validate(rep)
    return result, rep


def _status(rep: dict, requirement: str) -> str:
    for dim in rep["dimensions"]:
        for req in dim.get("requirements") or ():
            if req["id"] == requirement:
                return req["status"]
    raise AssertionError(f"{requirement} not in the report")


def _level(rep: dict, dimension: str) -> object:
    return next(d["level"] for d in rep["dimensions"] if d["id"] == dimension)


def _near_miss(case: str, fact: str, requirement: str) -> None:
    """A near-miss case: the GitHub Actions fact is false and the requirement missing."""
    result, rep = _assess(case)
    assert not result.signal("github_actions").facts[fact]
    assert _status(rep, requirement) == "missing"


def _evidence(result, kind: str, fact: str) -> set[tuple[str, int]]:
    sig = result.signal(kind)
    return {(e.path, e.line) for e in sig.evidence if fact in e.supports} if sig else set()


# --- "scripts to rule them all": `scripts/test` run by CI (found on encode/httpx) ------------

def test_extensionless_scripts_run_by_ci_are_followed() -> None:
    """encode/httpx runs `scripts/test` (a `#!/bin/sh` file without extension, called without
    `./`) whose `${PREFIX}coverage run -m pytest` is the test run: "tests run in CI" was missing
    in every pack. GitHub's `script/cibuild` convention is the same shape."""
    result, rep = _assess("positive_scripts_to_rule_them_all")
    gha = result.signal("github_actions")
    assert gha.facts["runs_tests"] is True
    assert _evidence(result, "github_actions", "runs_tests") >= {
        (".github/workflows/test-suite.yml", 16), ("scripts/test", 9),
        (".github/workflows/test-suite.yml", 22), ("script/cibuild", 4)}
    assert _status(rep, "quality.tests_in_ci") == "met"
    assert _status(rep, "delivery.tests_on_pull_requests") == "met"
    assert _level(rep, "quality") == 3


def test_scripts_that_run_no_tests_or_are_not_shell_do_not_count() -> None:
    """Near miss: a shell script that only mentions pytest in a comment and an echo, and
    Python scripts (`scripts/test.py`, `scripts/unit` with a python shebang) are not followed."""
    result, rep = _assess("negative_scripts_without_tests")
    gha = result.signal("github_actions")
    assert gha.facts["runs_tests"] is False
    assert not any(e.path.startswith("scripts/") for e in gha.evidence)
    assert _status(rep, "quality.tests_in_ci") == "missing"
    assert _status(rep, "delivery.tests_on_pull_requests") == "missing"


def test_malformed_scripts_are_read_best_effort() -> None:
    """A script with unbalanced quotes is read word by word; a binary file and a file with no
    shebang are not read as scripts; nothing is an error."""
    result, _ = _assess("malformed_scripts")
    gha = result.signal("github_actions")
    assert _evidence(result, "github_actions", "runs_tests") == {
        (".github/workflows/ci.yml", 8), ("scripts/test", 2)}
    assert not any(e.path in ("scripts/blob", "scripts/noshebang") for e in gha.evidence)
    assert not result.errors


# --- `kubectl rollout status` and `--dry-run` are no deployment (found on stakater/Reloader) --

def test_a_deploy_counts_on_its_apply_not_on_the_wait_after_it() -> None:
    """A job that applies then waits: the deploy is the `kubectl apply` line (11), never the
    `kubectl rollout status` line (13)."""
    result, rep = _assess("positive_deploy_then_wait")
    gha = result.signal("github_actions")
    assert gha.facts["deploys"] is True and gha.facts["deploy_tools"] == ["kubectl"]
    assert _evidence(result, "github_actions", "deploys") == {
        (".github/workflows/deploy.yml", 11)}
    assert _status(rep, "delivery.automated_deploy") == "met"


def test_waiting_for_a_rollout_or_a_dry_run_deploys_nothing() -> None:
    """stakater/Reloader's e2e setup script `kubectl rollout status`-es what it installed: that
    line was "deploys (kubectl rollout)". A `--dry-run` apply or helm upgrade validates. A job
    doing only these (even with an `environment:`) deploys nothing."""
    result, rep = _assess("negative_validate_and_wait")
    gha = result.signal("github_actions")
    assert not gha.facts.get("deploys")
    assert not gha.facts.get("deploy_environments")
    assert _evidence(result, "github_actions", "deploys") == set()
    assert _status(rep, "delivery.automated_deploy") == "missing"


def test_malformed_rollout_commands() -> None:
    """`kubectl rollout` with no verb and an unterminated quote deploy nothing; `rollout undo`
    changes the cluster and counts."""
    result, _ = _assess("malformed_rollout")
    assert _evidence(result, "github_actions", "deploys") == {(".github/workflows/ci.yml", 10)}
    assert not result.errors


# --- a linter is no policy scanner (found on terraform-aws-modules/terraform-aws-eks) --------

def test_policy_scanners_that_run_are_told_apart_from_linters() -> None:
    """`iac_scanning.policy_scanners`: checkov / tfsec / KICS / terrascan that run (a CI step or
    a pre-commit hook), with the lines that run them; tflint alongside is a linter."""
    result, _ = _assess("positive_policy_scanner_runs")
    sig = result.signal("iac_scanning")
    assert sig.facts["policy_scanners"] == ["checkov", "tfsec"]
    assert _evidence(result, "iac_scanning", "policy_scanners") == {
        (".github/workflows/iac.yml", 9), (".pre-commit-config.yaml", 7)}


def test_a_linter_run_and_an_unused_scanner_config_are_no_policy_scanning() -> None:
    """terraform-aws-eks: only `terraform_tflint` runs, yet kmm said "Compliance checks run as
    code in CI" (security 4) and devops "scanned against policies". tflint and cfn-lint run, a
    `.checkov.yml` nothing runs, checkov in an echo: no policy scanner runs."""
    result, _ = _assess("negative_linter_only")
    sig = result.signal("iac_scanning")
    assert sig.facts["in_ci"] and sig.facts["pre_commit"]  # the linters still check IaC
    assert not sig.facts.get("policy_scanners")
    assert _evidence(result, "iac_scanning", "policy_scanners") == set()


def test_malformed_pre_commit_config_names_no_policy_scanner() -> None:
    result, _ = _assess("malformed_iac_hooks")
    assert result.signal("iac_scanning") is None
    assert [e.path for e in result.errors] == [".pre-commit-config.yaml"]


# --- `uses: ./`: the repository's own root action (found on getsentry/self-hosted) -----------

def test_a_job_using_the_root_action_runs_what_the_action_runs() -> None:
    """getsentry/self-hosted's test workflow runs its integration suite through `uses: './'`
    (the root `action.yaml`, whose step runs pytest): "tests run in CI" was missing."""
    result, rep = _assess("positive_root_action")
    gha = result.signal("github_actions")
    assert gha.facts["runs_tests"] and gha.facts["tests_on_pull_request"]
    assert _evidence(result, "github_actions", "runs_tests") == {
        (".github/workflows/test.yml", 12), ("action.yml", 13)}
    assert _status(rep, "quality.tests_in_ci") == "met"
    assert _status(rep, "delivery.tests_on_pull_requests") == "met"
    assert any(e.detail == "job integration-test -> action ./" for e in gha.evidence)


def test_a_root_action_that_runs_no_tests_adds_none() -> None:
    _near_miss("negative_root_action_no_tests", "runs_tests", "quality.tests_in_ci")


def test_malformed_root_action_and_odd_local_paths() -> None:
    """A root action.yml that is not YAML, `./@v1` and `./../elsewhere`: nothing followed,
    nothing raised."""
    result, _ = _assess("malformed_root_action")
    gha = result.signal("github_actions")
    assert not gha.facts["runs_tests"]
    assert [(e.path, e.line) for e in gha.evidence] == [(".github/workflows/ci.yml", 1)]


# --- a Terraform module with examples and docs is infrastructure (terraform-aws-eks) ---------

def _archetype(result) -> tuple[list[str], set[tuple[str, object]]]:
    sig = result.signal("archetype")
    return sig.facts["types"], {(e.path, e.line) for e in sig.evidence}


def test_a_module_with_examples_and_a_docs_site_is_infrastructure() -> None:
    """terraform-aws-eks (root module, 19 `examples/*`, mkdocs) was "a documentation site and an
    examples collection and an infrastructure (IaC) repository" in every n/a reason; the
    evidence named an example's main.tf."""
    result, rep = _assess("positive_module_with_examples_and_docs")
    types, evidence = _archetype(result)
    assert types == ["infrastructure"]
    assert evidence == {("main.tf", None)}
    arch = next(d for d in rep["dimensions"] if d["id"] == "architecture")
    assert arch["status"] == "not_applicable"
    assert arch["reason"].endswith("this repository is an infrastructure (IaC) repository "
                                   "(inferred from its files)")
    assert _level(rep, "iac") == 2


def test_examples_without_a_root_module_stay_an_examples_collection() -> None:
    result, _ = _assess("negative_examples_without_root_module")
    types, evidence = _archetype(result)
    assert types == ["examples", "infrastructure"]
    assert ("examples/", None) in evidence


def test_malformed_module_files_still_say_what_the_repository_is() -> None:
    """Unparsable .tf files and mkdocs.yml: the archetype is read from paths; the Terraform
    detector reports the files."""
    result, _ = _assess("malformed_module_with_examples")
    types, evidence = _archetype(result)
    assert types == ["infrastructure"] and evidence == {("main.tf", None)}
    assert {e.path for e in result.errors} >= {"main.tf", "examples/a/main.tf"}


# --- the road skips levels with nothing to do (kmm on encode/httpx) --------------------------

def _dim(rep: dict, dim_id: str) -> dict:
    return next(d for d in rep["dimensions"] if d["id"] == dim_id)


def test_the_next_level_is_the_first_with_something_to_do() -> None:
    """httpx (a library) in kmm: culture said "next: level 2 (Learning and Experimentation)"
    with nothing under it (its one requirement does not apply to a library) while CODEOWNERS,
    the level-3 step, went unsaid; security said "next: level 2 (Network Policies)" and
    nothing; automation, at 3 with everything above n/a, showed an empty level 4."""
    from maturity_scan.reporters import text

    _, rep = _assess("positive_scripts_to_rule_them_all", "kmm")
    culture, automation, security = (_dim(rep, d) for d in ("culture", "automation", "security"))
    assert culture["level"] == 1 and culture["next"]["level"] == 3
    assert [m["requirement"] for m in culture["next"]["missing"]] == [
        "culture.ownership_defined", "culture.collaboration_conventions"]
    assert all(lv["missing"] for d in rep["dimensions"] for lv in d["road"])
    assert automation["level"] == 3 and automation["next"] is None and automation["road"] == []
    assert security["next"]["level"] == 4
    assert [m["requirement"] for m in security["next"]["missing"]] == ["security.compliance_in_ci"]
    out = text.render(rep)
    assert "nothing above level 3 applies to this repository" in out
    assert "top level reached" not in out


def test_a_level_met_above_a_gap_is_no_step() -> None:
    """Near miss: a service whose levels above the gap all miss something keeps every one on
    the road (nothing is dropped that still needs work)."""
    _, rep = _assess("positive_deploy_then_wait")
    delivery = _dim(rep, "delivery")
    assert [lv["level"] for lv in delivery["road"]] == [
        lv["level"] for lv in delivery["road"] if lv["missing"]]
    assert delivery["next"] == delivery["road"][0]


# --- an operator's sample resources are not its deployment (argoproj-labs/argocd-operator) ---

def test_operator_samples_and_nested_examples_are_set_aside() -> None:
    """argocd-operator: `config/samples/argoproj.io_v1alpha1_application.yaml` (a sample CR of
    the operator's API) and `controllers/argocdagent/example/*.yaml` made devops delivery 4
    ("deployment is automated", "continuous and gated"), gitops 4 and kmm automation 4. They
    are set aside as test data; the manager's Deployment still counts."""
    from maturity_scan.engine.scan import path_scope

    assert path_scope("config/samples/argoproj.io_v1alpha1_application.yaml") == "test"
    assert path_scope("controllers/argocdagent/example/managed-guestbook.yaml") == "test"
    assert path_scope("docs/examples/app.yaml") == "test"
    result, rep = _assess("positive_operator_samples")
    argocd = result.signal("argocd")
    assert argocd.facts == {}
    assert {(e.path, e.line, e.scope) for e in argocd.evidence} >= {
        ("config/samples/argoproj.io_v1alpha1_application.yaml", 1, "test"),
        ("internal/controller/agent/example/managed-guestbook.yaml", 1, "test")}
    assert result.stats.set_aside == {"test": 2}
    assert _status(rep, "delivery.automated_deploy") == "missing"
    assert _status(rep, "delivery.gated_continuous_delivery") == "missing"
    assert _status(rep, "architecture.kubernetes_workloads") == "met"
    _, gitops = _assess("positive_operator_samples", "gitops")
    assert _status(gitops, "gitops.reconciled_from_git") == "missing"


def test_top_level_examples_and_lookalike_folders_keep_counting() -> None:
    """Near miss: a top-level `examples/` (an examples collection is made of it) and a folder
    merely named `examples-service/` are the repository's own."""
    from maturity_scan.engine.scan import path_scope

    assert path_scope("examples/k8s/hpa.yaml") is None
    assert path_scope("samples/app.yaml") is None and path_scope("deploy/samples/x.yaml") is None
    result, rep = _assess("negative_top_level_examples")
    assert result.signal("argocd").facts["applications"] == 3
    assert all(e.scope is None for e in result.signal("argocd").evidence)
    assert _status(rep, "delivery.automated_deploy") == "met"


def test_a_malformed_sample_is_set_aside_not_an_error() -> None:
    result, rep = _assess("malformed_operator_samples")
    assert result.stats.set_aside == {"test": 1}
    assert result.signal("argocd") is None or not result.signal("argocd").facts
    assert _status(rep, "delivery.automated_deploy") == "missing"


# --- Makefile variables that name a tool (kubebuilder Makefiles; argocd-operator) ------------

def test_tools_run_through_makefile_variables_are_read() -> None:
    """argocd-operator's `make docker-build` runs `$(CONTAINER_RUNTIME) build` (CONTAINER_RUNTIME
    := $(shell command -v docker …)): kmm "a pipeline builds the containers" was missing."""
    result, rep = _assess("positive_make_tool_variables")
    gha = result.signal("github_actions")
    assert gha.facts["builds_images"] and gha.facts["publishes_images"]
    assert ("Makefile", 15) in _evidence(result, "github_actions", "builds_images")
    assert ("Makefile", 19) in _evidence(result, "github_actions", "publishes_images")
    assert ("Makefile", 11) in _evidence(result, "github_actions", "runs_tests")
    _, kmm = _assess("positive_make_tool_variables", "kmm")
    assert _status(kmm, "automation.container_pipeline") == "met"


def test_variables_that_name_no_tool_or_sit_in_an_argument_stay_unread() -> None:
    """A version, a flag list, a helper script's output; a tool variable inside an echo."""
    result, _ = _assess("negative_make_variables_not_tools")
    gha = result.signal("github_actions")
    assert not gha.facts["builds_images"]
    assert not any(e.path == "Makefile" for e in gha.evidence)


def test_malformed_makefile_variables() -> None:
    result, _ = _assess("malformed_make_variables")
    gha = result.signal("github_actions")
    assert not gha.facts["builds_images"]
    assert not any(e.path == "Makefile" for e in gha.evidence)
    assert not result.errors


# --- a cluster a recipe creates covers the calls after it (stakater/Reloader) ----------------

def test_deploys_into_the_cluster_a_recipe_created_are_an_e2e_test() -> None:
    """Reloader: `make e2e-setup` runs `kind create cluster` and then
    `./scripts/e2e-cluster-setup.sh`, which installs Argo Rollouts and Vault with kubectl and
    helm: that was "deployment is automated" in devops, cnmm and kmm."""
    result, rep = _assess("positive_recipe_own_cluster")
    gha = result.signal("github_actions")
    assert not gha.facts.get("deploys") and gha.facts["e2e_tests"]
    assert _evidence(result, "github_actions", "e2e_tests") >= {
        (".github/workflows/e2e.yml", 8), ("Makefile", 10), ("scripts/e2e-setup.sh", 3),
        ("scripts/e2e-setup.sh", 4)}
    assert _evidence(result, "github_actions", "deploys") == set()
    assert _status(rep, "delivery.automated_deploy") == "missing"


def test_a_recipe_that_starts_compose_then_deploys_still_deploys() -> None:
    """Near miss: `docker compose up` is no cluster; the helm upgrade after it deploys."""
    result, rep = _assess("negative_recipe_deploys")
    assert _evidence(result, "github_actions", "deploys") >= {("scripts/deploy.sh", 2)}
    assert _status(rep, "delivery.automated_deploy") == "met"


def test_a_cluster_created_after_the_call_does_not_cover_it() -> None:
    """Malformed order (the script runs before `kind create cluster`) and a recipe calling
    itself: the deploy stays a deploy, nothing loops."""
    result, _ = _assess("malformed_recipe_cluster_order")
    assert ("scripts/install.sh", 2) in _evidence(result, "github_actions", "deploys")
    assert not result.errors


def test_policy_rungs_read_policy_scanners_and_linters_still_validate() -> None:
    """shared.iac_checked ("scanned against policies") reads `policy_scanners`; the linters
    keep counting for shared.iac_validated ("checked automatically")."""
    _, rep = _assess("negative_linter_only")
    assert _status(rep, "iac.policy_scanning") == "missing"
    assert _status(rep, "security.policy_as_code") == "missing"
    assert _status(rep, "iac.checked_in_ci") == "met"
    _, kmm = _assess("negative_linter_only", "kmm")
    assert _status(kmm, "security.compliance_in_ci") == "missing"
    _, devex = _assess("negative_linter_only", "devex")
    assert _status(devex, "devex.security_scanners") == "missing"
    _, rep = _assess("positive_policy_scanner_runs")
    assert _status(rep, "iac.policy_scanning") == "met"
    assert _status(rep, "iac.checked_in_ci") == "met"
    _, kmm = _assess("positive_policy_scanner_runs", "kmm")
    assert _status(kmm, "security.compliance_in_ci") == "met"


# --- a base image given as an ARG default (stakater/Reloader) --------------------------------

def _dockerfile(case: str) -> tuple[dict, set[tuple[int | None, str]]]:
    result, _ = _assess(case)
    sig = result.signal("dockerfile")
    return sig.facts, {(e.line, e.detail) for e in sig.evidence}


def test_a_defaulted_base_image_is_read_as_its_default() -> None:
    """Reloader: `FROM ${BASE_IMAGE:-gcr.io/distroless/static:nonroot}` was shown as
    `FROM ${BASE_IMAGE:-gcr.io/distroless/static` (cut at the tag's colon)."""
    facts, evidence = _dockerfile("positive_defaulted_base_image")
    assert facts["base_images"] == ["gcr.io/distroless/static", "golang"]
    assert (5, "FROM gcr.io/distroless/static") in evidence


def test_a_base_image_without_default_stays_a_variable() -> None:
    facts, evidence = _dockerfile("negative_variable_base_image")
    assert facts["base_images"] == [] and (2, "FROM ${BASE}") in evidence


def test_malformed_base_image_references() -> None:
    facts, evidence = _dockerfile("malformed_base_image")
    assert facts["base_images"] == [] and {ln for ln, _ in evidence} >= {1, 2, 3}


# --- one meaning of "unit tests" in every pack (fluxcd/flux2-monitoring-example) -------------

UNIT_TEST_RUNGS = (("devops", "quality.unit_tests"), ("cnmm", "testing.unit_tests"),
                   ("devex", "devex.unit_tests"))


def _unit_test_rungs(case: str) -> dict[str, str]:
    return {pack: _status(_assess(case, pack)[1], rid) for pack, rid in UNIT_TEST_RUNGS}


def test_a_gitops_repositorys_validated_manifests_are_its_unit_tests_in_every_pack() -> None:
    """flux2-monitoring-example validates every manifest with kubeconform in CI: devops said
    "Unit tests exist" (its GitOps reading), cnmm "Add unit tests next to the code" (testing
    1) for the same evidence. Every pack now reads shared.unit_tests."""
    assert _unit_test_rungs("positive_gitops_validated") == {
        "devops": "met", "cnmm": "met", "devex": "met"}
    result, rep = _assess("positive_gitops_validated", "cnmm")
    ev = next(r for d in rep["dimensions"] for r in d["requirements"]
              if r["id"] == "testing.unit_tests")["evidence"]
    assert {(e["path"], e.get("line")) for e in ev} >= {(".github/workflows/test.yaml", 11),
                                                        ("scripts/validate.sh", 4)}


def test_unvalidated_or_unreadable_gitops_manifests_are_no_unit_tests() -> None:
    assert set(_unit_test_rungs("negative_gitops_unvalidated").values()) == {"missing"}
    assert set(_unit_test_rungs("malformed_gitops_validation").values()) == {"missing"}


# --- Django's `python manage.py test` is a test run ------------------------------------------

def test_django_test_commands_are_test_runs() -> None:
    """`python -u manage.py test` (also `./manage.py test`, `coverage run manage.py test`,
    `django-admin test`, `python -m django test`) is how a Django project runs its tests in
    CI; it was no test run at all, so a Django service's tests were "not run in CI"."""
    from maturity_scan.sdk import shell

    for script in ("./manage.py test", "coverage run --source=. manage.py test app",
                   "docker compose run app /venv/bin/python manage.py test",
                   "django-admin test", "python -m django test", "python src/manage.py test"):
        assert shell.runs(script, shell.TESTS), script
    result, rep = _assess("positive_django_tests")
    assert _evidence(result, "github_actions", "runs_tests") == {
        (".github/workflows/django.yml", 16)}
    assert _status(rep, "quality.tests_in_ci") == "met"
    assert _status(rep, "delivery.tests_on_pull_requests") == "met"


def test_other_manage_py_commands_and_echoes_are_no_test_run() -> None:
    from maturity_scan.sdk import shell

    assert not shell.runs("python manage.py migrate --noinput", shell.TESTS)
    assert list(shell.commands("python manage.py migrate")) == [["manage.py", "migrate"]]
    result, rep = _assess("negative_django_commands")
    assert not result.signal("github_actions").facts["runs_tests"]
    assert _status(rep, "quality.tests_in_ci") == "missing"


def test_malformed_python_command_lines() -> None:
    result, _ = _assess("malformed_django_commands")
    assert not result.signal("github_actions").facts["runs_tests"]
    assert not result.errors


# --- monorepo task runners and other test runners -------------------------------------------

def test_monorepo_and_other_test_runners_are_test_runs() -> None:
    """`turbo run test`, `nx run-many -t test`, `bazel test //...`, `ginkgo -r` (a kubebuilder
    operator's e2e suite), `gotestsum`, `lerna run test`, `sbt +test`, `kuttl test`,
    `chainsaw test`: no test run before, so a pnpm/turbo or Bazel monorepo's tests were "not
    run in CI"."""
    result, rep = _assess("positive_monorepo_test_runners")
    assert _evidence(result, "github_actions", "runs_tests") >= {
        (".github/workflows/ci.yml", 13), (".github/workflows/ci.yml", 23), ("Makefile", 3)}
    assert _status(rep, "quality.tests_in_ci") == "met"


def test_builds_versions_and_installs_are_no_test_runs() -> None:
    """`turbo run build lint`, `nx build`, `bazel build`, `pytest --version` (was counted),
    `ginkgo version`, `composer install`."""
    _near_miss("negative_monorepo_runners_no_tests", "runs_tests", "quality.tests_in_ci")


def test_malformed_runner_lines() -> None:
    result, _ = _assess("malformed_test_runner_lines")
    assert not result.signal("github_actions").facts["runs_tests"] and not result.errors


# --- CLI groups whose verb decides: `argocd app sync` deploys, `argocd app get` reads --------

def test_cli_deploy_verbs_deploy_on_their_own_line() -> None:
    result, rep = _assess("positive_cli_deploy_verbs")
    assert _evidence(result, "github_actions", "deploys") == {
        (".github/workflows/deploy.yml", 11), (".github/workflows/deploy.yml", 18)}
    assert result.signal("github_actions").facts["deploy_tools"] == ["argocd", "terragrunt"]
    assert _status(rep, "delivery.automated_deploy") == "met"


def test_cli_read_verbs_deploy_nothing() -> None:
    """`argocd app diff|list|get|wait`, `terragrunt run-all plan`, `copilot svc ls` read: each
    was "deploys"."""
    _near_miss("negative_cli_read_verbs", "deploys", "delivery.automated_deploy")


def test_malformed_cli_verbs() -> None:
    result, _ = _assess("malformed_cli_verbs")
    assert not result.signal("github_actions").facts["deploys"] and not result.errors


# --- Laravel: `php artisan test`, `php artisan migrate` ---------------------------------------

def test_laravel_tests_and_migrations_run_by_ci() -> None:
    """`php artisan test` is Laravel's test runner and `php artisan migrate --force` applies its
    migrations (the accuracy set's 3sidedcube/laravel-api-template shape): both were read as
    the program `php`, nothing."""
    result, rep = _assess("positive_laravel_ci")
    assert _evidence(result, "github_actions", "runs_tests") == {
        (".github/workflows/laravel.yml", 13)}
    mig = result.signal("db_migrations")
    assert mig.facts["runs_in"] == ["ci"] and "laravel" in mig.facts["tools"]
    assert (".github/workflows/laravel.yml", 12) in _evidence(result, "db_migrations", "runs_in")
    assert _status(rep, "quality.tests_in_ci") == "met"
    assert _status(rep, "data.migrations_automated") == "met"


def test_other_artisan_commands_run_nothing() -> None:
    _near_miss("negative_laravel_commands", "runs_tests", "quality.tests_in_ci")


def test_malformed_php_lines() -> None:
    result, _ = _assess("malformed_php_lines")
    assert not result.signal("github_actions").facts["runs_tests"] and not result.errors
