"""`bench list {systems,workloads,scenarios}`: what the catalogs hold."""

from __future__ import annotations

import click

from harness import catalog
from harness.cli import formats


@click.command("list")
@click.argument("kind", type=click.Choice(catalog.KINDS))
@formats.option()
def command(kind: str, fmt: str) -> None:
    """List the shipped systems, workloads or scenarios."""
    if fmt == formats.JSON:
        formats.emit({"kind": kind, "names": catalog.names(kind)})
        return
    for name in catalog.names(kind):
        click.echo(name)
