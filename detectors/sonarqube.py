"""SonarQube / SonarCloud: `sonar-project.properties` (or SonarCloud's automatic-analysis
`.sonarcloud.properties`) and a Sonar scan in CI (the Sonar scan
actions, `sonar-scanner`, `mvn sonar:sonar`, `gradle sonar`, `dotnet sonarscanner`)."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal
from maturity_scan.sdk.ci import CI_FILES, find

ACTIONS = ("sonarsource/sonarqube-scan-action", "sonarsource/sonarcloud-github-action",
           "sonarsource/sonarcloud-github-c-cpp", "sonarsource/sonarqube-github-c-cpp")
BUILD_TOOLS = {"mvn", "mvnw", "gradle", "gradlew", "dotnet", "dotnet-sonarscanner"}
IMAGES = ("sonarsource/sonar-scanner-cli",)


def _is_scan(words: list[str]) -> bool:
    if words[0] in ("sonar-scanner", "sonar-scanner.bat"):
        return not any(w in ("-v", "--version", "-h", "--help") for w in words[1:])
    if words[0] in BUILD_TOOLS:
        return any(w.startswith(("sonar:sonar", "org.sonarsource.scanner.maven:")) or
                   w in ("sonar", "sonarqube", "sonarscanner") for w in words[1:])
    return False


class SonarqubeDetector:
    id = "sonarqube"
    description = "SonarQube / SonarCloud: sonar-project.properties and Sonar scans in CI"
    kinds = {"sonarqube": kind("Code quality and security analysis with SonarQube/SonarCloud",
                               in_ci="flag", projects="count")}
    patterns = (*CI_FILES, "sonar-project.properties", "/.sonarcloud.properties")

    def analyze(self, doc: Document) -> Iterable[Signal]:
        if doc.name in ("sonar-project.properties", ".sonarcloud.properties"):
            line = doc.line_of(r"^\s*sonar\.[\w.-]+\s*[=:]")
            if line:
                yield signal("sonarqube", doc.path, line, "Sonar project configuration",
                             projects=1)
            return
        for hit in find(doc, actions=ACTIONS, programs=("sonar-scanner", *BUILD_TOOLS),
                        images=IMAGES):
            if hit.via == "run" and not _is_scan(hit.words):
                continue
            what = hit.step.action if hit.via == "action" else hit.words[0]
            yield signal("sonarqube", doc.path, hit.line,
                         f"job {hit.job.id} {'runs' if hit.via == 'run' else 'uses'} {what}",
                         in_ci=True)


DETECTOR = SonarqubeDetector()
