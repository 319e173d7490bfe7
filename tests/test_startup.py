"""Start-up: a command imports only what it needs, and validated rule packs are kept between
runs (assess.packs.PackStore) without ever serving a changed pack stale.

Imports are checked in fresh `python -I` interpreters (sys.modules after the import or the
command), so a module-level import added anywhere on the path of `scan` shows up here."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from maturity_scan import api
from maturity_scan.assess import packs as rulepacks
from maturity_scan.cli import main
from maturity_scan.engine import cache, registry
from maturity_scan.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("networkx", "jsonschema", "git", "rich", "jinja2", "httpx", "matplotlib", "ruamel")


def loaded_after(code: str, cwd: Path = Path("/")) -> set[str]:
    """The top-level packages (and maturity_scan modules) loaded after running `code` in a fresh
    isolated interpreter."""
    probe = (f"import sys\n{code}\n"
             "import json\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} | "
             "{m for m in sys.modules if m.startswith('maturity_scan.')})))\n")
    out = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True,
                         check=False, timeout=120, cwd=cwd, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_cli_loads_no_command_and_no_heavy_library() -> None:
    loaded = loaded_after("import maturity_scan.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert not {m for m in loaded if m.startswith("maturity_scan.cli.")}  # commands load on use


def test_the_scan_command_loads_neither_the_org_client_nor_graph_libraries() -> None:
    loaded = loaded_after("import maturity_scan.cli.scan")
    unwanted = {"networkx", "jsonschema", "ruamel", "matplotlib", "httpx", "rich",
                "maturity_scan.org.github", "maturity_scan.org.clone", "maturity_scan.org.run"}
    assert not loaded & unwanted, loaded & unwanted


def test_a_scan_with_its_packs_stored_never_loads_the_validators(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n")
    run = f"from maturity_scan.cli import main\nmain(['scan', '-q', '-j', '0', {str(tmp_path)!r}])"
    first = loaded_after(run)
    assert "ruamel" in first  # nothing stored yet: every pack validated
    again = loaded_after(run)
    assert not again & {"ruamel", "jsonschema", "networkx"}, again
    assert (cache.default_dir() / "packs").is_dir()


def test_the_help_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from maturity_scan.cli import COMMANDS, cli

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n  {name} " in out
    assert sorted(cli.commands) == sorted(COMMANDS)
    assert cli.commands["scan"].name == "scan"
    assert main(["sacn"]) == 2
    assert "Did you mean 'scan'" in capsys.readouterr().err


# --- the pack store --------------------------------------------------------------------------

PACK = """\
pack: acme
title: {title}
dimensions:
  - id: ci
    title: CI
    levels:
      - level: 1
      - level: 2
        requires: [ci.has_ci]
requirements:
  - id: ci.has_ci
    title: CI runs
    hint: add a workflow
    when: {when}
