"""`bench sweep`: a grid (or list) of runs or profiles, locally or on a Dask cluster.

    bench sweep SWEEP.toml [--workers N] [--scheduler tcp://HOST:PORT] [--out DIR] [--retry-failed]
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli import formats
from harness.render import fmt
from harness.sweep import SweepRun, check_inputs, default_out, load_sweep, run_sweep
from harness.sweep.select import describe, unknown_note


def summary(done: SweepRun, rule: str | None) -> dict:
    """What `--format json` prints: the counts, the best point and the front's size."""
    best = None
    if done.choice is not None and done.choice.index is not None:
        row = done.frame.loc[done.choice.index]
        best = {"point": row["point"], **{k: row[k] for k in ("samples_per_s", "p99_s", "power_w")}}
        if _searched(row):
            best["peak_qps"] = row["peak_qps"]
    return {"out": str(done.out), "page": str(done.out / "sweep.html"), "points": len(done.frame),
            "ran": done.ran, "done_before": done.skipped, "failed": done.failed, "rule": rule,
            "best": best, "pareto_front": int(done.front.sum()),
            "unknown_accuracy": done.choice.unknown_accuracy if done.choice is not None else 0}


def _searched(row) -> bool:
    """A find-peak point's row (its peak QPS known)."""
    return not fmt.missing(row.get("peak_qps"))


def render(done: SweepRun, rule: str | None) -> None:
    frame = done.frame
    click.echo(str(done.out))
    click.echo(f"  {len(frame)} points: {done.ran} run now, {done.skipped} done before, "
               f"{done.failed} failed")
    if done.choice is not None:
        if done.choice.index is None:
            click.echo(f"  best: no point meets: {rule}")
        else:
            row = frame.loc[done.choice.index]
            peak = f"peak {row['peak_qps']:.3f} QPS, " if _searched(row) else ""   # as bench run's
            click.echo(f"  best ({rule}): {row['point']}: {peak}{fmt.number(row['samples_per_s'])} samples/s, "
                       f"p99 {fmt.seconds(row['p99_s'])}, {fmt.number(row['power_w'])} W")
    note = unknown_note(done.choice) if done.choice is not None else None
    if note:
        click.echo(f"  {note}")
    click.echo(f"  {int(done.front.sum())} points on the Pareto front; see {done.out / 'sweep.html'}")


@click.command("sweep")
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: the cores).")
@click.option("--scheduler", metavar="ADDRESS", help="Run on an existing Dask cluster, e.g. tcp://127.0.0.1:8786.")
@click.option("--out", type=click.Path(path_type=Path), help="Output directory (default reports/sweep-NAME).")
@click.option("--retry-failed", is_flag=True, help="Run again the points that failed before.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@formats.option()
def command(sweep_file: Path, workers, scheduler, out, retry_failed, quiet, fmt) -> None:
    """Run every point of a sweep file; write the summary table and sweep.html."""
    if workers and scheduler:
        raise click.UsageError("--workers applies to local runs; a Dask cluster has its own workers")
    sweep = load_sweep(sweep_file)
    check_inputs(sweep)
    done = run_sweep(sweep, out or default_out(sweep), workers, scheduler, retry_failed,
                     progress=not quiet)
    rule = describe(sweep.best) if sweep.best else None
    if fmt == formats.JSON:
        formats.emit(summary(done, rule))
    else:
        render(done, rule)
