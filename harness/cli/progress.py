"""A progress line for real-time runs, which last as long as they say (600 s by MLPerf's
rules). It reads the load generator's counters from a display thread and never touches the
run; virtual-time runs take seconds and show none, and nothing is drawn unless stderr is a
terminal."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from harness.measure.loadgen import LoadGen

INTERVAL_S = 0.5


def wanted(time_mode: str) -> bool:
    return time_mode == "real" and sys.stderr.isatty()


def _describe(loadgen: LoadGen) -> str:
    done, issued = loadgen.finished_count, loadgen.issued_count
    return f"{issued} issued, {done} done, {len(loadgen.errors)} failed"


@contextmanager
def real_time_progress(loadgen: LoadGen) -> Iterator[None]:
    """Show elapsed time against the minimum duration while the run goes on."""
    from rich.console import Console   # rich: for the runs that show progress only
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    total = max(loadgen.settings.min_duration_s, 1e-9)
    stop = threading.Event()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[counts]}"))
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task("real-time run", total=total, counts="")

        def update() -> None:
            while not stop.wait(INTERVAL_S):
                bar.update(task, completed=min(loadgen.env.now, total), counts=_describe(loadgen))

        thread = threading.Thread(target=update, name="bench-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
