"""A simulated run in one compiled call (harness.sut.compiled), with the event engine's records.

`run(loadgen, pool, service)` sets up the kernel's arrays from a started LoadGen and
ServicePool, runs it on copies and, when it finishes, writes what the event loop would have
left behind into both (the records, the pool's counters); `service` says how a batch's time is
known and takes its own results back (`absorb`). A kernel whose DRAM bin buffer ran out is run
again from the start with a larger one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from harness.sut import compiled as k

NO_LIMIT = 2**62
ATTEMPTS = 8   # each with 4x the DRAM bins of the last
KINDS = {"draws": k.DRAWS, "alone": k.ALONE, "shared": k.SHARED}


@dataclass
class Service:
    """How the kernel learns a batch's duration."""

    kind: str                                   # "draws" | "alone" | "shared" (KINDS)
    draws: np.ndarray = field(default_factory=lambda: np.empty(0))  # base times in call order
    mean_s: float = 0.0                         # the base time when there are no draws
    per_sample_s: float = 0.0
    dram: Any = None                            # a JointDram (ALONE, SHARED)
    absorb: Callable[[dict], None] = lambda out: None   # takes the log and the DRAM state back


def run(loadgen, pool, service: Service) -> None:
    """Run the whole schedule compiled; the records are in `loadgen` afterwards."""
    rows = _horizon_rows(loadgen)
    for _ in range(ATTEMPTS):
        out = _attempt(loadgen, pool, service, rows)
        if out is not None:
            break
        rows *= 4
    else:
        raise RuntimeError(f"the compiled run still ran out of DRAM bins at {rows} rows")
    _write_back(loadgen, pool, out)
    service.absorb(out)


def most_batches(loadgen) -> int:
    """No run serves more batches than the samples it can issue."""
    s = loadgen.schedule
    return min(s.count, int(min(loadgen.max_count, s.count))) * s.samples_per_query


def _horizon_rows(loadgen) -> int:
    """DRAM bins enough for twice the schedule's span (a longer run starts again)."""
    offsets = np.frombuffer(loadgen.offsets_s, dtype=np.float64)
    span = max(float(offsets[-1]), loadgen.settings.target_duration_s)
    return int(2 * span / 0.01) + 1024


def _config(loadgen, pool, service: Service) -> tuple[np.ndarray, np.ndarray]:
    s = loadgen.schedule
    max_count = int(loadgen.max_count) if math.isfinite(loadgen.max_count) else NO_LIMIT
    whole = pool.eager and not loadgen.closed_loop and s.samples_per_query == 1
    C = np.array([pool.servers, pool.max_batch, s.samples_per_query, s.count,
                  min(s.count, max_count) - 1, loadgen.settings.min_query_count, max_count,
                  loadgen.closed_loop, loadgen.offline, pool.eager, KINDS[service.kind], whole],
                 dtype=np.int64)
    Fc = np.array([pool.timeout_s, loadgen.max_time, loadgen.settings.target_duration_s,
                   service.mean_s, service.per_sample_s])
    return C, Fc


def _attempt(loadgen, pool, service: Service, rows: int) -> dict | None:
    C, Fc = _config(loadgen, pool, service)
    n, spq, servers = loadgen.schedule.count, C[k.SPQ], pool.servers
    samples = most_batches(loadgen)
    lg = (np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, spq, dtype=np.int64),
          np.full(n if spq > 1 else 0, np.nan), np.zeros((samples if loadgen.offline else 0, 2)))
    S = np.zeros(k.ABORTED + 1, dtype=np.int64)
    S[k.IDLE], S[k.ISSUING], S[k.END_SEQ] = servers, 1, -1
    F = np.array([0.0, np.nan, 0.0, 0.0])
    pool_arrays = (np.arange(servers - 1, -1, -1, dtype=np.int64), np.zeros((servers, 4)),
                   np.column_stack([np.zeros(servers), np.arange(servers, dtype=np.float64)]))
    dram = _dram_arrays(service.dram, rows)
    log = np.zeros((samples if service.kind != "draws" else 0, 5))
    heap = np.zeros((servers + 16, 4))
    offsets = np.frombuffer(loadgen.offsets_s, dtype=np.float64)
    k.run(offsets, C, Fc, S, F, lg, heap, pool_arrays, service.draws, dram, log)
    if S[k.ABORTED]:
        return None
    return {"S": S, "F": F, "lg": lg, "dram": dram, "log": log[:S[k.LOG]]}


def _dram_arrays(dram, rows: int) -> tuple:
    """Copies of a JointDram's state (bins at least `rows` long); placeholders without one."""
    if dram is None:
        z1, z2 = np.zeros(1), np.zeros((1, 1))
        return (np.zeros((1, 5)), np.zeros(1), (z1, z2, z2, z1, 1.0),
                (z1, z1, np.zeros(1, dtype=np.int64), z1), (z2, z2, z2, z1, z1, z1, z1, z1),
                np.zeros(1, dtype=np.bool_), np.zeros(1, dtype=np.bool_))
    rec = [a.copy() for a in dram.rec]
    bins = np.zeros((max(rows, rec[0].shape[0]), rec[0].shape[1]))
    bins[:rec[0].shape[0]] = rec[0]
    rec[0] = bins
    resident = np.array([p.placement.resident for p in dram.plans], dtype=np.bool_)
    warm = np.array([e in dram.warm for e in range(dram.eng.shape[0])], dtype=np.bool_)
    return (dram.eng.copy(), dram.clock.copy(), dram.band, dram.phases, tuple(rec), resident, warm)


def _write_back(loadgen, pool, out: dict) -> None:
    """What LoadGen and ServicePool hold after the event loop's run."""
    S, F, lg = out["S"], out["F"], out["lg"]
    for name, values in zip(("scheduled", "issued", "completed"), lg[:3]):
        np.frombuffer(getattr(loadgen, name), dtype=np.float64)[:] = values
    np.frombuffer(loadgen.remaining, dtype=np.int64)[:] = lg[3]
    if loadgen.latest is not None:
        np.frombuffer(loadgen.latest, dtype=np.float64)[:] = lg[4]
    loadgen.issued_count = int(S[k.ISSUED])
    loadgen.finished_count = int(np.count_nonzero(~np.isnan(lg[2])))
    loadgen.reports = int(S[k.REPORTS])
    loadgen.issuing = False
    sc = lg[5][:S[k.SC]]
    loadgen.sample_completions = list(zip(sc[:, 0].tolist(), sc[:, 1].astype(np.int64).tolist()))
    if S[k.RAN_OUT]:
        loadgen.runtime_errors.append("Ending early: Ran out of generated queries to issue "
                                      f"after {loadgen.schedule.count} queries.")
    pool.busy_s, pool.batches = float(F[k.BUSY]), int(S[k.BATCHES])
