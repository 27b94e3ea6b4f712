"""`bench report`: one self-contained HTML page for one result or several side by side."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli import formats


@click.command("report")
@click.argument("result_dirs", nargs=-1, required=True, metavar="RESULT_DIR...",
                type=click.Path(path_type=Path, file_okay=False))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="The HTML file to write. Default: RESULT_DIR/report.html for one result, "
                   "./report.html for several.")
@formats.option()
def command(result_dirs: tuple[Path, ...], out: Path | None, fmt: str) -> None:
    """Write an HTML report of one result, or of several overlaid with deltas against the first.

    The page is one file that opens offline: charts are inline SVG, nothing is fetched."""
    from harness.render.page import write_report
    out = out or default_out(result_dirs)
    written = write_report(list(result_dirs), out)
    if fmt == formats.JSON:
        formats.emit({"report": str(written), "results": [str(d) for d in result_dirs]})
    else:
        click.echo(str(written))


def default_out(result_dirs: tuple[Path, ...]) -> Path:
    return result_dirs[0] / "report.html" if len(result_dirs) == 1 else Path("report.html")
