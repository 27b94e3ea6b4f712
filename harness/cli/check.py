"""`bench check`: the submission checker."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli import formats
from harness.analyse.check import check_path


@click.command(name="check", epilog="""\b
Exit status:
  0  no problem found
  1  at least one problem (each is listed)
  2  the path does not exist or holds no result
""")
@click.argument("path", type=click.Path(path_type=Path))
@formats.option()
def command(path: Path, fmt: str) -> None:
    """Check results for submission: our result directories and MLPerf submission trees.

    Lists every problem: required files, a VALID run, minimum duration and queries, early
    stopping, the round's official seeds, closed-division settings (min_duration >= 600 s,
    server latency bound, Offline sample minimum, performance sample count) and files that
    disagree with each other.
    """
    report = check_path(path)
    if fmt == formats.JSON:
        formats.emit({"checked": report.checked, "problems": [str(p) for p in report.problems],
                      "exit_code": report.exit_code})
        if report.exit_code:
            sys.exit(report.exit_code)
        return
    for problem in report.problems:
        click.echo(problem)
    n = len(report.problems)
    click.echo(f"checked {len(report.checked)} result(s): "
               + (f"{n} problem(s)" if n else "no problems"))
    if report.exit_code:
        sys.exit(report.exit_code)   # not ctx.exit: main() runs click with standalone_mode=False
