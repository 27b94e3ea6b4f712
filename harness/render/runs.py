"""A result directory as the report reads it: result.json, the per-query records, and the
reduced chart series computed once from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.record import series
from harness.render import reduce
from harness.record.build import checked_columns, floats, read_parquet
from harness.record.schema import Accelerator, RunRecord, load

COLUMNS = ("scheduled_s", "completed_s", "samples")


@dataclass(frozen=True)
class Run:
    path: Path
    record: RunRecord
    label: str
    cdf: reduce.Series
    coarse_cdf: bool            # drawn from result.json's percentiles, not from the records
    timeline: reduce.Timeline | None
    throughput: reduce.Series | None
    rows: int | None            # queries in queries.parquet; None when the file is absent

    @property
    def scenario(self) -> str:
        return self.record.scenario

    @property
    def bound_s(self) -> float | None:
        """The server scenario's latency bound (seconds); None elsewhere, and in a token run,
        which is judged on TTFT and TPOT, not on whole-sample latency."""
        return self.record.bound_s

    @property
    def accelerator(self) -> Accelerator | None:
        return self.record.accelerator


def label(record: RunRecord, index: int | None = None) -> str:
    return record.label() if index is None else f"#{index + 1} {record.label()}"


def read_columns(run_dir: Path) -> reduce.Queries | None:
    """The columns the charts need from queries.parquet (not the error strings: reading 1.2 M
    of those as Python objects would cost more than the whole report); None when absent."""
    path = Path(run_dir) / "queries.parquet"
    if not path.is_file():
        return None
    columns = checked_columns(path)   # read once, checked as `bench check` checks them
    return reduce.Queries(*(columns[c] for c in COLUMNS))


def read_sample_completions(run_dir: Path) -> reduce.Queries | None:
    """Offline: sample_completions.parquet as chunks of samples issued at 0 and done at t."""
    path = Path(run_dir) / "sample_completions.parquet"
    if not path.is_file():
        return None
    table = read_parquet(path, ["completed_s", "samples"])
    done, samples = floats(table, "completed_s"), floats(table, "samples")
    return reduce.Queries(np.zeros_like(done), done, samples)


def _offline_run(run_dir: Path, record: RunRecord, index: int | None, rows: int | None) -> Run | None:
    """Offline statistics are per sample: the CDF and throughput come from the sample chunks."""
    chunks = read_sample_completions(run_dir) if record.scenario == "offline" else None
    if chunks is None or len(chunks.completed_s) < 2:
        return None
    latencies = np.sort(np.repeat(chunks.completed_s, chunks.samples.astype(np.int64)))
    return Run(Path(run_dir), record, label(record, index), reduce.cdf(latencies), False, None,
               reduce.throughput(chunks), rows)


def load_run(run_dir: Path, index: int | None = None) -> Run:
    record = series.attach(load(run_dir), Path(run_dir))
    queries = read_columns(run_dir)
    offline = _offline_run(run_dir, record, index, None if queries is None else len(queries.scheduled_s))
    if offline is not None:
        return offline
    rows = None if queries is None else len(queries.scheduled_s)
    if not rows or rows < 2:
        return Run(Path(run_dir), record, label(record, index),
                   reduce.cdf_from_summary(record.latency_s), True, None, None, rows)
    x, y = reduce.completed(queries)
    return Run(Path(run_dir), record, label(record, index), reduce.cdf(np.sort(y)), False,
               reduce.timeline(x, y), reduce.throughput(queries), rows)
