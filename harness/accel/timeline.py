"""Service time of a batch under periodic contention: exact simulation and its exact tabulation.

A batch is a sequence of phases (compute seconds c, DRAM bytes D), one per layer. Starting a
phase at t it ends at

    g(t) = max(t + c, finish(t, D))     with double buffering (transfer overlaps compute)
    g(t) = finish(t, D) + c             without

where finish integrates the engine's leftover bandwidth (contention.Leftover). `simulate` walks
the phases for one start time (exact, ~1 µs per phase).

`tabulate` computes the whole map start phase -> end time over one hyperperiod H exactly:
every g is continuous, strictly increasing and piecewise linear (finish is the inverse of a
piecewise-linear cumulative byte count), and so is their composition. The composition is
built layer by layer: the new breakpoints are the start phases at which a phase's start or its
transfer's end meets a master's on/off edge, plus the crossings of the max(). Between
breakpoints the map is linear, so `ServiceTable.end` is exact up to float rounding (tests
compare it with `simulate`). Phases that are compute-bound even at the smallest leftover
bandwidth are folded into plain delays first, which keeps the table small.

Cost and accuracy (measured on npu_v2 = 2 realtime masters with 1/30 s and 1/60 s periods, on a
2-core machine): tables for batch 1..8 hold 2-420 breakpoints and take 5 ms (mobilenet_v2) to
66 ms (resnet50_1440) to build, once per model; a lookup is a bisect plus a multiply, so
`AcceleratorModel.service` runs at ~1.5 M calls/s. Against `simulate` at random start times in
[0, 600] s the largest relative difference was 8e-11, which is the float rounding of the
absolute times (~1e-13 s at t = 600 s), not an approximation: the table is exact.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from harness.accel.contention import Leftover


@dataclass(frozen=True)
class Phase:
    """One layer of a batch: compute seconds and DRAM bytes, counted in bytes of DRAM time
    (dram_cost.npu_cost); `moved_bytes` the bytes really moved (None: the same)."""

    compute_s: float
    dram_bytes: float
    moved_bytes: float | None = None

    @property
    def moved(self) -> float:
        return self.dram_bytes if self.moved_bytes is None else self.moved_bytes

    @property
    def moved_per_byte(self) -> float:
        return self.moved / self.dram_bytes if self.dram_bytes > 0 else 1.0


def simulate(phases: tuple[Phase, ...], lo: Leftover, start: float, double_buffering: bool) -> float:
    """End time of a batch starting at `start` (exact, one phase at a time)."""
    t = start
    for ph in phases:
        if ph.dram_bytes <= 0:
            t += ph.compute_s
        elif double_buffering:
            t = max(t + ph.compute_s, lo.finish(t, ph.dram_bytes))
        else:
            t = lo.finish(t, ph.dram_bytes) + ph.compute_s
    return t


def simplify(phases: tuple[Phase, ...], lo: Leftover, double_buffering: bool) -> tuple[Phase, ...]:
    """Drop transfers that can never be the bottleneck, then merge consecutive delays."""
    out: list[Phase] = []
    floor = lo.min_bytes_per_s
    for ph in phases:
        if double_buffering and ph.dram_bytes / floor <= ph.compute_s:
            ph = Phase(ph.compute_s, 0.0)
        if out and ph.dram_bytes == 0 and out[-1].dram_bytes == 0:
            out[-1] = Phase(out[-1].compute_s + ph.compute_s, 0.0)
        else:
            out.append(ph)
    return tuple(out)


def _h_breakpoints(lo: Leftover, t0: float, t1: float, nbytes: float) -> np.ndarray:
    """Instants t in (t0, t1) where finish(t, nbytes) has a kink."""
    own = lo.edges_between(t0, t1)
    h0 = lo.finish(t0, nbytes)
    h1 = lo.finish(t1, nbytes)
    ends = lo.edges_between(h0, h1)
    back = lo.inverse_many(lo.cumulative_many(ends) - nbytes)
    found = np.concatenate([own, back])
    return found[(found > t0) & (found < t1)]


def _with_max(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise max of two functions linear between the points p, with crossings added."""
    diff = a - b
    idx = np.nonzero(diff[:-1] * diff[1:] < 0)[0]
    top = np.maximum(a, b)
    if idx.size == 0:
        return p, top
    w = diff[idx] / (diff[idx] - diff[idx + 1])
    pc = p[idx] + w * (p[idx + 1] - p[idx])
    yc = a[idx] + w * (a[idx + 1] - a[idx])
    order = np.argsort(np.concatenate([p, pc]), kind="stable")
    return np.concatenate([p, pc])[order], np.concatenate([top, yc])[order]


