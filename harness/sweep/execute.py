"""One point, evaluated where a worker runs it: a pure function of its parameters and the sweep's
run settings (seeds included), so a pool worker, a Dask worker and the caller's own process all
return the same outcome. Nothing here writes files: the caller stores what comes back, so Dask
workers need no file system shared with the client. A run's files come back encoded (Parquet
compressed on the worker, in parallel), not as records for the caller to encode one by one.

A point that fails is an outcome too: its error on one line (and, for an error that is not a
user's, the traceback), never an exception that stops the sweep.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

from harness.accel import AcceleratorModel
from harness.errors import BenchError, ConfigError, Problem
from harness.record.schema import RunRecord
from harness.sweep import figures
from harness.sweep.inputs import profile_inputs, run_request
from harness.sweep.spec import RunSettings



@dataclass(frozen=True)
class Task:
    name: str
    params: dict[str, Any]
    settings: RunSettings


@dataclass
class Outcome:
    name: str
    status: str                      # "ok" | "failed"
    figures: dict[str, Any]
    error: str | None = None
    traceback: str | None = None
    result: RunRecord | None = None  # run mode: the result record
    files: Any = None                # run mode: the run's files, encoded by the worker (rundir.Encoded)
    profile: dict | None = None      # profile mode: {"layers": [...], "total": {...}}


def run_chunk(tasks: list[Task]) -> list[Outcome]:
    """What a worker is given: several points at once, to keep per-task overhead low."""
    return [run_task(task) for task in tasks]


def run_task(task: Task) -> Outcome:
    try:
        if task.settings.mode == "profile":
            return _profile(task)
        return _run(task)
    except BenchError as exc:
        return _failed(task, exc, with_traceback=False)
    except Exception as exc:  # a bug in one point must not stop the sweep: recorded with its traceback
        return _failed(task, exc, with_traceback=True)


def _profile(task: Task) -> Outcome:
    hardware, workload, batch = profile_inputs(task.params, task.settings.base_dir)
    profile = AcceleratorModel(hardware, workload).profile(batch).as_dict()  # as bench profile
    c = hardware.compute
    found = figures.from_profile(profile["total"])
    found["accuracy"] = figures.accuracy(c.precision, "{}:{}".format(*c.sparsity), workload.accuracy,
                                         workload.precisions)
    return Outcome(task.name, "ok", found, profile=profile)


def _run(task: Task) -> Outcome:
    from harness.measure.peak import peak_run
    from harness.measure.runner import execute, prepare
    from harness.record.rundir import encode_run

    prepared = prepare(run_request(task.params, task.settings))
    # no guessed probes: the pool keeps every core busy with points (10 600 s npu_v2 searches on
    # two workers: 59.6-62.5 s without, 75.5-80.8 s with)
    run = peak_run(prepared, guess=False) if task.settings.find_peak else execute(prepared)
    return Outcome(task.name, "ok", figures.from_result(run.record), result=run.record,
                   files=encode_run(run.record, run.records))   # compressed here, in parallel


def one_line(exc: BaseException) -> str:
    """The error on one line; an override's problem without the override echoed back."""
    if isinstance(exc, ConfigError):
        text = "; ".join(_problem(p) for p in exc.problems)
    else:
        text = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def _problem(p: Problem) -> str:
    where = [] if p.source.startswith("--set") else [p.source]
    return ": ".join(where + ([p.key] if p.key else []) + [p.rule])


def _failed(task: Task, exc: Exception, with_traceback: bool) -> Outcome:
    trace = "".join(traceback.format_exception(exc)) if with_traceback else None
    return Outcome(task.name, "failed", figures.empty(), error=one_line(exc), traceback=trace)
