"""`maturity-scan detectors list`: every detector, the kinds it reports and their facts."""
from __future__ import annotations

import json

import click

from maturity_scan import reporters
from maturity_scan.engine import registry


@click.group("detectors")
def detectors_group() -> None:
    """The detectors and the signal kinds they report."""


@detectors_group.command("list")
@click.option("--format", "fmt", type=click.Choice(tuple(reporters.FORMATS)), default="text")
def detectors_list(fmt: str) -> None:
    """Every detector, the kinds it reports and their facts."""
    dets = registry.all_detectors()
    if fmt == "json":
        click.echo(json.dumps([{
            "id": d.id, "description": d.description, "patterns": list(d.patterns),
            "kinds": {k: {"description": s.description,
                          "facts": {f: t.value for f, t in s.facts.items()}}
                      for k, s in d.kinds.items()}} for d in dets], indent=2, sort_keys=True))
        return
    for d in dets:
        click.echo(click.style(d.id, bold=True) + f"  {d.description}")
        for k, s in sorted(d.kinds.items()):
            click.echo(f"    {k}: {s.description}")
            if s.facts:
                click.echo(click.style("      facts: " + ", ".join(
                    f"{f} ({t.value})" for f, t in sorted(s.facts.items())), dim=True))
