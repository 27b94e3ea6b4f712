"""A simulated run in one compiled call (harness.sut.compiled), with the event engine's records.

`run(loadgen, pool, service)` sets up the kernel's arrays from a started LoadGen and
ServicePool, runs it (on LoadGen's own record arrays, on copies of the rest) and, when it
finishes, writes what the event loop would have left behind into both (the counters); `service` says how a batch's time is
known and takes its own results back (`absorb`). A kernel whose DRAM bin buffer ran out is run
again from the start with a larger one.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from harness.accel import fluid
from harness.sut import compiled as k
from harness.sut.service import Service, most_batches

NO_LIMIT = 2**62
ATTEMPTS = 8   # each with DRAM bins for 4x the span of the last
KINDS = {"draws": k.DRAWS, "alone": k.ALONE, "shared": k.SHARED}


def run(loadgen, pool, service: Service) -> None:
    """Run the whole schedule compiled; the records are in `loadgen` afterwards."""
    _fresh_kernel()
    span_s = _horizon_s(loadgen)
    for _ in range(ATTEMPTS):
        out = _attempt(loadgen, pool, service, span_s)
        if out is not None:
            break
        span_s = 4 * span_s + 1.0
    else:
        raise RuntimeError(f"the compiled run still ran out of DRAM bins after {span_s} s")
    _write_back(loadgen, pool, out)
    loadgen.final = True
    service.absorb(out)


@functools.cache
def _fresh_kernel() -> None:
    """Once per process, before the kernel is first loaded."""
    k.drop_stale_cache()


def _horizon_s(loadgen) -> float:
    """DRAM bins for twice the schedule's span at first (a longer run starts again)."""
    offsets = loadgen.offsets
    return 2 * max(float(offsets[-1]), loadgen.settings.target_duration_s)


def _config(loadgen, pool, service: Service) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's I and R arrays: configuration, then zeroed state."""
    s = loadgen.schedule
    max_count = int(loadgen.max_count) if math.isfinite(loadgen.max_count) else NO_LIMIT
    whole = pool.eager and not loadgen.closed_loop and s.samples_per_query == 1
    I = np.zeros(k.ABORTED + 1, dtype=np.int64)
    I[:k.HEAD] = [pool.servers, pool.max_batch, s.samples_per_query, s.count,
                  min(s.count, max_count) - 1, loadgen.settings.min_query_count, max_count,
                  loadgen.closed_loop, loadgen.offline, pool.eager, KINDS[service.kind], whole]
    I[k.IDLE], I[k.ISSUING], I[k.END_SEQ] = pool.servers, 1, -1
    R = np.array([pool.timeout_s, loadgen.max_time, loadgen.settings.target_duration_s,
                  service.mean_s, service.per_sample_s, 0.0, np.nan, 0.0, 0.0])
    return I, R


def _attempt(loadgen, pool, service: Service, span_s: float) -> dict | None:
    I, R = _config(loadgen, pool, service)
    servers = pool.servers
    samples = most_batches(loadgen)
    lg = _loadgen_arrays(loadgen)
    sc = np.zeros((samples if loadgen.offline else 0, 2))
    P = np.zeros((servers, 7))
    P[:, k.IDLE_E] = np.arange(servers - 1, -1, -1)
    P[:, k.FREE_E] = np.arange(servers)
    dram = _pack(service.dram, span_s)
    log = np.zeros((samples if service.kind != "draws" else 0, 5))
    heap = np.zeros((servers + 16, 4))
    offsets = loadgen.offsets
    k.run(offsets, I, R, lg, sc, heap, P, service.draws, dram, log)
    if I[k.ABORTED]:
        return None
    return {"I": I, "R": R, "completed": lg[2], "sc": sc[:I[k.SC]],
            "dram": _unpack(dram) if service.dram is not None else None, "log": log[:I[k.LOG]]}


