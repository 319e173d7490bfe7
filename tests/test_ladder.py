"""The DevEx ladder of seed 000, a half step at a time: each repository is built here from the
seed's words for its step (each step adds to the one below), scores exactly that step, and
near misses (a step's look without its substance) do not climb.

The ladder describes services, so every repository is assessed as one (`archetype: service`).
Near misses that today's detectors cannot yet tell apart are marked xfail (strict): each names
the fact it waits for (docs/progress/issue-11.md); they turn into failures, to be unmarked, the
day the fact lands."""
from __future__ import annotations

from pathlib import Path

import pytest

from maturity_scan import api
from maturity_scan.testing import scan_fixture

PIN = "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1"


def ci(*, scanner: bool = False, tests: bool = False, deploy: bool = False) -> str:
    """000 2.0 "gitflow trunk branch-based release cicd", then what each step adds to it."""
    steps = [f"      - uses: {PIN}", "      - run: make build"]
    if tests:  # 000 3.0 "qa automation and cicd automations"
        steps.append("      - run: pytest -q")
    if scanner:  # 000 2.5 "security scanner tools"
        steps += ["      - uses: aquasecurity/trivy-action@d43c1f16c00cfd3978dde6c07f4bbcf9eb6993ca",
                  "        with:", "          scan-type: fs"]
    text = ("name: ci\non:\n  pull_request:\n  push:\n    branches: [main]\npermissions:\n"
            "  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
            + "\n".join(steps) + "\n")
    if deploy:  # 000 Level 3 "Cloud deployments are perfectly automated"
        text += ("  deploy:\n    if: github.ref == 'refs/heads/main'\n    needs: build\n"
                 "    runs-on: ubuntu-latest\n    environment: production\n    steps:\n"
                 f"      - uses: {PIN}\n      - run: helm upgrade --install orders charts/orders\n")
    return text


def kubify(name: str, *, init: str = '["alembic", "upgrade", "head"]', full: bool = False) -> str:
    """000 Level 4 "Kubify"; 4.5 "1 file per service ... if I want a postgres db ... backs up
    the DBs ... on down"."""
    text = (f"apiVersion: k8.kubify.local/v1\nkind: Config\nmetadata:\n  name: {name}\nspec:\n"
            f"  service:\n    port: 8080\n  init:\n    command: {init}\n")
    if full:
        text += ('  depends_on:\n    - payments\n  postgres:\n    version: "16"\n'
                 '    backup:\n      schedule: "0 2 * * *"\n')
    return text


# 000 3.5 "automate regression tests by trunk branch ran daily accross entire infra and has
# alerting in cicd giflow automation": a nightly job starts the whole stack, runs the regression
# suite against it and tells the team on Slack when it fails.
REGRESSION = ("name: regression\non:\n  schedule:\n    - cron: \"0 4 * * *\"\npermissions:\n"
              "  contents: read\njobs:\n  full:\n    runs-on: ubuntu-latest\n    steps:\n"
              f"      - uses: {PIN}\n"
              "      - run: docker compose up -d --wait\n"
              "      - run: pytest tests -m regression\n"
              "      - if: failure()\n"
              "        uses: slackapi/slack-github-action@485a9d42d3a73031f12ec201c457e2162c45d02d\n"
              "        with:\n          webhook: ${{ secrets.SLACK_WEBHOOK_URL }}\n"
              "          webhook-type: incoming-webhook\n"
              "          payload: '{\"text\": \"nightly regression failed\"}'\n")
# 000 4.5 "Regression tests use Kubify, so they test in a real full environment".
KUBIFY_REGRESSION = REGRESSION.replace("docker compose up -d --wait", "kubify up")
# 000 4.5 "automate qa as much as possible end to end": browser tests on every pull request.
E2E = ("name: e2e\non:\n  pull_request:\npermissions:\n  contents: read\njobs:\n  e2e:\n"
       f"    runs-on: ubuntu-latest\n    steps:\n      - uses: {PIN}\n"
       "      - run: npx playwright test\n")
# Production alert rules: another practice than alerting in CI/CD (a near miss for 3.5).
ALERTS = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: orders\n"
          "spec:\n  groups:\n    - name: orders\n      rules:\n        - alert: OrdersDown\n"
          "          expr: up{job=\"orders\"} == 0\n")

