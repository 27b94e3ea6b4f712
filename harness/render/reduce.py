"""Chart points from per-query records, reduced so a 1.2 M-query run draws in a few hundred
points. Only the *drawing* is reduced: every statistic printed comes from result.json."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.record.schema import Latency


CDF_POINTS = 400
TIMELINE_BINS = 600
SCATTER_POINTS = 2000
THROUGHPUT_BINS = 300


@dataclass(frozen=True)
class Queries:
    """The per-query columns the charts read (times in seconds from the run's start)."""
    scheduled_s: np.ndarray
    completed_s: np.ndarray     # NaN for a failed query
    samples: np.ndarray


@dataclass(frozen=True)
class Series:
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Timeline:
    """Latency against scheduled time: per-bin max (kept exactly) and mean, plus a thin sample."""
    mid_s: np.ndarray
    max_s: np.ndarray
    mean_s: np.ndarray
    sample: Series


def completed(records: Queries) -> tuple[np.ndarray, np.ndarray]:
    """(scheduled time, latency) of the completed queries, in scheduled order."""
    done = ~np.isnan(records.completed_s)
    x = records.scheduled_s[done]
    y = records.completed_s[done] - x
    if len(x) > 1 and np.any(np.diff(x) < 0):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    return x, y


def cdf(sorted_latencies: np.ndarray, points: int = CDF_POINTS) -> Series:
    """The empirical CDF evaluated on a log grid from the 1st percentile (the chart's floor) to
    the maximum."""
    n = len(sorted_latencies)
    positive = sorted_latencies[sorted_latencies > 0]
    if n == 0 or len(positive) == 0:
        return Series(np.empty(0), np.empty(0))
    lo = max(float(positive[0]), float(sorted_latencies[int(n * 0.01)]))
    hi = float(sorted_latencies[-1])
    grid = np.geomspace(lo, hi, points) if hi > lo else np.array([hi])
    return Series(grid, np.searchsorted(sorted_latencies, grid, side="right") / n)


def cdf_from_summary(latency_s: Latency) -> Series:
    """A coarse CDF from result.json's percentiles, for runs whose records hold no per-sample
    latencies (offline: one query of every sample)."""
    keys = (("min", 0.0), ("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p97", 0.97),
            ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0))
    pairs = [(latency_s.at(k), p) for k, p in keys if latency_s.at(k)]
    return Series(np.array([v for v, _ in pairs]), np.array([p for _, p in pairs]))


def _bin_starts(x: np.ndarray, bins: int) -> np.ndarray:
    """Index of the first element of each non-empty bin of equal width over x (ascending)."""
    edges = np.linspace(x[0], x[-1], bins + 1)[:-1]
    return np.unique(np.searchsorted(x, edges, side="left"))


def timeline(x: np.ndarray, y: np.ndarray, bins: int = TIMELINE_BINS,
             sample: int = SCATTER_POINTS) -> Timeline:
    if len(x) == 0:
        empty = np.empty(0)
        return Timeline(empty, empty, empty, Series(empty, empty))
    starts = _bin_starts(x, bins)
    counts = np.diff(np.append(starts, len(x)))
    mid = np.add.reduceat(x, starts) / counts
    stride = max(1, len(x) // sample)
    return Timeline(mid, np.maximum.reduceat(y, starts), np.add.reduceat(y, starts) / counts,
                    Series(x[::stride], y[::stride]))


def throughput(records: Queries, bins: int = THROUGHPUT_BINS) -> Series:
    """Completed samples per second in equal time bins from the run's start to its last
    completion; about 50 completions a bin at least, so short runs are not all noise."""
    done = ~np.isnan(records.completed_s)
    t, w = records.completed_s[done], records.samples[done]
    if len(t) < 2 or float(t.max()) <= 0:
        return Series(np.empty(0), np.empty(0))
    bins = int(np.clip(len(t) // 50, 10, bins))
    counts, edges = np.histogram(t, bins=bins, range=(0.0, float(t.max())), weights=w)
    return Series((edges[:-1] + edges[1:]) / 2, counts / np.diff(edges))
