"""DRAM contention: the bandwidth one NPU engine gets at each instant, and exact transfer times.

Masters are periodic: active for the first ``duty * period_s`` of each period at
``bytes_per_s / duty``. Over one hyperperiod H (the least common multiple of the periods) the
bandwidth left for the NPU is piecewise constant (reference §3.4, strict-priority fluid model):

    usable(t) = dram_bytes_per_s * dram_efficiency - sum of active realtime masters' rates
    whoever moves data at t shares usable(t) max-min fairly (water filling): each of the n
        engines whose current layer still has bytes to move (greedy, but at most
        dram_share_per_engine x usable(t) each) and each active best-effort master (its demand);
        a best-effort master that gets less than it asks for is starving and is reported

`Leftover` holds one engine's bandwidth while n engines request (`engine_bandwidths` gives it
for every n; `engine_bandwidth` for an engine alone) and integrates it exactly: `finish(t,
nbytes)` is the instant the engine has moved `nbytes` starting at `t` (the inverse of the
cumulative byte count). harness.accel.joint simulates engines whose n changes over time.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from harness.accel.config import Master, Memory, period_fraction
from harness.accel.dram_cost import master_cost


def hyperperiod(masters: Sequence[Master]) -> float:
    """Least common multiple of the periods (as fractions with denominator <= 1e6)."""
    fractions = [period_fraction(m.period_s) for m in masters]
    num, den = fractions[0].numerator, fractions[0].denominator
    for f in fractions[1:]:
        num = num * f.numerator // math.gcd(num, f.numerator)
        den = math.gcd(den, f.denominator)
    return float(Fraction(num, den))


def segment_edges(masters: Sequence[Master], period: float) -> np.ndarray:
    """Every instant in [0, period] at which some duty-cycled master switches on or off."""
    edges = [0.0, period]
    for m in masters:
        if m.duty >= 1:
            continue
        p = float(period_fraction(m.period_s))
        starts = np.arange(round(period / p)) * p
        edges.extend(starts)
        edges.extend(starts + m.duty * p)
    return np.unique(np.clip(np.array(edges), 0.0, period))


def active(m: Master, t: float) -> bool:
    if m.duty >= 1:
        return True
    p = float(period_fraction(m.period_s))
    return (t % p) < m.duty * p


def _segments(masters: Sequence[Master]) -> tuple[float, np.ndarray]:
    periodic = [m for m in masters if m.duty < 1]
    period = hyperperiod(periodic) if periodic else 1.0
    return period, segment_edges(periodic, period)


def realtime_peak(memory: Memory) -> tuple[float, float, list[str]]:
    """(largest simultaneous realtime demand in DRAM time, when, the realtime masters' names)."""
    realtime = [m for m in memory.masters if m.priority == "realtime"]
    if not realtime:
        return 0.0, 0.0, []
    _, edges = _segments(realtime)
    best, when = -1.0, 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        mid = 0.5 * (a + b)
        demand = sum(m.peak_bytes_per_s * master_cost(m, memory) for m in realtime if active(m, mid))
        if demand > best:
            best, when = demand, float(a)
    return best, when, [m.name for m in realtime]


def water_fill(capacity: float, demands: Sequence[float], greedy: int = 1,
               cap: float = math.inf) -> tuple[float, list[float]]:
    """Max-min fair split of `capacity` among `demands` and `greedy` participants that each
    take as much as they can, up to `cap` (the engines): (one greedy share, the grants)."""
    asks = list(demands) + [cap] * greedy
    grants = [0.0] * len(asks)
    remaining, waiting = capacity, len(asks)
    for i in sorted(range(len(asks)), key=lambda j: asks[j]):
        if asks[i] > remaining / waiting:
            break
        grants[i] = asks[i]
        remaining -= asks[i]
        waiting -= 1
    level = remaining / waiting if waiting else 0.0
    for i, d in enumerate(asks):
        if grants[i] == 0.0 and d > 0:
            grants[i] = min(d, level)
    return (grants[-1] if greedy else level), grants[:len(demands)]


@dataclass(frozen=True)
class MasterShare:
    """How a best-effort master fared over one hyperperiod."""

    name: str
    demanded_bytes_per_s: float
    served_bytes_per_s: float
    min_served_fraction: float

    @property
    def starving(self) -> bool:
        return self.served_bytes_per_s < self.demanded_bytes_per_s * (1 - 1e-9)


class Leftover:
    """Piecewise-constant, periodic bandwidth of one engine, with exact integration."""

    def __init__(self, period_s: float, edges: np.ndarray, rates: np.ndarray):
        self.period_s = float(period_s)
        self.edges = np.asarray(edges, dtype=float)          # n + 1 values, 0 .. period
        self.rates = np.asarray(rates, dtype=float)          # n values, > 0
        self.cum = np.concatenate([[0.0], np.cumsum(self.rates * np.diff(self.edges))])
        self.per_period = float(self.cum[-1])
        self._edges = self.edges.tolist()
        self._cum = self.cum.tolist()
        self._rates = self.rates.tolist()

    @property
    def constant(self) -> bool:
        return bool(np.all(self.rates == self.rates[0]))

    @property
    def mean_bytes_per_s(self) -> float:
        return self.per_period / self.period_s

    @property
    def min_bytes_per_s(self) -> float:
        return float(self.rates.min())

    def cumulative(self, t: float) -> float:
        """Bytes the engine could move in [0, t]."""
        q = math.floor(t / self.period_s)
        u = t - q * self.period_s
        i = min(max(bisect.bisect_right(self._edges, u) - 1, 0), len(self._rates) - 1)
        return q * self.per_period + self._cum[i] + self._rates[i] * (u - self._edges[i])

    def inverse(self, y: float) -> float:
        """The first instant by which `y` bytes could have been moved since 0."""
        q = math.floor(y / self.per_period)
        v = y - q * self.per_period
        i = min(max(bisect.bisect_right(self._cum, v) - 1, 0), len(self._rates) - 1)
        return q * self.period_s + self._edges[i] + (v - self._cum[i]) / self._rates[i]

    def finish(self, t: float, nbytes: float) -> float:
        """When a transfer of `nbytes` starting at `t` completes."""
        return self.inverse(self.cumulative(t) + nbytes) if nbytes > 0 else t

    def cumulative_many(self, t: np.ndarray) -> np.ndarray:
        q = np.floor(t / self.period_s)
        u = t - q * self.period_s
        i = np.clip(np.searchsorted(self.edges, u, side="right") - 1, 0, len(self.rates) - 1)
        return q * self.per_period + self.cum[i] + self.rates[i] * (u - self.edges[i])

    def inverse_many(self, y: np.ndarray) -> np.ndarray:
        q = np.floor(y / self.per_period)
        v = y - q * self.per_period
        i = np.clip(np.searchsorted(self.cum, v, side="right") - 1, 0, len(self.rates) - 1)
        return q * self.period_s + self.edges[i] + (v - self.cum[i]) / self.rates[i]

    def edges_between(self, a: float, b: float) -> np.ndarray:
        """Instants in (a, b) where the rate changes."""
        inner = self.edges[:-1]
        first, last = math.floor(a / self.period_s), math.floor(b / self.period_s)
        times = (np.arange(first, last + 1)[:, None] * self.period_s + inner[None, :]).ravel()
        return times[(times > a) & (times < b)]


def left_by_realtime(memory: Memory, t: float) -> float:
    """usable(t): what the active realtime masters leave of the usable DRAM bandwidth, each
    taking its rate at its DRAM cost (dram_cost.master_cost: writes cost turnarounds)."""
    taken = sum(m.peak_bytes_per_s * master_cost(m, memory) for m in memory.masters
                if m.priority == "realtime" and active(m, t))
    return max(memory.usable_dram_bytes_per_s - taken, 0.0)


def _segment_rates(memory: Memory, edges: np.ndarray, requesters: int = 1
                   ) -> tuple[np.ndarray, list[list[float]]]:
    """Per segment: one engine's bandwidth while `requesters` engines move data, and each
    best-effort master's grant (in its own bytes: the sharing is in DRAM time, at its cost)."""
    best_effort = [m for m in memory.masters if m.priority == "best_effort"]
    costs = [master_cost(m, memory) for m in best_effort]
    rates, grants = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        mid = 0.5 * (a + b)
        left = left_by_realtime(memory, mid)
        demands = [m.peak_bytes_per_s * k if active(m, mid) else 0.0
                   for m, k in zip(best_effort, costs)]
        npu, granted = water_fill(left, demands, requesters, memory.dram_share_per_engine * left)
        rates.append(npu)
        grants.append([g / k for g, k in zip(granted, costs)])
    return np.array(rates), grants


def engine_bandwidth(memory: Memory, requesters: int = 1) -> Leftover:
    """The DRAM bandwidth one engine gets while `requesters` engines (itself included) move
    data, as a periodic piecewise-constant function; by default an engine alone."""
    period, edges = _segments(memory.masters)
    rates, _ = _segment_rates(memory, edges, requesters)
    return Leftover(period, edges, rates)


def engine_bandwidths(memory: Memory, engines: int) -> list[Leftover]:
    """`engine_bandwidth` for 1..engines requesters (index n - 1), on common edges."""
    return [engine_bandwidth(memory, n) for n in range(1, engines + 1)]


def best_effort_grants(memory: Memory, engines: int) -> tuple[float, np.ndarray, np.ndarray]:
    """(hyperperiod, edges, grants[n, master, segment]): what each best-effort master gets
    while n = 0..engines engines move data."""
    period, edges = _segments(memory.masters)
    grants = [np.array(_segment_rates(memory, edges, n)[1]).T.reshape(-1, len(edges) - 1)
              for n in range(engines + 1)]
    return period, edges, np.array(grants)


def best_effort_shares(memory: Memory) -> list[MasterShare]:
    """Each best-effort master's demand and what it got alone with one busy engine, averaged
    over a hyperperiod."""
    period, edges = _segments(memory.masters)
    _, grants = _segment_rates(memory, edges)
    widths = np.diff(edges)
    best_effort = [m for m in memory.masters if m.priority == "best_effort"]
    shares = []
    for j, m in enumerate(best_effort):
        mids = 0.5 * (edges[:-1] + edges[1:])
        want = np.array([m.peak_bytes_per_s if active(m, t) else 0.0 for t in mids])
        got = np.array([g[j] for g in grants])
        fractions = got[want > 0] / want[want > 0]
        shares.append(MasterShare(m.name, float((want * widths).sum() / period),
                                  float((got * widths).sum() / period),
                                  float(fractions.min()) if fractions.size else 1.0))
    return shares