# Each half step: the files its words add (a later step may replace a file).
STEPS: list[tuple[float, dict[str, str]]] = [
    # 1.0 "lift and shift": code, nothing else
    (1, {"services/orders/app/main.py": "def handler(event):\n    return {'ok': True}\n"}),
    # 1.5 (000 Level 2 "Docs on Level 1 Process")
    (1.5, {"README.md": "# orders\n\n## Getting started\n\n    make build\n    make run\n"}),
    # 2.0 "terraform ... Automated Cloud Resources", "versioning in place per repo",
    # "gitflow trunk branch-based release cicd"
    (2, {"infra/main.tf": 'resource "aws_s3_bucket" "uploads" {\n  bucket = "orders-uploads"\n}\n',
         "release-please-config.json": '{"packages": {".": {"release-type": "simple"}}}\n',
         ".github/workflows/ci.yml": ci()}),
    # 2.5 "local testing (with minimal deps), docker-compose automations", "alembic db migration
    # automation", "security scanner tools"
    (2.5, {"docker-compose.yml": "services:\n  orders:\n    build: services/orders\n"
                                 "  postgres:\n    image: postgres:16\n",
           "services/orders/alembic.ini": "[alembic]\nscript_location = migrations\n",
           "services/orders/migrations/env.py":
               "from alembic import context\n\n\ndef run_migrations_online():\n"
               "    context.run_migrations()\n",
           "services/orders/migrations/versions/0001_create_orders.py":
               'from alembic import op\nimport sqlalchemy as sa\n\nrevision = "0001"\n'
               'down_revision = None\n\n\ndef upgrade():\n    op.create_table("orders", '
               'sa.Column("id", sa.Integer, primary_key=True))\n',
           ".github/workflows/ci.yml": ci(scanner=True)}),
    # 3.0 "Unit Tests in place", "qa automation and cicd automations", "Cloud deployments are
    # perfectly automated"
    (3, {"tests/test_orders.py": "def test_handler():\n    assert True\n",
         ".github/workflows/ci.yml": ci(scanner=True, tests=True, deploy=True)}),
    # 3.5 "daily regression by trunk across the entire infra ... with alerting"
    (3.5, {".github/workflows/regression.yml": REGRESSION}),
    # 4.0 "Kubify", "the entire infra ... runs ... locally", "db migrations automated"
    (4, {"services/orders/kubify.yaml": kubify("orders"),
         "Makefile": "build:\n\tdocker build services/orders\n\nup:\n\tkind create cluster\n"}),
    # 4.5 "1 file per service, 1 file per environment", "if I want a postgres db", "backs up the
    # DBs ... restores the real data on up"
    (4.5, {"services/orders/kubify.yaml": kubify("orders", full=True),
           "services/payments/kubify.yaml": kubify("payments"),
           "environments/dev.yaml": "apiVersion: kubify.kubify.local/v1\nkind: Environment\n"
                                    "metadata:\n  name: dev\nspec:\n  services:\n"
                                    "    orders: 1.0.0\n    payments: 1.0.0\n",
           # "Regression tests use Kubify, so they test in a real full environment"
           ".github/workflows/regression.yml": KUBIFY_REGRESSION,
           # "automate qa as much as possible end to end"
           ".github/workflows/e2e.yml": E2E}),
    # 5.0 "automated IDE onboarding", "automated workstation onboarding", tests in the hook
    (5, {".devcontainer/devcontainer.json": '{"name": "orders", "image": '
                                            '"mcr.microsoft.com/devcontainers/python:3.12", '
                                            '"postCreateCommand": "make setup"}\n',
         "Makefile": "build:\n\tdocker build services/orders\n\nup:\n\tkind create cluster\n\n"
                     "setup:\n\tbrew bundle\n\tpre-commit install\n\t$(MAKE) up\n",
         # "QA full regression ... is also part of git pre-commit hook"
         ".pre-commit-config.yaml": "repos:\n  - repo: local\n    hooks:\n      - id: tests\n"
                                    "        name: tests\n        entry: pytest -q\n"
                                    "        language: system\n        pass_filenames: false\n"}),
]


def files_up_to(step: float) -> dict[str, str]:
    out: dict[str, str] = {}
    for level, files in STEPS:
        if level <= step:
            out.update(files)
    return out


def level(tmp_path: Path, files: dict[str, str]) -> float:
    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    result = scan_fixture(root)
    dim = api.assess(result, api.get_pack("devex"), None, ["service"]).dimension("devex")
    assert dim is not None
    return dim.level


@pytest.mark.parametrize("step", [s for s, _ in STEPS], ids=[f"{s:g}" for s, _ in STEPS])
def test_each_half_step_scores_exactly_its_step(tmp_path: Path, step: float) -> None:
    assert level(tmp_path, files_up_to(step)) == step


def test_an_empty_ignore_file_is_no_scanner(tmp_path: Path) -> None:
    files = files_up_to(2.5)
    files[".github/workflows/ci.yml"] = ci()
    files[".trivyignore"] = ""
    assert level(tmp_path, files) == 2


def _gap(fact: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"needs {fact} (docs/progress/issue-11.md)")


