"""MLPerf early stopping (LoadGen early_stopping.cc): confidence 0.99, tolerance 0.

With p the target percentile, t "over-latency" queries and h under-latency ones, the chance of
seeing at most t over-latency queries in h + t trials when the true pass rate is exactly p is the
regularised incomplete beta I_p(h, t + 1). `min_passing(t, p)` is the smallest h for which that
chance is below 1 - confidence.

- Server: a run of N queries with t over the latency bound passes iff N >= h(t) + t.

The odds are computed as LoadGen computes them (its series for the incomplete beta, not a
library's): no scipy on a run's path.
- Single-/multi-stream: with N queries, t is the largest i >= 1 with N >= h(i) + i, and the
  estimate is the t-th largest latency (t - 1 highest discarded).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.99
TOLERANCE = 0.0
SERIES_TOLERANCE = 1.0 / (1 << 33)   # LoadGen's kTolerance
_CHUNK = 2048
_Z = 2.3263478740408408   # the standard normal's CONFIDENCE quantile (statistics.NormalDist)


def _odds(h: int, t: int, p: float) -> float:
    """I_x(h, t + 1) with x = p - tolerance, as LoadGen's beta_regularized evaluates it:
    x^a (1-x)^(b-1) / (a B(a, b)) 2F1(1, 1-b; 1+a; x/(x-1)), B from lgamma."""
    x, a, b = p - TOLERANCE, h, t + 1
    lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return math.exp(a * math.log(x) + (b - 1) * math.log(1 - x) - lbeta) / a * _hypergeometric_2f1_a1(
        1 - b, 1 + a, x / (x - 1))


def _hypergeometric_2f1_a1(b: int, c: int, x: float) -> float:
    """2F1(1, b; c; x) by LoadGen's series: each term the last times (b + i) x / (c + i), summed
    in order, up to and including the first term at most 2^-33 in size (numpy's cumprod and
    cumsum multiply and add in the same order as its loop)."""
    result, term, start = 1.0, 1.0, 0
    while True:
        i = np.arange(start, start + _CHUNK, dtype=np.int64)
        ratios = (b + i).astype(np.float64) * x / (c + i).astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):   # LoadGen's loop overflows alike
            terms = np.cumprod(np.concatenate(([term], ratios)))[1:]
            small = np.flatnonzero(~(np.abs(terms) > SERIES_TOLERANCE))   # NaN stops it too
            stop = int(small[0]) + 1 if len(small) else _CHUNK
            result = float(np.cumsum(np.concatenate(([result], terms[:stop])))[-1])
        if len(small):
            return result
        term, start = float(terms[-1]), start + _CHUNK


@functools.lru_cache(maxsize=4096)
def min_passing(t: int, p: float) -> int:
    """h(t): the fewest under-latency queries that make t over-latency ones pass. Bracketed
    around the binomial's normal approximation, widened until it holds, then bisected: the
    odds decide, so the answer is any bracket-and-bisect search's (mlperf-loadgen.md §8), in
    about 10 evaluations of the series instead of 30 (each thousands of terms at large t)."""
    limit = 1.0 - CONFIDENCE
    known: dict[int, bool] = {}

    def passes(h: int) -> bool:   # NaN (the series overflowed, as LoadGen's does) fails
        if h not in known:
            known[h] = _odds(h, t, p) < limit
        return known[h]

    floor = max(1, math.ceil(math.log(limit) / math.log(p)))  # h(0); h(t) >= h(0)
    if passes(floor):
        return floor
    width = max(16, math.ceil(2 / (1 - p)))
    guess = _normal_estimate(t, p)
    lo, hi = max(floor, guess - width), max(floor + 1, guess + width)
    while lo > floor and passes(lo):     # invariant sought: lo fails, hi passes
        hi, lo, width = lo, max(floor, lo - 2 * width), 2 * width
    while not passes(hi):
        lo, hi, width = hi, hi + 2 * width, 2 * width
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if passes(mid) else (mid, hi)
    return hi


def _normal_estimate(t: int, p: float) -> int:
    """h(t) where the binomial count of over-latency queries among h + t, at rate 1 - p, is
    at most t with chance 1 - CONFIDENCE by the normal approximation (with continuity
    correction): within a few 1/(1 - p) of the exact h(t) (0.003 % at t = 26,000, p99)."""
    q = 1.0 - p
    v = q * p
    root = (_Z * math.sqrt(v) + math.sqrt(_Z * _Z * v + 4.0 * q * (t + 0.5))) / (2.0 * q)
    return int(root * root) - t


def queries_needed(t: int, p: float) -> int:
    return min_passing(t, p) + t


@dataclass(frozen=True)
class ServerOutcome:
    met: bool
    queries: int
    overlatency: int
    needed: int  # total queries that would make this overlatency count pass

    def lines(self) -> list[str]:
        if self.met:
            return ["Run successful."]
        return ["Run unsuccessful.",
                f"Processed {self.queries} queries.",
                f"Would need to run at least {self.needed - self.queries} more queries,",
                "with the run being successful if every additional query were under latency."]


def server(queries: int, overlatency: int, p: float) -> ServerOutcome:
    needed = queries_needed(overlatency, p)
    return ServerOutcome(queries >= needed, queries, overlatency, needed)


@dataclass(frozen=True)
class EstimateOutcome:
    met: bool
    queries: int
    minimum: int          # h(1) + 1, the fewest queries that give an estimate
    rank: int             # t: the estimate is the t-th largest latency (0 when not met)
    estimate: float       # seconds; nan when not met
    percentile: float

    def lines(self) -> list[str]:
        label = f"{self.percentile * 100:.1f}th percentile"
        if not self.met:
            return [f"Only processed {self.queries} queries.",
                    f"Need to process at least {self.minimum} queries for early stopping."]
        return [f"Processed at least {self.minimum} queries ({self.queries}).",
                f"Would discard {self.rank - 1} highest latency queries.",
                f"Early stopping {label} estimate: {round(self.estimate * 1e9)}"]


def largest_rank(n: int, p: float) -> int:
    """The largest t >= 1 with n >= h(t) + t (0 if none); h(t) + t increases with t."""
    if n < queries_needed(1, p):
        return 0
    lo, hi = 1, 2
    while hi <= n and n >= queries_needed(hi, p):
        lo, hi = hi, hi * 2
    hi = min(hi, n + 1)
    while hi - lo > 1:  # invariant: lo passes, hi fails (or is past n)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if n >= queries_needed(mid, p) else (lo, mid)
    return lo


def estimate(sorted_latencies: np.ndarray, p: float) -> EstimateOutcome:
    """The early-stopping estimate of the p-th percentile from ascending latencies."""
    n = len(sorted_latencies)
    rank = largest_rank(n, p)
    minimum = queries_needed(1, p)
    if rank == 0:
        return EstimateOutcome(False, n, minimum, 0, math.nan, p)
    return EstimateOutcome(True, n, minimum, rank, float(sorted_latencies[n - rank]), p)
