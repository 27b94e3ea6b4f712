"""Finding the peak server QPS (LoadGen's FindPeakPerformance, judged by full validity).

Starting from the requested target QPS (the lower bound), the upper bound is found by repeatedly
multiplying by (1 + step); then a binary search narrows [lower, upper] until
floor(lower * 10^d) + 1 >= floor(upper * 10^d). Unlike LoadGen, whose probes check only the
latency percentile, a probe here passes only when the whole run is VALID — latency bound and
early stopping both — which is what the peak is then reported as.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from harness.runner import Prepared, RunOutput, execute

MAX_PROBES = 64


@dataclass(frozen=True)
class Probe:
    target_qps: float
    valid: bool
    p99_s: float | None
    metric: float
    reasons: tuple[str, ...]


def _probe(prepared: Prepared, qps: float) -> tuple[Probe, RunOutput]:
    run = execute(prepared, prepared.settings.with_target_qps(qps))
    r = run.result
    return Probe(qps, r["valid"], r["latency_s"].get("p99"), r["metric"]["value"],
                 tuple(r["invalid_reasons"])), run


def _narrow(lower: float, upper: float, decimals: int) -> bool:
    scale = 10 ** decimals
    return math.floor(lower * scale) + 1 < math.floor(upper * scale)


def find_peak(prepared: Prepared, on_probe: Callable[[Probe], None] = lambda p: None
              ) -> tuple[RunOutput, list[Probe]]:
    """The run at the highest VALID target QPS found, and every probe tried, in order."""
    s = prepared.settings
    probes: list[Probe] = []

    def attempt(qps: float) -> tuple[Probe, RunOutput]:
        probe, run = _probe(prepared, qps)
        probes.append(probe)
        on_probe(probe)
        return probe, run

    probe, best = attempt(s.target_qps)
    if not probe.valid:
        return best, probes
    lower, upper = s.target_qps, s.target_qps * (1 + s.find_peak_step)
    while len(probes) < MAX_PROBES:
        probe, run = attempt(upper)
        if not probe.valid:
            break
        lower, best, upper = upper, run, upper * (1 + s.find_peak_step)
    while _narrow(lower, upper, s.find_peak_decimals) and len(probes) < MAX_PROBES:
        mid = lower + (upper - lower) / 2
        probe, run = attempt(mid)
        if probe.valid:
            lower, best = mid, run
        else:
            upper = mid
    return best, probes
