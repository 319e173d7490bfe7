"""Every code snippet of the README is extracted and run: shell commands of maturity-scan run
for real on a git copy of a fixture repository (in the order the README gives them; `org`,
which needs GitHub, is parsed only), the rule-language example is loaded and validated as a
pack, the configuration example is loaded, the workflow and pre-commit examples name inputs and
hooks that exist, the TOML is valid TOML."""
from __future__ import annotations

import re
import shlex
import shutil
import tomllib
from pathlib import Path

import click
import pytest
import yaml

from maturity_scan import config
from maturity_scan.assess import packs as rulepacks
from maturity_scan.cli import cli, main
from maturity_scan.engine import registry
from tests.gitrepo import commit, git, init

ROOT = Path(__file__).resolve().parent.parent
PLATFORM = ROOT / "fixtures" / "repos" / "platform-service"
SNIPPET = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def snippets(lang: str) -> list[str]:
    return [body for kind, body in SNIPPET.findall((ROOT / "README.md").read_text())
            if kind == lang]


def commands() -> list[str]:
    """Each `maturity-scan …` line of the README's shell snippets (comments stripped)."""
    found = []
    for body in snippets("sh"):
        for line in body.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["maturity-scan"]:
                found.append(line)
    return found


def args_of(line: str, top: Path) -> list[str]:
    words = shlex.split(line, comments=True)[1:]
    out = []
    skip = False
    for w in words:
        if skip:
            skip = False
            continue
        if w in (">", ">>"):  # a redirection: the command writes to stdout instead
            skip = True
            continue
        if w == "|":
            break
        out.append({"PATH": str(top), "[PATH]": str(top), "$BASE": "HEAD~1",
                    "$HEAD": "HEAD", "DIR": str(top / "rules")}.get(w, w))
    return out


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform fixture as a git repository: two commits, a tag, an `origin/main`."""
    top = tmp_path_factory.mktemp("readme") / "repo"
    shutil.copytree(PLATFORM, top)
    init(top)
    commit(top, "one")
    git(top, "tag", "v1.4.0")
    commit(top, "two", {"docs/notes.md": "notes\n"})
    git(top, "update-ref", "refs/remotes/origin/main", "HEAD")
    (top / "rules").mkdir()
    (top / "rules" / "acme.yaml").write_text(rule_example())
    return top


def test_the_readme_has_the_snippets_this_test_runs() -> None:
    lines = commands()
    assert len(lines) >= 20
    for needed in ("scan", "explain", "diff", "history", "rules", "org"):
        assert any(line.split()[1] == needed for line in lines), needed


@pytest.mark.parametrize("line", commands())
def test_every_command_of_the_readme_runs(line: str, repo: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(repo)
    args = args_of(line, repo)
    if args[0] == "org" or any("://" in a for a in args):  # needs GitHub: parse it only
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        with cli.make_context("maturity-scan", list(args)) as ctx:
            sub = ctx.command.get_command(ctx, args[0])
            assert sub is not None
            sub.make_context(args[0], args[1:], parent=ctx)
        return
    if "--baseline" in args:  # the README writes the baseline one line earlier
        main(["scan", "--write-baseline", ".maturity-baseline.json", "-j", "0"])
    code = main([*args, *(["-j", "0"] if args[0] in ("scan", "explain", "diff") else [])])
    out, err = capsys.readouterr()
    assert code in (0, 1), f"{line}\n{err}"  # 1: a gate the README shows failing
    assert "internal error" not in err


def rule_example() -> str:
    return next(b for b in snippets("yaml") if b.startswith("pack: acme"))


def test_the_rule_language_example_loads_as_a_pack(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(rule_example())
    pack = rulepacks.load_pack(path, registry.kind_specs())
    assert pack.id == "acme"
    assert [lv.level for lv in pack.dimensions[0].levels] == [1, 2, 3]


def test_the_configuration_example_loads(tmp_path: Path) -> None:
    body = next(b for b in snippets("yaml") if b.startswith("pack: devops"))
    (tmp_path / "ci" / "maturity-rules").mkdir(parents=True)
    (tmp_path / "ci" / "maturity-rules" / "acme.yaml").write_text(rule_example())
    cfg = config.from_text(body, ".maturity-scan.yaml", tmp_path)
    assert cfg.pack == "devops" and "security.workflow_hardening" in cfg.waivers
    assert cfg.gate.fail_under == {"iac": 3, "security": 2}


def test_the_workflow_example_uses_the_actions_inputs() -> None:
    body = next(b for b in snippets("yaml") if b.startswith("# .github/workflows/"))
    workflow = yaml.safe_load(body)
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = next(s for s in workflow["jobs"]["maturity"]["steps"]
                if s.get("uses", "").startswith("maturity-scan/maturity-scan@"))
    assert set(step["with"]) <= set(action["inputs"])
    assert {"pull_request", "push", "merge_group"} <= set(workflow[True] if True in workflow
                                                          else workflow["on"])
    readme = (ROOT / "README.md").read_text()
    for name in (*action["inputs"], *action["outputs"]):  # every input and output documented
        assert f"| `{name}` |" in readme, name


def test_the_pre_commit_example_names_a_hook_that_exists() -> None:
    body = next(b for b in snippets("yaml") if b.startswith("# .pre-commit-config.yaml"))
    hook_ids = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    used = yaml.safe_load(body)["repos"][0]["hooks"]
    assert {h["id"] for h in used} <= hook_ids
    assert "pre-push" in used[0]["stages"]


def test_the_toml_snippets_are_valid_toml() -> None:
    for body in snippets("toml"):
        tomllib.loads(body)


def test_the_commands_parse_with_click() -> None:
    """Also the options the real runs above would skip through a default: every option named
    in the README exists on its command."""
    for line in commands():
        args = args_of(line, Path("."))
        group = cli
        names = list(args)
        cmd: click.Command = group
        while isinstance(cmd, click.Group) and names and names[0] in cmd.commands:
            cmd = cmd.commands[names.pop(0)]
        known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        for word in names:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in known, (line, word)
