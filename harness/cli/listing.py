"""`bench list {systems,workloads,scenarios}`: what the catalogs hold."""

from __future__ import annotations

import click

from harness import catalog


@click.command("list")
@click.argument("kind", type=click.Choice(catalog.KINDS))
def command(kind: str) -> None:
    """List the shipped systems, workloads or scenarios."""
    for name in catalog.names(kind):
        click.echo(name)
