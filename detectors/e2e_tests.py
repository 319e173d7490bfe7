"""End-to-end, browser and load tests: Cypress, Playwright, WebdriverIO, Nightwatch, k6,
Locust, Robot Framework, Gatling and JMeter; test code in a folder (`test/e2e/**/*_test.go`,
`tests/e2e/test_*.py`, `e2e/**/*.spec.ts` …) or a file (`e2e_kms_test.go`, `app.e2e-spec.ts`)
named for end-to-end tests; and end-to-end tests a CI pipeline runs: a deploy into a throwaway
cluster the same job creates (kind, k3d, minikube), a Cypress or Playwright run, a Kubernetes
test runner (`maturity_scan.sdk.ci.e2e_steps`)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, ci, kind, signal
from maturity_scan.sdk.globs import compile_globs

BY_NAME = {"cypress.config": "cypress", "cypress.json": "cypress",
           "playwright.config": "playwright", "wdio.conf": "webdriverio",
           "nightwatch.conf": "nightwatch", "locustfile": "locust"}
K6 = re.compile(r"""from\s+['"]k6(/[\w-]+)?['"]""")
LOCUST = re.compile(r"^\s*from locust import|^\s*import locust", re.M)
ROBOT = re.compile(r"^\*{3}\s*(Test Cases|Tasks|Settings)\s*\*{3}", re.M | re.I)
# test code (by the unit-test conventions of its language) in a folder named for end-to-end
# tests: `test/e2e/core/workloads_test.go`, `tests/e2e/test_login.py`, `e2e/app.spec.ts`
E2E_DIRS = "{e2e,e2e-tests,e2e_tests,end-to-end,endtoend}"
SUITES = (f"**/{E2E_DIRS}/**/*_test.go", f"**/{E2E_DIRS}/**/test_*.py",
          f"**/{E2E_DIRS}/**/*_test.py", f"**/{E2E_DIRS}/**/*.{{spec,test}}.{{js,ts,mjs,jsx,tsx}}",
          f"**/{E2E_DIRS}/**/*{{Test,IT}}.{{java,kt}}", f"**/{E2E_DIRS}/**/*_spec.rb",
          # … or named for them: test/e2e_kms_test.go, test_e2e_login.py, app.e2e-spec.ts (Nest)
          "e2e_*_test.go", "*_e2e_test.go", "test_e2e*.py", "*_e2e_test.py",
          "*.e2e-spec.{js,ts}", "*.e2e.{spec,test}.{js,ts,mjs,jsx,tsx}")
_TEST_CODE = re.compile(r"^[ \t]*func\s+Test\w*\s*\(|\bginkgo\b|"
                        r"^[ \t]*(?:async\s+)?def\s+test\w*\s*\(|"
                        r"\b(?:describe|it|test)\s*\(\s*['\"`]|@Test\b|"
                        r"^[ \t]*(?:describe|it)\s+['\"]", re.M)
_INPUTS = re.compile(r"(^|/)(testdata|test-data|fixtures|__fixtures__)/")  # test inputs


class E2eTestsDetector:
    id = "e2e_tests"
    description = "End-to-end and load tests (Cypress, Playwright, k6, Locust, Robot, …)"
    kinds = {"e2e_tests": kind("Tests that exercise the running system", tools="set")}
    patterns = ("cypress.config.{js,ts,mjs,cjs}", "cypress.json", "playwright.config.{js,ts,mjs,cjs}",
                "wdio.conf.{js,ts}", "nightwatch.conf.{js,cjs}", "locustfile*.py",
                "**/{k6,load,loadtest,load-test,load-tests,perf,performance}/**/*.{js,ts}",
                "*.k6.{js,ts}", "*.robot", "**/gatling/**/*.{scala,java,kt}", "*.jmx",
                *SUITES, *ci.CI_PATTERNS, *ci.GITHUB_ACTIONS_LOCAL)  # + composite actions

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name.endswith((".yml", ".yaml")) or "jenkinsfile" in doc.name.lower():
            p = ci.lenient_pipeline(doc)  # the CI system's detector owns the file's errors
            for job, step, what in ci.e2e_steps(p) if p is not None else ():
                tool = "cluster" if " cluster" in what else what.split(" ")[0]
                tool = {"kubectl": "kuttl", "kubectl-kuttl": "kuttl"}.get(tool, tool)
                yield signal("e2e_tests", doc.path, step.line, f"CI job {job.id} runs {what}",
                             tools=[tool])
            if p is not None or doc.path.startswith((".github/", ".gitlab-ci", ".circleci/")):
                return
        if compile_globs(SUITES).match(doc.path):  # compiled on first use, then kept
            found = None if _INPUTS.search(doc.path) else _TEST_CODE.search(doc.text)
            if found:  # an end-to-end suite; its language's unit-test conventions name the file
                yield signal("e2e_tests", doc.path, doc.text.count("\n", 0, found.start()) + 1,
                             "end-to-end test suite", tools=["suite"])
            return
        stem = doc.name.split(".", 1)[0] if not doc.name.startswith("cypress.json") else "cypress.json"
        stem = next((k for k in BY_NAME if doc.name.startswith(k)), stem)
        text = doc.text
        if not text.strip():
            return
        tool = BY_NAME.get(stem)
        if tool == "locust" and not LOCUST.search(text):
            return
        if tool is None:
            if doc.name.endswith(".robot"):
                tool = "robot" if ROBOT.search(text) else None
            elif doc.name.endswith(".jmx"):
                tool = "jmeter" if "<jmeterTestPlan" in text[:2048] else None
            elif "/gatling/" in f"/{doc.path}":
                tool = "gatling" if "io.gatling" in text else None
            else:
                tool = "k6" if K6.search(text) else None
        if tool:
            yield signal("e2e_tests", doc.path, 1, f"{tool} tests", tools=[tool])


DETECTOR = E2eTestsDetector()
