"""A sweep end to end: plan (skip the points already done), run the rest on a pool, store each
point as it finishes, then the summary table, the Pareto front, the best configuration and the
page. The summary is read back from the points' records, so a resumed sweep, a local one and a
Dask one write the same table."""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from harness.errors import config_error
from harness.sweep import store
from harness.sweep.execute import Outcome, Task
from harness.sweep.inputs import fingerprint
from harness.sweep.pool import chunks, make_pool
from harness.sweep.select import Choice, best, pareto_mask
from harness.sweep.spec import Sweep


@dataclass
class SweepRun:
    out: Path
    frame: pd.DataFrame          # the summary table
    ran: int                     # points run now
    skipped: int                 # points already done
    front: pd.Series             # True on the Pareto front
    choice: Choice | None        # the best configuration, when the sweep states a rule

    @property
    def failed(self) -> int:
        return int((self.frame["status"] == "failed").sum())


def default_out(sweep: Sweep) -> Path:
    return Path("reports") / f"sweep-{re.sub(r'[^A-Za-z0-9_.-]+', '-', sweep.name)}"


def check_out(out: Path) -> None:
    """Refuse, before running, to write into anything but an earlier sweep's directory."""
    if out.exists() and not out.is_dir():
        raise config_error("--out", "", str(out), "exists and is not a directory")
    marks = ("sweep.toml", store.POINTS, "summary.csv")
    if out.is_dir() and any(out.iterdir()) and not any((out / m).exists() for m in marks):
        raise config_error("--out", "", str(out), "is a non-empty directory that holds no bench sweep")


def _keep_copy(source: Path, copy: Path) -> None:
    """The sweep file beside its results (provenance), unless it is already that file."""
    if not (copy.exists() and copy.samefile(source)):
        shutil.copyfile(source, copy)


def plan(sweep: Sweep, out: Path, retry_failed: bool) -> tuple[list[Task], dict[str, str], int]:
    """(points to run, inputs fingerprint by point name, points skipped as done)."""
    todo, inputs, skipped = [], {}, 0
    for point in sweep.points:
        inputs[point.name] = fingerprint(point.params, sweep.settings)
        if store.is_done(store.read_record(out, point.name), inputs[point.name], retry_failed):
            skipped += 1
        else:
            todo.append(Task(point.name, point.params, sweep.settings))
    return todo, inputs, skipped


def run_sweep(sweep: Sweep, out: Path, workers: int | None = None, scheduler: str | None = None,
              retry_failed: bool = False, progress: bool = False) -> SweepRun:
    out = Path(out)
    check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    _keep_copy(Path(sweep.source), out / "sweep.toml")
    tasks, inputs, skipped = plan(sweep, out, retry_failed)
    if tasks:
        _run(sweep, out, tasks, inputs, workers, scheduler, progress, skipped)
    return finish(sweep, out, len(tasks), skipped)


def _run(sweep: Sweep, out: Path, tasks: list[Task], inputs: dict[str, str], workers: int | None,
         scheduler: str | None, progress: bool, skipped: int) -> None:
    pool = make_pool(workers, scheduler, len(tasks))
    params = {t.name: t.params for t in tasks}
    try:
        results = pool.run(chunks(tasks, pool.workers, sweep.settings.mode))
        with progress_bar(sweep.name, len(tasks), skipped, progress) as advance:
            for batch in results:
                for outcome in batch:
                    store.write_point(out, outcome, params[outcome.name], inputs[outcome.name],
                                      sweep.settings.report)
                    advance(outcome)
    finally:
        pool.close()


def finish(sweep: Sweep, out: Path, ran: int, skipped: int) -> SweepRun:
    frame = store.summary(sweep, out)
    store.write_summary(out, frame)
    front = pareto_mask(frame, sweep.objectives)
    choice = best(frame, sweep.best) if sweep.best else None
    # imported here: a worker that imports harness.sweep to run points never loads the page's
    # code (matplotlib), and harness.render.sweep_page, which imports harness.sweep's modules,
    # can be imported first
    from harness.render.sweep_page import write_page
    write_page(out / "sweep.html", sweep, frame, front, choice)
    return SweepRun(out, frame, ran, skipped, front, choice)


def _columns() -> tuple:
    from rich.progress import (BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    return (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn())


@contextmanager
def progress_bar(name: str, total: int, skipped: int, enabled: bool) -> Iterator:
    """A rich progress bar with ETA on stderr; yields advance(outcome)."""
    if not enabled:
        yield lambda outcome: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(*_columns(), console=Console(stderr=True)) as bar:
        label = f"sweep {name}" + (f" ({skipped} done before)" if skipped else "")
        task = bar.add_task(label, total=total, failed=0)
        failed = [0]

        def advance(outcome: Outcome) -> None:
            failed[0] += outcome.status != "ok"
            bar.update(task, advance=1, failed=failed[0])

        yield advance
