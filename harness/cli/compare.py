"""`bench compare`: results across hardware, ours and MLPerf submissions, side by side."""

from __future__ import annotations

from pathlib import Path

import click

from harness.analyse import compare
from harness.render import compare_text as render
from harness.analyse.loader import load_all
from harness.record.rundir import write_file

FORMATS = ("table", "markdown", "csv", "json", "html")


@click.command(name="compare")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format; html is a self-contained page with a Pareto chart.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def command(dirs: tuple[Path, ...], fmt: str, out: Path | None) -> None:
    """Compare results: one row per (system, workload, scenario).

    DIRS are result directories written by `bench run`, folders holding several of them, or
    MLPerf submission trees (any level from the division down to a run_1 folder). Each row
    shows the official metric (single-stream: early-stopping p90 estimate; multi-stream:
    early-stopping p99 estimate; server: completed samples/s; offline: samples/s), validity,
    accelerators, and derived per-accelerator and per-joule figures, which are unofficial.
    Rows whose workload or test-defining settings differ from the rest of their workload and
    scenario are marked not comparable, with the reason.
    """
    rows = compare.rows(load_all(list(dirs)))
    text = _render(rows, fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_file(out, text, "--out")
        click.echo(str(out))


def _render(rows: list[dict], fmt: str) -> str:
    if fmt == "html":
        from harness.render.compare_html import render_html
        return render_html(rows)
    return {"table": render.table, "markdown": render.markdown, "csv": render.to_csv,
            "json": render.to_json}[fmt](rows)
