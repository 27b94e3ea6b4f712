"""The DRAM timeline of a run, from what the joint simulation recorded (harness.accel.joint).

Two views, each a step series (value i holds on [t_s[i], t_s[i + 1]), the last up to end_s):

* `run`: the whole run in at most RUN_POINTS bins. Bin i's NPU value is the bytes the engines
  actually moved in it over its width, so the series averages exactly to the run's DRAM
  traffic (bytes / duration) over [end - duration, end].
* `zoom`: ZOOM_PERIODS periods of the slowest master in ZOOM_POINTS bins, from the first
  hyperperiod boundary after ZOOM_AFTER_S (or from 0 in a shorter run): the exact traffic,
  averaged over bins of span / ZOOM_POINTS.

Each view has the NPU's traffic, each master's delivered traffic (realtime: what it asks while
active; best-effort: what the sharing granted it), and `left_bytes_per_s`, what the realtime
masters leave of the usable bandwidth (`usable_bytes_per_s`, the capacity). `segments` gives the
exact piecewise-constant traffic inside the zoom records, for tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.accel.config import Master, period_fraction
from harness.accel.contention import Leftover, _segments, left_by_realtime
from harness.accel.joint import BIN_S, JointDram

RUN_POINTS = 1000
ZOOM_POINTS = 800


def _master_rate(m: Master) -> Leftover:
    """A realtime master's traffic as a periodic piecewise-constant rate."""
    p = float(period_fraction(m.period_s))
    if m.duty >= 1:
        return Leftover(p, np.array([0.0, p]), np.array([m.peak_bytes_per_s]))
    return Leftover(p, np.array([0.0, m.duty * p, p]), np.array([m.peak_bytes_per_s, 0.0]))


def _left(dram: JointDram) -> Leftover:
    memory = dram.model.hardware.memory
    period, edges = _segments(memory.masters)
    mids = 0.5 * (edges[:-1] + edges[1:])
    return Leftover(period, edges, np.array([left_by_realtime(memory, t) for t in mids]))


def _averages(lo: Leftover, t: np.ndarray) -> np.ndarray:
    """Average of a periodic rate over each [t[i], t[i + 1]]."""
    return np.diff(lo.cumulative_many(t)) / np.diff(t)


def _series(dram: JointDram, edges: np.ndarray, npu_bytes: np.ndarray,
            best_effort: np.ndarray) -> dict[str, Any]:
    """One view: step values on `edges` from the bytes moved in each bin."""
    widths = np.diff(edges)
    memory = dram.model.hardware.memory
    masters, j = {}, 0
    for m in memory.masters:
        if m.priority == "realtime":
            masters[m.name] = _averages(_master_rate(m), edges).tolist()
        else:
            masters[m.name] = (best_effort[:, j] / widths).tolist()
            j += 1
    return {"t_s": edges[:-1].tolist(), "end_s": float(edges[-1]),
            "npu_bytes_per_s": (npu_bytes / widths).tolist(), "masters": masters,
            "left_bytes_per_s": _averages(_left(dram), edges).tolist()}


def run_view(dram: JointDram, end_s: float, duration_s: float) -> dict[str, Any]:
    """The whole run, [end_s - duration_s, end_s], in at most RUN_POINTS bins of BIN_S multiples."""
    start = max(end_s - duration_s, 0.0)
    first, last = int(start / BIN_S), int(np.ceil(end_s / BIN_S))
    group = max(1, -(-(last - first) // RUN_POINTS))
    fine = dram.rec[0][first:max(last, first + 1)]
    pad = (-len(fine)) % group
    fine = np.concatenate([fine, np.zeros((pad, fine.shape[1]))])
    grouped = fine.reshape(-1, group, fine.shape[1]).sum(axis=1)
    edges = (first + group * np.arange(len(grouped) + 1)) * BIN_S
    edges[0], edges[-1] = start, end_s
    keep = edges[1:] > edges[:-1]
    edges = np.concatenate([edges[:1], edges[1:][keep]])
    return _series(dram, edges, grouped[keep, 0], grouped[keep, 1:])


def segments(dram: JointDram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(change instants, engines requesting from each, bytes they really move per byte of DRAM
    time each moves) as recorded, up to the zoom's end."""
    count = int(dram.rec[6][2])
    return (dram.rec[4][:count].copy(), dram.rec[5][:count].astype(int),
            dram.rec[7][:count].copy())


def _bytes_until(dram: JointDram, t: np.ndarray, rates: list[Leftover | None],
                 npu: bool) -> np.ndarray:
    """Bytes moved in [0, t] at rates[n] while n engines request (times the segment's w for the
    NPU), for instants t inside the zoom records."""
    times, counts, weights = segments(dram)
    if not npu:
        weights = np.ones(len(times))

    def moved(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
        lo = rates[n]
        return w * (lo.cumulative_many(b) - lo.cumulative_many(a)) if lo else 0 * a

    done = np.zeros(len(times))
    for n in np.unique(counts):
        pick = np.nonzero(counts[:-1] == n)[0]
        done[pick + 1] = moved(int(n), times[pick], times[pick + 1], weights[pick])
    done = np.cumsum(done)
    i = np.searchsorted(times, t, side="right") - 1
    out = done[i].copy()
    for n in np.unique(counts[i]):
        pick = counts[i] == n
        out[pick] += moved(int(n), times[i][pick], t[pick], weights[i][pick])
    return out


def npu_bytes_until(dram: JointDram, t: np.ndarray) -> np.ndarray:
    """Bytes the engines moved in [0, t], for instants inside the zoom records."""
    edges, _, rate, _, period = dram.band
    rates = [Leftover(period, edges, rate[n]) if n else None for n in range(rate.shape[0])]
    return _bytes_until(dram, t, rates, npu=True)


def best_effort_bytes_until(dram: JointDram, j: int, t: np.ndarray) -> np.ndarray:
    """Bytes best-effort master j was granted in [0, t], for instants inside the zoom records."""
    edges, period, grants = dram.band[0], dram.band[4], dram.grants
    rates = [Leftover(period, edges, grants[n, j]) for n in range(grants.shape[0])]
    return _bytes_until(dram, t, rates, npu=False)


def zoom_view(dram: JointDram, end_s: float) -> dict[str, Any]:
    """A few master periods of the run at fine resolution (exact bin averages)."""
    times = segments(dram)[0]
    if not len(times):
        raise RuntimeError("the DRAM simulation recorded nothing")
    valid = times[-1] if len(times) == len(dram.rec[4]) else np.inf  # records ran out there
    start = dram.zoom_start
    if start + dram.span > min(end_s, valid):
        start = 0.0
    edges = np.linspace(start, min(start + dram.span, end_s, valid), ZOOM_POINTS + 1)
    npu = np.diff(npu_bytes_until(dram, edges))
    best_effort = np.array([np.diff(best_effort_bytes_until(dram, j, edges))
                            for j in range(dram.grants.shape[1])]).T.reshape(ZOOM_POINTS, -1)
    return _series(dram, edges, npu, best_effort)


def timeline(dram: JointDram, end_s: float, duration_s: float) -> dict[str, Any]:
    usable = dram.model.hardware.memory.usable_dram_bytes_per_s
    if end_s <= 0:
        return {"usable_bytes_per_s": usable}
    return {**zoom_view(dram, end_s), "usable_bytes_per_s": usable,
            "run": run_view(dram, end_s, duration_s)}