"""


def write_pack(folder: Path, title: str = "Acme", when: str = "{kind: gitlab_ci}") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "acme.yaml"
    path.write_text(PACK.format(title=title, when=when))
    return path


def store(tmp_path: Path) -> rulepacks.PackStore:
    return rulepacks.PackStore(tmp_path / "store", "test-version")


def load(path: Path, st: rulepacks.PackStore | None) -> rulepacks.Pack:
    rulepacks._VALIDATED.clear()  # this process's memo would hide the store
    return rulepacks.load_pack(path, registry.kind_specs(), st)


def test_a_stored_pack_equals_the_validated_one(tmp_path: Path) -> None:
    st = store(tmp_path)
    for path in sorted(rulepacks.builtin_dir().glob("[!_]*.yaml")):
        fresh = load(path, None)
        assert load(path, st) == fresh  # validated, then stored
        assert len(list((tmp_path / "store").glob("*.json"))) >= 1
        assert load(path, st) == fresh  # read back


def test_a_stored_pack_is_read_back_without_validating(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    st = store(tmp_path)
    path = write_pack(tmp_path / "rules")
    load(path, st)

    def no(*args: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(rulepacks, "_validated", no)
    assert load(path, st).title == "Acme"


def test_a_changed_pack_is_never_served_stale(tmp_path: Path) -> None:
    st = store(tmp_path)
    path = write_pack(tmp_path / "rules")
    assert load(path, st).title == "Acme"
    write_pack(tmp_path / "rules", title="Acme two")
    assert load(path, st).title == "Acme two"
    write_pack(tmp_path / "rules", when="{kind: no_such_kind}")  # now invalid: an error again
    with pytest.raises(UsageError, match="unknown kind no_such_kind"):
        load(path, st)
    write_pack(tmp_path / "rules")  # back to the first text: its stored copy serves
    assert load(path, st).title == "Acme"


def test_the_same_text_at_another_path_or_version_is_its_own_entry(tmp_path: Path) -> None:
    st = store(tmp_path)
    a = write_pack(tmp_path / "a")
    b = write_pack(tmp_path / "b")
    assert load(a, st).path == str(a)
    assert load(b, st).path == str(b)
    load(a, rulepacks.PackStore(tmp_path / "store", "another-version"))
    assert len(list((tmp_path / "store").glob("*.json"))) == 3


@pytest.mark.parametrize("damage", [
    "",  # truncated
    "{not json",
    "[]",
    '{"id": 1}',
])
def test_a_damaged_stored_pack_is_a_miss(tmp_path: Path, damage: str) -> None:
    st = store(tmp_path)
    path = write_pack(tmp_path / "rules")
    fresh = load(path, st)
    (entry,) = (tmp_path / "store").glob("*.json")
    entry.write_text(damage)
    assert load(path, st) == fresh
    assert json.loads(entry.read_text())["id"] == "acme"  # validated again and stored again


def test_a_tampered_condition_in_a_stored_pack_is_a_miss(tmp_path: Path) -> None:
    st = store(tmp_path)
    path = write_pack(tmp_path / "rules")
    fresh = load(path, st)
    (entry,) = (tmp_path / "store").glob("*.json")
    data = json.loads(entry.read_text())
    data["requirements"][-1]["when"] = {"kind": "no_such_kind"}
    entry.write_text(json.dumps(data))
    assert load(path, st) == fresh


def test_an_unwritable_store_only_costs_time(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("a file where the folder should be")
    path = write_pack(tmp_path / "rules")
    assert load(path, store(tmp_path)).title == "Acme"


def test_the_store_is_private_and_bounded(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rulepacks, "STORE_MAX_FILES", 4)
    st = store(tmp_path)
    for i in range(6):
        load(write_pack(tmp_path / f"r{i}"), st)
    files = list((tmp_path / "store").glob("*.json"))
    assert 2 <= len(files) <= 4
    assert (tmp_path / "store").stat().st_mode & 0o777 == 0o700
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    assert not list((tmp_path / "store").glob(".pack-*"))  # no temporary file left


def test_no_cache_keeps_no_pack_and_rules_validate_always_validates(
        tmp_path: Path, private_cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("# x\n")
    rulepacks._VALIDATED.clear()
    assert main(["scan", str(tmp_path), "-j", "0", "-q", "--no-cache"]) == 0
    assert not (private_cache_dir / "maturity-scan").exists()
    assert api.PACK_STORE.get()  # only for that command
    rules = write_pack(tmp_path / "rules")
    rulepacks._VALIDATED.clear()
    assert main(["scan", str(tmp_path), "-j", "0", "-q", "--rules", str(rules.parent)]) == 0
    assert list((private_cache_dir / "maturity-scan" / "packs").glob("*.json"))
    write_pack(tmp_path / "rules", when="{kind: no_such_kind}")
    capsys.readouterr()
    assert main(["rules", "validate", str(rules.parent)]) == 2
    assert "unknown kind no_such_kind" in capsys.readouterr().err
    assert main(["scan", str(tmp_path), "-j", "0", "-q", "--rules", str(rules.parent)]) == 2


def test_cache_clear_removes_the_stored_packs(tmp_path: Path, private_cache_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text("# x\n")
    rulepacks._VALIDATED.clear()
    assert main(["scan", str(tmp_path), "-j", "0", "-q"]) == 0
    stored = private_cache_dir / "maturity-scan" / cache.PACKS_DIR
    assert list(stored.glob("*.json"))
    assert main(["cache", "clear"]) == 0
    assert not list(stored.glob("*.json"))


def test_a_parser_worker_never_loads_gitpython() -> None:
    """Workers boot on the critical path of a small scan: they load the detectors only."""
    loaded = loaded_after("from maturity_scan.engine import registry, worker\n"
                          "registry.all_detectors()")
    assert not loaded & {"git", "networkx", "jsonschema", "ruamel", "click"}, loaded


def test_a_folder_outside_git_is_scanned_without_gitpython(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n")
    loaded = loaded_after(f"from maturity_scan.cli import main\n"
                          f"main(['scan', '-q', '-j', '0', {str(tmp_path)!r}])")
    assert "git" not in loaded


def test_the_first_worker_starts_on_the_standard_library_alone() -> None:
    """`scan` starts its first parser worker before its own imports (cli.main): what that
    needs loads nothing of ours beyond engine.spawn and engine.isolation."""
    loaded = loaded_after("from maturity_scan.engine import spawn")
    assert {m for m in loaded if m.startswith("maturity_scan.")} == {
        "maturity_scan.engine", "maturity_scan.engine.isolation", "maturity_scan.engine.spawn"}
    assert not loaded & {"yaml", "git", "click", "re2"}
