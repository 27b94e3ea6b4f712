"""The figures of one point, as summary columns: from a run's result.json or from a profile.

A profile generates no load, so its figures describe full load without queueing: every engine
busy back to back with batches of `batch` samples. Its latency percentiles all equal the batch's
service time, its power is every engine's dynamic power plus the chip's static power, and its
energy per sample is that power divided by the throughput.
"""

from __future__ import annotations

from typing import Any

from harness import figures as registry
from harness.record.schema import RunRecord
from harness.workloads.accuracy import declared

def _direction(column: str) -> str | None:
    """"max" | "min" from the figure registry (the column is an alias of a result figure)."""
    better = registry.describe(column).better
    return {registry.HIGHER: "max", registry.LOWER: "min"}.get(better)


# column -> the better direction ("max" | "min"), or None where neither is better
FIGURES: dict[str, str | None] = {
    "metric_name": None, "metric_value": None, "metric_unit": None, "valid": "max",
    **{column: _direction(column) for column in registry.SWEEP_COLUMNS},
    "accuracy": _direction("accuracy"),
}
NUMERIC = ("metric_value", *registry.SWEEP_COLUMNS, "accuracy")
LABELS = {column: f"{registry.describe(column).label} ({registry.describe(column).unit})"
          for column in registry.SWEEP_COLUMNS} | {"metric_value": "headline metric",
                                                  "accuracy": "declared accuracy"}


def empty() -> dict[str, Any]:
    return dict.fromkeys(FIGURES)


def accuracy(precision: str | None, sparsity: str | None, declarations,
             layers: dict[str, str] | None = None) -> float | None:
    """The workload's declared accuracy for the point's precision, sparsity and per-layer
    precisions (`layers`: mixed precision); None (unknown) when it declares none, or when the
    SUT has no precision (bench never estimates it)."""
    if precision is None:
        return None
    found = declared(declarations, precision, sparsity or "1:1", layers)
    return None if found is None else float(found["value"])


def from_result(record: RunRecord) -> dict[str, Any]:
    """Figures of an ordinary run (its result record); None where the run has none (a SUT
    without a power model has no energy figures)."""
    metric, lat, energy = record.metric, record.latency_s, record.energy
    sut, workload = record.sut, record.workload
    return {"accuracy": accuracy(sut.setting("compute.precision"), sut.setting("compute.sparsity"),
                                 workload.accuracy or (), workload.precision),
            "metric_name": metric.name, "metric_value": metric.value, "metric_unit": metric.unit,
            "valid": record.valid, "p50_s": lat.p50, "p90_s": lat.p90,
            "p99_s": lat.p99, "samples_per_s": record.samples_per_second,
            "energy_per_sample_j": energy.joules_per_sample if energy else None,
            "power_w": energy.average_power_w if energy else None,
            "peak_qps": record.find_peak.peak_qps if record.find_peak else None}


def from_profile(total: dict) -> dict[str, Any]:
    """Figures of a profile's totals (harness.accel.profile.totals)."""
    time_s, rate = total["time_s"], total["samples_per_s"]
    # every engine busy back to back: each burns its batch's energy, its static power and its
    # share of the always-on power (energy.static_power_w) all the time
    power = total["engines"] * total["energy_j"] / time_s if time_s else None
    return {"metric_name": "samples per second", "metric_value": rate, "metric_unit": "samples/s",
            "valid": True, "p50_s": time_s, "p90_s": time_s, "p99_s": time_s, "samples_per_s": rate,
            "energy_per_sample_j": power / rate if power and rate else None, "power_w": power,
            "peak_qps": None,   # a profile searches no load
            "accuracy": None}   # the caller looks it up: it needs the hardware and the workload
