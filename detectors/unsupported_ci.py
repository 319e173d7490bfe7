"""CI systems this scanner does not read (Travis CI, Drone, AppVeyor, Cirrus, Buildkite,
Woodpecker, Semaphore, Bitrise, TeamCity): their configuration is noted where the system reads
it, so the report says which pipelines were not assessed (`unsupported` in the JSON report)
rather than silently ignoring them. Their jobs count for nothing: tests or deploys that run only
there are not credited."""
from __future__ import annotations

from collections.abc import Iterable

from maturity_scan.sdk import Document, Signal, kind, signal

# where each system reads its configuration -> its name (the evidence detail)
SYSTEMS = {
    "/.travis.yml": "Travis CI", "/.travis.yaml": "Travis CI",
    "/.drone.yml": "Drone", "/.drone.yaml": "Drone",
    "/appveyor.yml": "AppVeyor", "/.appveyor.yml": "AppVeyor",
    "/.cirrus.yml": "Cirrus CI", "/.cirrus.star": "Cirrus CI",
    "/.buildkite/pipeline.yml": "Buildkite", "/.buildkite/pipeline.yaml": "Buildkite",
    "/.woodpecker.yml": "Woodpecker", "/.woodpecker.yaml": "Woodpecker",
    "/.woodpecker/*.yml": "Woodpecker", "/.woodpecker/*.yaml": "Woodpecker",
    "/.semaphore/semaphore.yml": "Semaphore", "/bitrise.yml": "Bitrise",
    "/.teamcity/settings.kts": "TeamCity",
}


def system_of(path: str) -> str | None:
    if path.startswith(".woodpecker/") and path.count("/") == 1:
        return "Woodpecker"
    return SYSTEMS.get(f"/{path}")


class UnsupportedCiDetector:
    id = "unsupported_ci"
    description = "CI systems that are noted but not read (Travis CI, Drone, AppVeyor, …)"
    kinds = {"unsupported_ci": kind("A CI system whose pipelines this scanner does not read",
                                    systems="set")}
    patterns = tuple(SYSTEMS)

    def analyze(self, doc: Document) -> Iterable[Signal]:
        system = system_of(doc.path)
        if system is None:
            return
        if not any(line.strip() and not line.lstrip().startswith(("#", "//"))
                   for line in doc.text.splitlines()):
            return  # an empty or comment-only file configures nothing
        yield signal("unsupported_ci", doc.path, 1, system, systems=[system])


DETECTOR = UnsupportedCiDetector()