def compose(p: np.ndarray, y: np.ndarray, ph: Phase, lo: Leftover,
            double_buffering: bool) -> tuple[np.ndarray, np.ndarray]:
    """The map start phase -> end of `ph`, given start phase -> start of `ph` as (p, y)."""
    if ph.dram_bytes <= 0:
        return p, y + ph.compute_s
    kinks = _h_breakpoints(lo, float(y[0]), float(y[-1]), ph.dram_bytes)
    p2 = np.union1d(p, np.interp(kinks, y, p))
    y2 = np.interp(p2, p, y)
    done = lo.inverse_many(lo.cumulative_many(y2) + ph.dram_bytes)
    if not double_buffering:
        return p2, done + ph.compute_s
    return _with_max(p2, y2 + ph.compute_s, done)


class ServiceTable:
    """Exact end time of a batch as a function of its start, periodic in the hyperperiod."""

    def __init__(self, phases: tuple[Phase, ...], lo: Leftover, double_buffering: bool):
        phases = simplify(phases, lo, double_buffering)
        self.period_s = lo.period_s
        self.constant: float | None = None
        p = np.array([0.0, lo.period_s])
        y = p.copy()
        if lo.constant:  # no duty-cycled master: the same duration whenever it starts
            self.constant = simulate(phases, lo, 0.0, double_buffering)
        else:
            for ph in phases:
                p, y = compose(p, y, ph, lo, double_buffering)
        self.points = len(p)
        self._p = p.tolist()
        self._y = y.tolist()
        self._slope = (np.diff(y) / np.diff(p)).tolist()

    def fastest_s(self) -> float:
        """The shortest duration over every start phase: the end is piecewise linear in the
        start, so the minimum is at a breakpoint."""
        if self.constant is not None:
            return self.constant
        return min(y - p for p, y in zip(self._p, self._y))

    def duration(self, start_s: float) -> float:
        """Seconds a batch starting at `start_s` takes (exact within float rounding)."""
        if self.constant is not None:
            return self.constant
        u = start_s % self.period_s
        i = bisect.bisect_right(self._p, u) - 1
        if i >= len(self._slope):
            i = len(self._slope) - 1
        return self._y[i] + self._slope[i] * (u - self._p[i]) - u


@dataclass(frozen=True)
class PhaseStats:
    """One phase's (or the whole batch's) seconds over every start phase in [0, H): the exact
    average, and the best and worst with the start phase that gives them."""

    mean_s: float
    best_s: float
    worst_s: float
    best_start_s: float
    worst_start_s: float


def _stats(p: np.ndarray, seconds: np.ndarray) -> PhaseStats:
    """Statistics of a function linear between the points p (so extremes lie on them)."""
    span = p[-1] - p[0]
    mean = float(np.sum((seconds[1:] + seconds[:-1]) * np.diff(p)) / (2 * span))
    lo, hi = int(np.argmin(seconds)), int(np.argmax(seconds))
    return PhaseStats(mean, float(seconds[lo]), float(seconds[hi]), float(p[lo]), float(p[hi]))


def phase_stats(phases: tuple[Phase, ...], lo: Leftover, double_buffering: bool
                ) -> tuple[list[PhaseStats], PhaseStats]:
    """Each phase's time and the batch's, as the batch's start runs over a whole hyperperiod.

    The same composition as ServiceTable, kept phase by phase: the map start -> end of phase i
    is piecewise linear on points that refine those of phase i - 1, so phase i's time (end of i
    minus end of i - 1) is linear between them and its average and extremes are exact."""
    floor = lo.min_bytes_per_s
    p = np.array([0.0, lo.period_s])
    y = p.copy()
    per_phase = []
    for ph in phases:
        if double_buffering and ph.dram_bytes / floor <= ph.compute_s:
            ph = Phase(ph.compute_s, 0.0)  # compute-bound at every phase: a plain delay
        p2, y2 = compose(p, y, ph, lo, double_buffering)
        per_phase.append(_stats(p2, y2 - np.interp(p2, p, y)))
        p, y = p2, y2
    return per_phase, _stats(p, y - p)
