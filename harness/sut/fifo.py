"""One server whose service times are known beforehand, one sample per query: the whole open-loop
schedule in numpy, without loading numba.

This is harness.sut.compiled's `_one_server_known_times` (the FIFO recursion
ready[q] = max(ready[q - 1], arrival[q]) + duration[q]) computed by sweeps over whole arrays:
start from every query served on arrival, then recompute, each sweep, only the queries whose
predecessor's end moved past their arrival. Ends only grow, each from the same floating-point
operations as the loop's (a max, then one addition), so once nothing moves every end is the
loop's, bit for bit. A query's end is final once its busy period's earlier ends are, so the sweeps
needed are the longest busy period's length in queries: a few dozen below saturation. A run that
has not settled after SWEEPS (a long busy period: a server near or past saturation) is left to
the compiled kernel, which takes it from the start.

Why numpy here: numba's import and first call take ~0.45 s of a whole `bench run`; a synthetic
server run of 1.2M queries at half load settles in ~20 sweeps and tens of milliseconds.
"""

from __future__ import annotations

import math

import numpy as np

from harness.sut.service import Service

SWEEPS = 64


def run(loadgen, pool, service: Service) -> bool:
    """The records of `loadgen`'s whole schedule into its arrays, as the compiled run writes them;
    False (nothing written) where this does not apply or the ends did not settle."""
    s = loadgen.schedule
    if not (service.kind == "draws" and pool.servers == 1 and pool.eager and not loadgen.closed_loop
            and s.samples_per_query == 1):
        return False
    offsets = loadgen.offsets
    n = _issued(offsets, loadgen.max_count, s.count, loadgen.max_time)
    durations = _durations(service, n)
    ends = finish_times(offsets[:n], durations, pool.free[0][0])
    if ends is None:
        return False
    _record(loadgen, offsets[:n], ends)
    pool.busy_s, pool.batches = float(np.cumsum(durations)[-1]), n   # summed in order, as the loop
    return True


def finish_times(arrivals: np.ndarray, durations: np.ndarray, ready: float) -> np.ndarray | None:
    """Each query's end on one FIFO server free from `ready`: the loop's floats, or None when the
    ends have not settled within SWEEPS sweeps."""
    ends = arrivals + durations
    first = ready if ready > arrivals[0] else arrivals[0]
    ends[0] = first + durations[0]
    waiting = np.flatnonzero(ends[:-1] > arrivals[1:]) + 1   # served after its predecessor ends
    for _ in range(SWEEPS):
        if waiting.size == 0:
            return ends
        before, arrival = ends[waiting - 1], arrivals[waiting]
        moved = np.where(before > arrival, before, arrival) + durations[waiting]
        changed = waiting[moved != ends[waiting]]
        ends[waiting] = moved
        following = changed[changed < len(ends) - 1] + 1
        waiting = following[ends[following - 1] > arrivals[following]]
    return ends if waiting.size == 0 else None


def _issued(offsets: np.ndarray, max_count: float, count: int, max_time: float) -> int:
    """How many queries the loop issues: up to the last allowed, and the first due at or after
    max_time is the last."""
    last = int(min(count, max_count)) - 1
    if math.isfinite(max_time):
        last = min(last, int(np.searchsorted(offsets, max_time, side="left")))
    return last + 1


def _durations(service: Service, n: int) -> np.ndarray:
    """Each query's service time: its draw, or the mean (a batch of one sample adds no
    per-sample time)."""
    if service.draws.shape[0] == 0:
        return np.full(n, service.mean_s)
    if service.draws.shape[0] < n:
        raise RuntimeError(f"{service.draws.shape[0]} service times drawn for {n} queries")
    return service.draws[:n]


def _record(loadgen, arrivals: np.ndarray, ends: np.ndarray) -> None:
    """What the loop leaves in LoadGen: issued on schedule, done at the end, nothing pending."""
    n = len(arrivals)
    for name in ("scheduled", "issued"):
        np.frombuffer(getattr(loadgen, name), dtype=np.float64)[:n] = arrivals
    np.frombuffer(loadgen.completed, dtype=np.float64)[:n] = ends
    np.frombuffer(loadgen.remaining, dtype=np.int64)[:n] = 0
    loadgen.issued_count = loadgen.finished_count = loadgen.reports = n
    loadgen.issuing = False
    loadgen.final = True
