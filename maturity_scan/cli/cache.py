"""`maturity-scan cache info|clear`: the parse cache (engine.cache) shared by every scan."""
from __future__ import annotations

import click


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB"


@click.group("cache")
def cache_group() -> None:
    """The parse cache: what detectors made of each file, reused while the file is unchanged."""


@cache_group.command("info")
def cache_info() -> None:
    """Where the cache is, how many entries it holds, and its size."""
    from maturity_scan.engine import cache

    directory = cache.default_dir()
    click.echo(f"location: {directory}")
    if not (directory / cache.DB_NAME).exists():
        click.echo("entries: 0 (empty)")
        return
    with cache.ParseCache(directory) as store:
        click.echo(f"entries: {store.entries()}")
        click.echo(f"size: {_size(store.size())} (at most {_size(store.max_bytes)}, least "
                   "recently used entries go first)")


@cache_group.command("clear")
def cache_clear() -> None:
    """Delete the cache (the next scan parses every file again)."""
    from maturity_scan.engine import cache

    freed = cache.clear()
    click.echo(f"cleared {cache.default_dir()} ({_size(freed)} freed)")
