"""Chart templates switched off by default (`{{ if .Values.x.enabled }}` with `enabled: false`
in the chart's values.yaml) are offered, not shipped: detected, but set aside with scope
"disabled" (engine.helmscope; docs/truth-review.md, Reloader)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maturity_scan import api, report
from maturity_scan.engine.helmscope import guard_from_note, guard_note, is_off, template_guard
from maturity_scan.engine.scan import ScanOptions, scan_source
from maturity_scan.engine.source import GitRevisionSource, WorkTreeSource
from tests import gitrepo

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "helm_values"
NP = "charts/app/templates/networkpolicy.yaml"


def _scan(root: Path, **opts: object):  # type: ignore[no-untyped-def]
    return scan_source(WorkTreeSource(root), ScanOptions(jobs=0, **opts))  # type: ignore[arg-type]


def _ev(result, kind: str) -> list[tuple[str, int | None, str, str | None]]:  # type: ignore[no-untyped-def]
    sig = result.signal(kind)
    assert sig is not None, kind
    return [(e.path, e.line, e.detail, e.scope) for e in sig.evidence]


def _levels(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    ev = api.assess(result, api.get_pack("devops"), archetypes=["service"])
    return {d.id: d.level for d in ev.dimensions}


@pytest.mark.parametrize("text, guard", [
    ("{{- if .Values.networkPolicy.enabled }}\nkind: X\n{{- end }}\n",
     (("networkPolicy", "enabled"),)),
    ("{{/* a note */}}\n{{- if and .Values.a.on .Values.b -}}\nkind: X\n{{- end -}}\n",
     (("a", "on"), ("b",))),
    ("{{- with .Values.pdb }}\nkind: X\nspec: {{ toYaml . }}\n{{- end }}", (("pdb",),)),
    ("{{- if .Values.a }}\n{{- if .Values.b }}x: 1{{ end }}\nkind: X\n{{- end }}",
     (("a",),)),  # an inner block
    # not evaluated: other conditions, an else branch, text outside the block, two blocks
    ("{{- if or .Values.a .Values.b }}\nkind: X\n{{- end }}", None),
    ("{{- if not .Values.a }}\nkind: X\n{{- end }}", None),
    # `and` is off as soon as one plain path is: the other operands need not be evaluated
    ("{{- if and .Values.a (eq .Values.b \"x)\") }}\nkind: X\n{{- end }}", (("a",),)),
    (("{{- if and (.Capabilities.APIVersions.Has \"autoscaling.k8s.io/v1\") "
      "(.Values.reloader.vpa.enabled) }}\nkind: X\n{{- end }}"), (("reloader", "vpa", "enabled"),)),
    ("{{- if and ( .Values.reloader.netpol.enabled ) }}\nkind: X\n{{- end }}",
     (("reloader", "netpol", "enabled"),)),  # as Reloader's chart writes it
    ("{{- if ( .Values.podMonitor.enabled ) }}\nkind: X\n{{- end }}", (("podMonitor", "enabled"),)),
    ("{{- if and (not (.Values.a)) (.Values.rbac.on) }}\nkind: X\n{{- end }}", (("rbac", "on"),)),
    ("{{- if and (.Capabilities.APIVersions.Has \"x\") (include \"y\" .) }}\nkind: X\n{{- end }}",
     None),  # no plain path to evaluate
    ("{{- if and .Values.a (eq .Values.b }}\nkind: X\n{{- end }}", None),  # unbalanced
    ("{{- if (.Values.a }}\nkind: X\n{{- end }}", None),
    ("{{- if .Values.a }}\nkind: X\n{{- else }}\nkind: Y\n{{- end }}", None),
    ("{{- if .Values.a }}\nkind: X\n{{- end }}\n---\nkind: Y\n", None),
    ("kind: Y\n{{- if .Values.a }}\nkind: X\n{{- end }}", None),
    ("{{- if .Values.a }}x{{ end }}\n{{- if .Values.b }}y{{ end }}", None),
    ("{{- if $.Values.a }}\nkind: X\n{{- end }}", None),
    ("{{- if .Values.a }}\nkind: X\n", None),  # never closed
    ("{{- if .Values.a }}\nkind: X\n{{- end", None),
    ("kind: X\n", None),
    ("", None),
])
def test_template_guard(text: str, guard: tuple[tuple[str, ...], ...] | None) -> None:
    assert template_guard(text) == guard


@pytest.mark.parametrize("values, off", [
    ({"a": {"on": False}}, True), ({"a": {"on": None}}, True), ({"a": {}}, True),
    ({}, True), (None, True), ({"a": {"on": ""}}, True), ({"a": {"on": 0}}, True),
    ({"a": {"on": True}}, False), ({"a": {"on": "yes"}}, False), ({"a": {"on": [1]}}, False),
    ({"a": "text"}, False),  # Helm itself would fail: not evaluated, counts
])
def test_is_off(values: object, off: bool) -> None:
    assert is_off(values, (("a", "on"),)) is off


def test_hostile_template_stays_linear() -> None:
    assert template_guard("{{" * 200_000) is None
    assert template_guard("{{/*" * 200_000) is None
    assert template_guard("{{- if .Values.a }}" * 50_000) is None


def test_templates_off_by_default_are_set_aside() -> None:
    result = _scan(CASES / "off_by_default")
    assert result.errors == ()
    assert result.stats.set_aside == {"disabled": 3}
    assert _ev(result, "network_policy") == [(NP, 3, "NetworkPolicy", "disabled")]
    assert _ev(result, "autoscaling") == [
        ("charts/app/templates/hpa.yaml", 2, "HorizontalPodAutoscaler", "disabled")]
    assert _ev(result, "rbac") == [("charts/app/templates/role.yaml", 2, "Role", "disabled")]
    for kind in ("network_policy", "autoscaling", "rbac"):
        assert result.signal(kind).facts == {}  # type: ignore[union-attr]
    chart = result.signal("helm_chart")
    assert chart is not None and chart.facts["template_kinds"] == ["Deployment"]
    assert _levels(result)["security"] == 1
    rep = report.build(result, api.assess(result, api.get_pack("devops")), timings=False)
    report.validate(rep)
    assert rep["stats"]["files_set_aside"] == {"disabled": 3}
    np_json = next(s for s in rep["signals"] if s["kind"] == "network_policy")
    assert np_json["evidence"] == [{"path": NP, "line": 3, "detail": "NetworkPolicy",
                                    "scope": "disabled"}]
    security = next(d for d in rep["dimensions"] if d["id"] == "security")
    assert security["met"] == []
    assert [m["requirement"] for m in security["next"]["missing"]] == ["security.hygiene"]
    from maturity_scan.reporters import text
    assert "3 set aside as chart templates off by default" in text.render(rep)


def test_templates_on_by_default_count() -> None:
    result = _scan(CASES / "on_by_default")
    assert result.stats.set_aside == {}
    assert _ev(result, "network_policy") == [(NP, 3, "NetworkPolicy", None)]
    assert result.signal("network_policy").facts["policies"] == 1  # type: ignore[union-attr]
    assert result.signal("autoscaling").facts["autoscalers"] == 1  # type: ignore[union-attr]
    assert result.signal("rbac").facts == {"roles": 1}  # type: ignore[union-attr]
    assert _levels(result)["security"] == 2
    ev = api.assess(result, api.get_pack("devops"))
    security = next(d for d in ev.dimensions if d.id == "security")
    met = {r.id: r for lv in security.met for r in lv.requirements}
    assert "security.hygiene" in met


def test_conditions_not_evaluated_keep_counting() -> None:
    result = _scan(CASES / "unevaluable")
    assert result.stats.set_aside == {}
    assert all(e.scope is None for s in result.signals for e in s.evidence)
    assert result.signal("network_policy").facts["policies"] == 1  # type: ignore[union-attr]
    assert result.signal("autoscaling").facts["autoscalers"] == 1  # type: ignore[union-attr]
    assert result.signal("rbac").facts == {"roles": 1}  # type: ignore[union-attr]
    assert _levels(result)["security"] == 2


def test_malformed_values_is_an_error_and_templates_count() -> None:
    result = _scan(CASES / "malformed_values")
    assert [(e.path, e.detector) for e in result.errors] == [
        ("charts/app/values.yaml", "helm_values")]
    assert result.errors[0].message.startswith("invalid YAML at line 3")
    assert "count as shipped" in result.errors[0].message
    assert _ev(result, "network_policy") == [(NP, 3, "NetworkPolicy", None)]
    assert result.stats.set_aside == {}


def test_chart_without_values_leaves_every_value_missing() -> None:
    result = _scan(CASES / "no_values")
    assert _ev(result, "network_policy") == [(NP, 3, "NetworkPolicy", "disabled")]
    assert result.stats.set_aside == {"disabled": 1}


def test_include_set_aside_disabled_counts_them_again() -> None:
    result = _scan(CASES / "off_by_default", include_scopes=("disabled",))
    assert result.stats.set_aside == {}
    assert result.signal("network_policy").facts["policies"] == 1  # type: ignore[union-attr]
    assert _levels(result)["security"] == 2


def test_cached_scan_sees_a_changed_values_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CASES / "off_by_default", root)
    cache_dir = tmp_path / "cache"
    first = _scan(root, cache=True, cache_dir=cache_dir)
    assert _ev(first, "network_policy")[0][3] == "disabled"
    values = root / "charts/app/values.yaml"
    values.write_text(values.read_text().replace("enabled: false", "enabled: true"))
    second = _scan(root, cache=True, cache_dir=cache_dir)
    assert _ev(second, "network_policy") == [(NP, 3, "NetworkPolicy", None)]
    assert second.signal("network_policy").facts["policies"] == 1  # type: ignore[union-attr]
    assert second.stats.set_aside == {"disabled": 2}  # the HPA and the Role stay off


def test_hostile_values_is_refused_not_loaded(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(CASES / "no_values", root)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    (root / "charts/app/values.yaml").write_text(bomb + "networkPolicy: {enabled: false}\n")
    result = _scan(root)
    assert [(e.path, e.detector) for e in result.errors] == [
        ("charts/app/values.yaml", "helm_values")]
    assert "refused" in result.errors[0].message
    assert _ev(result, "network_policy") == [(NP, 3, "NetworkPolicy", None)]


class _CountingRevision(GitRevisionSource):
    """A revision that records which files the scan reads."""

    def __init__(self, root: Path, rev: str) -> None:
        super().__init__(root, rev)
        self.reads: list[str] = []

    def read(self, path: str, limit: int | None = None) -> bytes:
        self.reads.append(path)
        return super().read(path, limit)


def test_cached_rescan_reads_no_template(tmp_path: Path) -> None:
    """A template's guard is kept in the parse cache by blob: an unchanged rescan decides what
    is off from the cache and a fresh read of values.yaml alone; a changed template is read
    and its guard found again."""
    root = gitrepo.init(tmp_path / "repo")
    shutil.copytree(CASES / "off_by_default", root, dirs_exist_ok=True)
    first_rev = gitrepo.commit(root, "chart")
    opts = ScanOptions(jobs=0, cache=True, cache_dir=tmp_path / "cache")
    first = scan_source(_CountingRevision(root, first_rev), opts)
    assert first.stats.set_aside == {"disabled": 3}
    again = _CountingRevision(root, first_rev)
    second = scan_source(again, opts)
    assert again.reads == ["charts/app/values.yaml"]  # no template, no other file
    assert second.signals == first.signals and second.stats.set_aside == {"disabled": 3}
    text = (root / NP).read_text().replace(".Values.networkPolicy.enabled",
                                           ".Values.replicaCount")  # on by default
    changed = _CountingRevision(root, gitrepo.commit(root, "policy on", {NP: text}))
    third = scan_source(changed, opts)
    assert sorted(changed.reads) == [NP, "charts/app/values.yaml"]
    assert _ev(third, "network_policy") == [(NP, 3, "NetworkPolicy", None)]
    assert third.stats.set_aside == {"disabled": 2}
    nocache = _CountingRevision(root, first_rev)
    assert scan_source(nocache, ScanOptions(jobs=0, cache=False)).signals == first.signals
    assert NP in nocache.reads


@pytest.mark.parametrize("note", [None, {}, "a", [["a", 1]], [[]], ["a"], [[["a"]]]])
def test_a_corrupt_guard_note_is_refused(note: object) -> None:
    with pytest.raises(ValueError):
        guard_from_note(note)


def test_guard_note_round_trips() -> None:
    for guard in (None, (("a", "on"),), (("a",), ("b", "c"))):
        assert guard_from_note(guard_note(guard)) == guard
