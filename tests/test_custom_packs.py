"""An organization publishes its own ladder without touching maturity-scan's code: a rule
directory (`--rules DIR`) adds or replaces packs, and a detector plugin installed through the
`maturity_scan.detectors` entry point adds kinds those rules use."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PLUGIN = '''
from maturity_scan.detector import signal
from maturity_scan.model import kind


class FeatureFlags:
    id = "acme_flags"
    description = "ACME feature-flag definitions (flags.yaml)"
    kinds = {"feature_flags": kind("ACME feature flags", flags="count")}
    patterns = ("flags.yaml",)

    def analyze(self, doc):
        data = doc.yaml
        flags = data.get("flags") if isinstance(data, dict) else None
        if isinstance(flags, list):
            yield signal("feature_flags", doc.path, 1, "flags.yaml", flags=len(flags))


DETECTOR = FeatureFlags()
'''

RULES = '''
pack: acme
title: ACME release ladder
dimensions:
  - id: release
    title: Release safety
    levels:
      - {level: 1, name: Big bang}
      - {level: 2, name: Flagged, requires: [release.flags]}
      - {level: 3, name: Many flags, requires: [release.many_flags]}
requirements:
  - id: release.flags
    title: Features ship behind flags
    hint: Declare new features in `flags.yaml` and keep them off until verified.
    when: {kind: feature_flags}
  - id: release.many_flags
    title: Every feature is flagged
    hint: Put each user-facing change behind its own flag in `flags.yaml`.
    when: {fact: feature_flags.flags, at_least: 3}
'''


def install_plugin(site: Path) -> None:
    """A real installed distribution (dist-info with entry points), as pip would leave it."""
    (site / "acme_flags.py").write_text(PLUGIN)
    info = site / "acme_flags-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-flags\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[maturity_scan.detectors]\nacme_flags = acme_flags:DETECTOR\n")


def run(args: list[str], site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "maturity_scan", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_custom_detector_and_custom_pack(tmp_path: Path) -> None:
    site, rules, repo = tmp_path / "site", tmp_path / "rules", tmp_path / "repo"
    site.mkdir(), rules.mkdir(), repo.mkdir()
    install_plugin(site)
    (rules / "acme.yaml").write_text(RULES)
    (repo / "flags.yaml").write_text("flags:\n  - new_checkout\n  - dark_mode\n")

    listed = run(["detectors", "list"], site)
    assert "acme_flags" in listed.stdout and "feature_flags" in listed.stdout

    done = run(["scan", str(repo), "--rules", str(rules), "--pack", "acme",
                "--format", "json", "-j", "0"], site)
    assert done.returncode == 0, done.stderr
    rep = json.loads(done.stdout)
    dim = rep["dimensions"][0]
    assert (rep["pack"], dim["level"]) == ("acme", 2)
    assert dim["met"][0]["evidence"] == [{"path": "flags.yaml", "line": 1, "detail": "flags.yaml"}]
    assert dim["next"]["missing"][0]["requirement"] == "release.many_flags"

    validated = run(["rules", "validate", str(rules)], site)
    assert validated.returncode == 0 and "pack acme" in validated.stdout


def test_custom_rules_without_the_plugin_name_the_unknown_kind(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(RULES)
    done = run(["rules", "validate", str(rules)], tmp_path)
    assert done.returncode == 2
    assert "acme.yaml" in done.stderr and "release.flags" in done.stderr
    assert "unknown kind feature_flags" in done.stderr


def test_a_rules_directory_replaces_a_builtin_pack_by_id(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "gitops.yaml").write_text(RULES.replace("pack: acme", "pack: gitops")
                                       .replace("{kind: feature_flags}", "{kind: readme}")
                                       .replace("{fact: feature_flags.flags, at_least: 3}",
                                                "{fact: readme.has_setup_section}"))
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("# x\n\n## Getting started\n\nRun it.\n")
    done = run(["scan", str(repo), "--rules", str(rules), "--pack", "gitops", "--format", "json",
                "-j", "0"], tmp_path)
    assert done.returncode == 0, done.stderr
    rep = json.loads(done.stdout)
    assert rep["pack_title"] == "ACME release ladder"
    assert rep["dimensions"][0]["level"] == 3
