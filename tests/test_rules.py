"""Rule packs: validation messages name the file, the rule and the key; evaluation is cumulative
and cites the evidence behind each fact."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from maturity_scan.assess.graph import compile_graph, evaluate
from maturity_scan.assess.packs import load_pack
from maturity_scan.errors import UsageError
from maturity_scan.model import Evidence, KindSpec, Signal, kind

KINDS: dict[str, KindSpec] = {
    "terraform": kind("tf", remote_state="flag", backends="set", modules="count",
                      records="records"),
    "github_actions": kind("gha", runs_tests="flag"),
}

BASE = """\
pack: demo
title: Demo
dimensions:
  - id: iac
    title: Infrastructure
    levels:
      - {level: 1}
      - {level: 2, requires: [iac.code]}
      - {level: 3, requires: [iac.remote]}
      - {level: 4, requires: [iac.modules]}
requirements:
  - id: iac.code
    title: Code
    hint: Write code
    when: {kind: terraform}
  - id: iac.remote
    title: Remote
    hint: Use a backend
    when: {all: [{requirement: iac.code}, {fact: terraform.remote_state}]}
  - id: iac.modules
    title: Modules
    hint: Use modules
    when: {fact: terraform.modules, at_least: 2}
"""


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(UsageError) as e:
        load_pack(write(tmp_path, text), KINDS)
    return str(e.value)


def test_valid_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, BASE), KINDS)
    assert [lv.level for lv in pack.dimensions[0].levels] == [1, 2, 3, 4]
    assert set(pack.requirements) == {"iac.code", "iac.remote", "iac.modules"}


def test_unknown_kind(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("{kind: terraform}", "{kind: terraforn}"))
    assert msg == f"{tmp_path}/demo.yaml:15: requirement iac.code: when.kind: unknown kind terraforn"


def test_unknown_fact(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("terraform.modules", "terraform.modulez"))
    assert msg == (f"{tmp_path}/demo.yaml:23: requirement iac.modules: when.fact: unknown fact "
                   "terraform.modulez (facts of terraform: backends, modules, records, "
                   "remote_state)")


def test_bad_operator(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("at_least: 2", "greater_than: 2"))
    assert msg.startswith(f"{tmp_path}/demo.yaml:23: requirement iac.modules: "
                          "when.greater_than: unknown key")


def test_operator_of_the_wrong_type(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("{fact: terraform.remote_state}",
                                          "{fact: terraform.remote_state, at_least: 1}"))
    assert msg == (f"{tmp_path}/demo.yaml:19: requirement iac.remote: when.all[1].at_least: "
                   "bad operator for terraform.remote_state, a flag fact")


def test_records_are_not_testable(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("{fact: terraform.remote_state}",
                                          "{fact: terraform.records}"))
    assert "terraform.records is a list of records, not testable by rules" in msg


def test_duplicate_id(tmp_path: Path) -> None:
    dup = "  - id: iac.code\n    title: Again\n    hint: Again\n    when: {kind: terraform}\n"
    msg = error_of(tmp_path, BASE + dup)
    assert msg == f"{tmp_path}/demo.yaml:24: requirement iac.code: duplicate id"


def test_cycle(tmp_path: Path) -> None:
    text = BASE.replace("when: {kind: terraform}",
                        "when: {any: [{kind: terraform}, {requirement: iac.remote}]}")
    msg = error_of(tmp_path, text)
    assert msg == f"{tmp_path}/demo.yaml: requirement iac.code: cycle: iac.code -> iac.remote -> iac.code"


def test_level_gap(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("{level: 4, requires", "{level: 5, requires"))
    assert msg == (f"{tmp_path}/demo.yaml:10: dimension iac: level 5: level gap: "
                   "expected level 4 (step 1)")


def test_level_one_needs_no_evidence(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("- {level: 1}", "- {level: 1, requires: [iac.code]}"))
    assert "dimension iac: level 1: level 1 needs no evidence" in msg


def test_unknown_requirement_in_level(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("requires: [iac.modules]", "requires: [iac.nope]"))
    assert msg == (f"{tmp_path}/demo.yaml:10: dimension iac: level 4: requires: unknown "
                   "requirement iac.nope")


def test_malformed_yaml(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("title: Demo", "title: [Demo"))
    assert msg.startswith(f"{tmp_path}/demo.yaml:") and "invalid YAML" in msg


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("title: Demo", "title: Demo\ntitle: Again"))
    assert "invalid YAML" in msg


def test_bad_regex(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("{fact: terraform.modules, at_least: 2}",
                                          "{fact: terraform.backends, matches: '('}"))
    assert "requirement iac.modules: when.matches: invalid regular expression" in msg


def sig(kind: str, path: str, line: int, **facts: object) -> Signal:
    return Signal(kind, (Evidence(path, line, "", frozenset(k for k, v in facts.items() if v)),),
                  facts)


def test_levels_are_cumulative_and_cite_fact_evidence(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, BASE), KINDS)
    tf = Signal("terraform", (Evidence("main.tf", 1, "configuration", frozenset({"modules"})),
                              Evidence("main.tf", 4, "backend s3", frozenset({"remote_state"}))),
                {"remote_state": True, "modules": 1})
    result = evaluate(pack, [tf]).dimensions[0]
    assert result.level == 3
    remote = next(r for lv in result.met for r in lv.requirements if r.id == "iac.remote")
    assert [(e.path, e.line) for e in remote.evidence] == [("main.tf", 1), ("main.tf", 4)]
    assert result.next is not None and [r.id for r in result.next.missing] == ["iac.modules"]


def test_a_gap_below_stops_the_climb(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, BASE), KINDS)
    # modules met (level 4's requirement) but remote state missing: level stays 2
    result = evaluate(pack, [sig("terraform", "main.tf", 1, modules=3,
                                 remote_state=False)]).dimensions[0]
    assert result.level == 2
    assert [lv.level for lv in result.road] == [3]  # level 4 misses nothing of its own
    assert next(lv for lv in result.levels if lv.level == 4).met


def test_waiver_counts_as_met_and_is_reported(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, BASE), KINDS)
    result = evaluate(pack, [sig("terraform", "main.tf", 1, modules=3)],
                      {"iac.remote": "state is managed by the platform team"}).dimensions[0]
    assert result.level == 4
    waived = [r for lv in result.met for r in lv.requirements if r.waived]
    assert [(r.id, r.waived) for r in waived] == [("iac.remote",
                                                   "state is managed by the platform team")]


def test_half_steps(tmp_path: Path) -> None:
    text = BASE.replace("title: Demo", "title: Demo\nstep: 0.5").replace(
        "{level: 3, requires", "{level: 1.5, requires").replace("{level: 4, requires",
                                                                "{level: 2.5, requires")
    text = text.replace("- {level: 2, requires: [iac.code]}\n      - {level: 1.5, requires: [iac.remote]}",
                        "- {level: 1.5, requires: [iac.code]}\n      - {level: 2, requires: [iac.remote]}")
    pack = load_pack(write(tmp_path, text), KINDS)
    assert [lv.level for lv in pack.dimensions[0].levels] == [1, 1.5, 2, 2.5]
    result = evaluate(pack, [sig("terraform", "main.tf", 1, remote_state=True)]).dimensions[0]
    assert result.level == 2


def test_graph_shape(tmp_path: Path) -> None:
    g = compile_graph(load_pack(write(tmp_path, BASE), KINDS))
    assert g.has_edge("signal:terraform", "requirement:iac.code")
    assert g.has_edge("requirement:iac.code", "requirement:iac.remote")
    assert g.has_edge("requirement:iac.remote", "level:iac:3")
    assert g.has_edge("level:iac:2", "level:iac:3")
    assert g.has_edge("level:iac:4", "dimension:iac")
