"""`--format text|json` for every command: text for people, one JSON document for tools. Exit
codes do not depend on the format."""

from __future__ import annotations

from typing import Any

import click

TEXT, JSON = "text", "json"


def option(default: str = TEXT):
    return click.option("--format", "fmt", type=click.Choice([TEXT, JSON]), default=default,
                        show_default=True, help="text for people; json: one JSON document on stdout.")


def emit(data: Any) -> None:
    """One JSON document on stdout (strict: no NaN or Infinity)."""
    from harness.record.build import json_text
    click.echo(json_text(data))