def _loadgen_arrays(loadgen) -> tuple:
    """LoadGen's record arrays as the kernel writes them, as LoadGen starts them."""
    spq = loadgen.schedule.samples_per_query
    lg = tuple(np.frombuffer(getattr(loadgen, name), dtype=np.float64)
               for name in ("scheduled", "issued", "completed"))
    remaining = np.frombuffer(loadgen.remaining, dtype=np.int64)
    latest = np.frombuffer(loadgen.latest, dtype=np.float64) if spq > 1 else np.empty(0)
    for column in (*lg, latest):
        column.fill(np.nan)
    remaining.fill(spq)
    return (*lg, remaining, latest)


def _pack(dram, span_s: float) -> tuple:
    """A JointDram's state as the kernel's (eng, clock, fl, di) (compiled.py says how), its bins
    covering at least `span_s`; placeholders without one."""
    if dram is None:
        return np.zeros((1, 6)), np.zeros(3), np.zeros(1), np.zeros(k.RESIDENT_AT + 1, dtype=np.int64)
    rows = int(span_s / dram.rec[6][fluid.BIN_S]) + 3
    if dram.rec[0][rows:].any():
        raise RuntimeError("a compiled run starts from a DRAM with records past its span")
    bins = np.zeros((rows, dram.rec[0].shape[1]))
    kept = min(rows, dram.rec[0].shape[0])
    bins[:kept] = dram.rec[0][:kept]
    c, d, first, a = dram.phases
    pieces = [*dram.band[:4], np.array([dram.band[4]]), c, d, a, bins, *dram.rec[1:]]
    sizes = [p.size for p in pieces]
    fl = np.concatenate([p.ravel() for p in pieces])
    resident = [int(p.placement.resident) for p in dram.plans]
    head = [*np.cumsum([0] + sizes[:-1]), len(dram.band[0]), dram.band[1].shape[0], *bins.shape,
            dram.rec[1].shape[0]]
    di = np.array(head + [len(head) + 2, len(head) + 2 + len(first)] + list(first) + resident,
                  dtype=np.int64)
    eng = np.zeros((dram.eng.shape[0], 6))
    eng[:, :5] = dram.eng
    eng[:, k.WARM] = [e in dram.warm for e in range(dram.eng.shape[0])]
    return eng, np.array([dram.clock[0], np.nan, -1.0]), fl, di


def _unpack(packed: tuple) -> dict:
    """The DRAM state a compiled run leaves: eng, clock, the records, the warm engines."""
    eng, clock, fl, di = packed
    o, (rows, cols) = di[:len(k.PIECES)], di[k.ROWS_:k.COLS_ + 1]
    piece = dict(zip(k.PIECES, np.split(fl, o[1:])))
    bins = piece["bins"].reshape(rows, cols)
    return {"eng": eng[:, :5], "clock": clock[:1], "bins": bins, "zoom_t": piece["zoom_t"],
            "zoom_n": piece["zoom_n"], "meta": piece["meta"], "zoom_w": piece["zoom_w"],
            "warm": set(np.nonzero(eng[:, k.WARM])[0].tolist())}


def _write_back(loadgen, pool, out: dict) -> None:
    """What LoadGen and ServicePool hold after the event loop's run."""
    I, R = out["I"], out["R"]   # the records are in LoadGen's arrays already
    loadgen.issued_count = int(I[k.ISSUED])
    loadgen.finished_count = int(np.count_nonzero(~np.isnan(out["completed"])))
    loadgen.reports = int(I[k.REPORTS])
    loadgen.issuing = False
    sc = out["sc"]
    loadgen.sample_completions = list(zip(sc[:, 0].tolist(), sc[:, 1].astype(np.int64).tolist()))
    if I[k.RAN_OUT]:
        loadgen.runtime_errors.append("Ending early: Ran out of generated queries to issue "
                                      f"after {loadgen.schedule.count} queries.")
    pool.busy_s, pool.batches = float(R[k.BUSY]), int(I[k.BATCHES])
