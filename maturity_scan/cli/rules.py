"""`maturity-scan rules list|validate|graph`: the rule packs."""
from __future__ import annotations

from pathlib import Path

import click

from maturity_scan import api, config
from maturity_scan.assess import packs as rulepacks
from maturity_scan.assess.graph import compile_graph
from maturity_scan.cli.options import rules_dir_option
from maturity_scan.engine import registry
from maturity_scan.errors import UsageError
from maturity_scan.reporters import graph


@click.group("rules")
def rules_group() -> None:
    """The rule packs: list, validate, graph."""


@rules_group.command("list")
@rules_dir_option
def rules_list(rule_dirs: tuple[Path, ...]) -> None:
    """Every pack with its dimensions, levels and requirements."""
    for pack in api.packs(rule_dirs).values():
        click.echo(click.style(f"{pack.id}", bold=True) + f"  {pack.title}  ({pack.path})")
        for dim in pack.dimensions:
            click.echo(f"  {dim.id}: {dim.title} (levels 1-{dim.max_level:g})")
            for lv in dim.levels[1:]:
                name = f" {lv.name}" if lv.name else ""
                click.echo(f"    L{lv.level:g}{name}: " + ", ".join(lv.requires))


@rules_group.command("validate")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def rules_validate(directory: Path | None) -> None:
    """Validate rule files (the built-in packs, or every pack in DIRECTORY)."""
    kinds = registry.kind_specs()
    if directory is None:
        loaded = rulepacks.load_packs(kinds)
    else:
        if not directory.is_dir():
            raise UsageError(f"{directory}: not a directory")
        files = config.rule_files(directory)  # `_*` files (shared conditions) are not packs
        if not files:
            raise UsageError(f"{directory}: no rule files (*.yaml)")
        loaded = {p.id: p for p in (rulepacks.load_pack(f, kinds) for f in files)}
    for pack in loaded.values():
        n = len(pack.requirements)
        click.echo(f"ok  {pack.path}: pack {pack.id}, {len(pack.dimensions)} dimensions, "
                   f"{n} requirements")


@rules_group.command("graph")
@click.option("--pack", default=api.DEFAULT_PACK, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("dot", "mermaid", "json")), default="mermaid",
              show_default=True)
@rules_dir_option
def rules_graph(pack: str, fmt: str, rule_dirs: tuple[Path, ...]) -> None:
    """The rule graph (signal -> requirement -> level -> dimension) for review."""
    g = compile_graph(api.get_pack(pack, rule_dirs))
    click.echo(graph.render(g, fmt=fmt), nl=False)
