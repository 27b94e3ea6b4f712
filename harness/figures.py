"""The figure registry: every result figure's name, label, unit and better direction, once.

A figure is named by its dotted path in result.json (`latency_s.p99`, `energy.joules_per_sample`).
Gate rules, report deltas and the sweep's summary columns take their labels, units and
directions from here; the sweep's older column spellings (`p99_s`, `power_w`) are aliases.
A figure bench does not know has no direction (a gate rule must then give its sign).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

LOWER = +1    # lower is better: a rise is bad (latency, energy, failures)
HIGHER = -1   # higher is better: a drop is bad (throughput, efficiency)
HEADLINE = "metric.value"
PERCENTILES = ("min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max")


@dataclass(frozen=True)
class Figure:
    key: str           # dotted result.json path
    label: str         # what a person reads
    unit: str          # "s", "samples/s", "J", "W", "" ...
    better: int | None  # LOWER | HIGHER | None: neither

    def text(self, value: float | None) -> str:
        """The value with its unit, sized for reading (seconds as ms or µs, joules as mJ)."""
        return humanise(value, self.unit)


_FIXED = [
    Figure("samples_per_second", "throughput", "samples/s", HIGHER),
    Figure("tokens_per_second", "output tokens per second", "tokens/s", HIGHER),
    Figure("energy.joules_per_sample", "energy per sample", "J", LOWER),
    Figure("energy.average_power_w", "average power", "W", LOWER),
    Figure("energy.peak_power_w", "peak power (1 ms)", "W", LOWER),
    Figure("energy.samples_per_joule", "samples per joule", "samples/J", HIGHER),
    Figure("energy.tops_per_w", "TOPS/W (dense-equivalent)", "TOPS/W", HIGHER),
    Figure("energy.total_j", "energy", "J", LOWER),
    Figure("find_peak.peak_qps", "peak target QPS (find-peak)", "queries/s", HIGHER),
    Figure("failed_queries", "failed queries", "", LOWER),
    Figure("accuracy", "declared accuracy", "fraction", HIGHER),   # the workload's, never estimated
    Figure("duration_s", "duration", "s", None),
    Figure("query_count", "queries", "", None),
    Figure("sample_count", "samples", "", None),
]
KNOWN = {f.key: f for f in _FIXED}
# families: (prefix, label prefix, unit, better)
_FAMILIES = (("latency_s.", "latency", "s", LOWER), ("ttft_s.", "TTFT", "s", LOWER),
             ("tpot_s.", "TPOT", "s", LOWER), ("energy.breakdown_j.", "energy:", "J", LOWER))
_SUFFIXES = (("_per_second", "/s", HIGHER), ("qps", "queries/s", HIGHER), ("estimate_s", "s", LOWER))

# the sweep summary's column names (summary.parquet) for the figures they hold
SWEEP_COLUMNS = {"p50_s": "latency_s.p50", "p90_s": "latency_s.p90", "p99_s": "latency_s.p99",
                 "samples_per_s": "samples_per_second",
                 "energy_per_sample_j": "energy.joules_per_sample",
                 "power_w": "energy.average_power_w", "peak_qps": "find_peak.peak_qps"}


def headline(name: str, unit: str, latency_scenario: bool | None) -> Figure:
    """The scenario's headline metric (result.json `metric`): a rate is better high, a
    latency low; unknown without the scenario unless its unit is a rate."""
    if unit.endswith("/s"):
        better = HIGHER
    elif latency_scenario is None:
        better = None
    else:
        better = LOWER if latency_scenario else HIGHER
    return Figure(HEADLINE, name, unit, better)


def lookup(key: str) -> Figure | None:
    """The registered figure `key` (or a sweep column's alias), None when bench does not know it."""
    key = SWEEP_COLUMNS.get(key, key)
    if key in KNOWN:
        return KNOWN[key]
    for prefix, label, unit, better in _FAMILIES:
        if key.startswith(prefix):
            return Figure(key, f"{label} {key[len(prefix):]}", unit, better)
    for suffix, unit, better in _SUFFIXES:
        if key.endswith(suffix):
            return Figure(key, key, unit, better)
    return None


def describe(key: str, metric: dict | None = None, latency_scenario: bool | None = None) -> Figure:
    """Any figure, registered or not (an unknown one keeps its key as label, no unit, no
    direction); the headline takes its name and unit from the result's `metric`."""
    if key == HEADLINE and metric:
        return headline(str(metric.get("name", "metric")), str(metric.get("unit", "")), latency_scenario)
    return lookup(key) or Figure(key, key, "", None)


def renamed(figure: Figure, key: str) -> Figure:
    return replace(figure, key=key)


_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))
_SCALED = ("s", "J", "W")   # units shown with an SI prefix (ms, mJ, mW)


def humanise(value: float | None, unit: str) -> str:
    """1.374e-3 s -> '1.374 ms'; 0.00136 J -> '1.36 mJ'; 2465.7 samples/s -> '2,466 samples/s'."""
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    if unit == "fraction":
        return f"{value * 100:.4g} %"
    if unit in _SCALED and value != 0:
        return _si(value, unit)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,} {unit}".rstrip()
    return f"{significant(value)} {unit}".rstrip()


def significant(value: float, digits: int = 4) -> str:
    """`digits` significant digits with thousands separators, or to the unit when the value
    has more integer digits than that: 73191.51 -> '73,192', never '7.319e+04'."""
    if abs(value) >= 1e15:
        return f"{value:.{digits}e}"
    return f"{value:,.0f}" if abs(value) >= 10 ** digits else f"{value:,.{digits}g}"


_BINARY = ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))
_KEY_UNITS = (("_bytes_per_s", "B/s"), ("_per_s", "/s"), ("_hz", "Hz"), ("_s", "s"), ("_w", "W"),
              ("_j", "J"))


def by_name(key: str, value: object) -> str:
    """A value sized for reading by what its name says (DESIGN: units in the names):
    memory.sram_bytes 16777216 -> '16 MiB', dram_bytes_per_s 1.024e11 -> '102.4 GB/s'."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None else str(value)
    figure = lookup(key)
    if figure is not None:
        return figure.text(value)
    if key.endswith("_bytes") and math.isfinite(value) and abs(value) >= 1024:
        scale, unit = next((s, u) for s, u in _BINARY if abs(value) >= s)
        return f"{value / scale:.4g} {unit}"
    for suffix, unit in _KEY_UNITS:
        if key.endswith(suffix):
            return _si(value, unit)
    return humanise(value, "")


def _si(value: float, unit: str) -> str:
    if not math.isfinite(value) or value == 0:
        return humanise(value, unit)
    scale, prefix = next((s, p) for s, p in _SI if abs(value) >= s or s == 1e-9)
    return f"{value / scale:.4g} {prefix}{unit}"
