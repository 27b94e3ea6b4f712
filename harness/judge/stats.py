"""Latency statistics exactly as MLPerf LoadGen computes them.

A percentile is the sorted latency at 0-based index floor(N * p), with no interpolation; the
product is taken in double precision, as LoadGen does. Latencies are in seconds here; the
MLPerf log writer converts them to integer nanoseconds.
"""

from __future__ import annotations

import math

import numpy as np

# Percentiles every result reports, keyed as in result.json's latency_s.
PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p97": 0.97, "p99": 0.99, "p99.9": 0.999}


def percentile_index(n: int, p: float) -> int:
    return min(n - 1, int(math.floor(n * p)))


def percentile(sorted_latencies: np.ndarray, p: float) -> float:
    """LoadGen's percentile of an ascending array."""
    return float(sorted_latencies[percentile_index(len(sorted_latencies), p)])


def latency_summary(sorted_latencies: np.ndarray) -> dict[str, float]:
    """min, mean, the reported percentiles and max of an ascending array (seconds)."""
    if len(sorted_latencies) == 0:
        return {key: math.nan for key in ("min", "mean", *PERCENTILES, "max")}
    summary = {"min": float(sorted_latencies[0]), "mean": float(np.mean(sorted_latencies))}
    summary.update({key: percentile(sorted_latencies, p) for key, p in PERCENTILES.items()})
    summary["max"] = float(sorted_latencies[-1])
    return summary