def test_a_unit_only_nightly_is_no_regression_across_the_infra(tmp_path: Path) -> None:
    files = files_up_to(3.5)
    files[".github/workflows/regression.yml"] = REGRESSION.replace(
        "      - run: docker compose up -d --wait\n", "").replace(
        "pytest tests -m regression", "pytest tests/unit")
    assert level(tmp_path, files) == 3


def test_an_environment_started_after_the_tests_is_no_regression_across_the_infra(
        tmp_path: Path) -> None:
    files = files_up_to(3.5)
    files[".github/workflows/regression.yml"] = REGRESSION.replace(
        "      - run: docker compose up -d --wait\n      - run: pytest tests -m regression\n",
        "      - run: pytest tests/unit\n      - run: docker compose up -d --wait\n")
    assert level(tmp_path, files) == 3


def test_the_nightly_on_pull_requests_only_is_not_daily(tmp_path: Path) -> None:
    files = files_up_to(3.5)
    files[".github/workflows/regression.yml"] = REGRESSION.replace(
        "on:\n  schedule:\n    - cron: \"0 4 * * *\"\n", "on:\n  pull_request:\n")
    assert level(tmp_path, files) == 3


@pytest.mark.parametrize("variant", ["no step", "a step that always runs", "alert rules only"])
def test_a_nightly_that_tells_nobody_has_no_alerting(tmp_path: Path, variant: str) -> None:
    files = files_up_to(3.5)
    wf = files[".github/workflows/regression.yml"]
    if variant == "no step":
        wf = wf.split("      - if: failure()")[0]
    elif variant == "a step that always runs":
        wf = wf.replace("      - if: failure()\n        uses:", "      - uses:")
    else:
        wf = wf.split("      - if: failure()")[0]
        files["monitoring/alerts.yaml"] = ALERTS
    files[".github/workflows/regression.yml"] = wf
    assert level(tmp_path, files) == 3


def test_a_service_without_kubify_yaml_keeps_4_5_away(tmp_path: Path) -> None:
    files = files_up_to(4.5)
    files["services/billing/Dockerfile"] = "FROM python:3.12-slim\n"
    files["services/billing/main.py"] = "print('billing')\n"
    assert level(tmp_path, files) == 4


@pytest.mark.parametrize("what", ["compose_regression", "e2e_not_run"])
def test_4_5_needs_kubify_regression_and_end_to_end_qa(tmp_path: Path, what: str) -> None:
    """000 4.5: a nightly against a compose stack is a full environment but not Kubify's; a
    Playwright config and an e2e folder nothing in CI runs automate no QA."""
    files = files_up_to(4.5)
    if what == "compose_regression":
        files[".github/workflows/regression.yml"] = REGRESSION
    else:
        del files[".github/workflows/e2e.yml"]
        files["playwright.config.ts"] = "export default {testDir: './e2e'}\n"
        files["e2e/orders.spec.ts"] = "import {test} from '@playwright/test'\ntest('x', () => {})\n"
    assert level(tmp_path, files) == 4


def test_an_echo_only_init_is_no_automated_migration(tmp_path: Path) -> None:
    files = files_up_to(4)
    files["services/orders/kubify.yaml"] = kubify("orders", init='["echo", "hello"]')
    del files["services/orders/alembic.ini"]  # nothing else runs the migrations
    assert level(tmp_path, files) == 3.5


def test_an_install_only_makefile_is_no_workstation_onboarding(tmp_path: Path) -> None:
    files = files_up_to(5)
    files["Makefile"] = "install:\n\tpip install -e .\n"
    del files[".devcontainer/devcontainer.json"]
    files[".devcontainer/devcontainer.json"] = '{"image": "mcr.microsoft.com/devcontainers/base"}\n'
    assert level(tmp_path, files) == 4.5


@pytest.mark.parametrize("where, text", [
    ("Dockerfile", 'FROM python:3.12-slim\nCMD ["sh", "-c", "python manage.py migrate && gunicorn orders.wsgi"]\n'),
    (".github/workflows/migrate.yml", "name: migrate\non:\n  push:\n    branches: [main]\njobs:\n"
     "  migrate:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python manage.py migrate\n"),
])
def test_django_migrations_run_by_automation_are_automated(tmp_path: Path, where: str,
                                                            text: str) -> None:
    """Issue 11: Django (Rails, Flyway, Liquibase …) migrations applied by automation count
    the way Alembic's do; the echo-only init stays below 4 without them."""
    files = files_up_to(4)
    files["services/orders/kubify.yaml"] = kubify("orders", init='["echo", "hello"]')
    for rel in [r for r in files if "alembic" in r or "/migrations/" in r]:
        del files[rel]
    files["services/orders/orders/migrations/0001_initial.py"] = (
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n    initial = True\n    operations = []\n")
    assert level(tmp_path, files) == 3.5
    files[where] = text
    assert level(tmp_path, files) == 4
