"""Components of a monorepo (issue 15): discovery (the `component` kind), the `components:`
config, per-component assessment, its JSON and text, and the gate per component."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from maturity_scan.engine.scan import ScanResult
from maturity_scan.testing import scan_fixture

ROOT = Path(__file__).resolve().parent.parent


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def components(result: ScanResult) -> list[dict[str, Any]]:
    sig = result.signal("component")
    return list(sig.facts.get("components") or []) if sig else []


KUBIFY = """apiVersion: k8.kubify.local/v1
kind: Config
metadata:
  name: {name}
spec:
  depends_on: [{deps}]
"""
CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  owner: team-{name}
  type: service
"""


def test_test_data_and_vendored_copies_make_no_component(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "tests/fixtures/services/fake/Dockerfile": "FROM scratch\n",
        "tests/fixtures/mono/catalog-info.yaml": CATALOG.format(name="fake"),
        "third_party/tool/kubify.yaml": KUBIFY.format(name="vendored", deps=""),
        "services/real/Dockerfile": "FROM scratch\n",
        "services/real/tests/fixtures/Dockerfile": "FROM scratch\n",
    })
    result = scan_fixture(root)
    assert [(c["name"], c["path"]) for c in components(result)] == [("real", "services/real")]
    sig = result.signal("component")
    assert sig is not None and sig.facts["names"] == ["real"]
    own = [e for e in sig.evidence if not e.scope]
    assert [(e.path, e.line) for e in own] == [("services/real/Dockerfile", 1)]


def test_one_folder_one_component_with_every_source_merged(tmp_path: Path) -> None:
    """A catalog entry and a kubify.yaml in one folder are one component: the catalog names
    it and gives the owner, Kubify what it depends on; nothing is counted twice."""
    root = make(tmp_path, {
        "services/orders/catalog-info.yaml": CATALOG.format(name="orders"),
        "services/orders/kubify.yaml": KUBIFY.format(name="orders-svc", deps="payments"),
        "services/orders/Dockerfile": "FROM scratch\n",
    })
    (comp,) = components(scan_fixture(root))
    assert comp == {"name": "orders", "path": "services/orders", "source": "backstage",
                    "file": "services/orders/catalog-info.yaml", "line": 4,
                    "owner": "team-orders", "type": "service", "depends_on": ["payments"]}
    sig = scan_fixture(root).signal("component")
    assert sig is not None and sig.facts["without_kubify"] == []


def test_source_location_outside_the_repository_keeps_the_catalog_folder(tmp_path: Path) -> None:
    root = make(tmp_path, {
        "catalog-info.yaml": CATALOG.format(name="a").replace(
            "metadata:\n", "metadata:\n  annotations:\n    backstage.io/source-location: "
            "dir:../../elsewhere\n"),
        "deploy/catalog-info.yaml": CATALOG.format(name="b").replace(
            "metadata:\n", "metadata:\n  annotations:\n    backstage.io/source-location: "
            "url:https://github.com/acme/shop/tree/main/services/b/\n"),
        "services/b/main.py": "print('b')\n",
    })
    assert [(c["name"], c["path"]) for c in components(scan_fixture(root))] == [
        ("a", "."), ("b", "services/b")]
