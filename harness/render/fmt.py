"""Number formatting for the report's tables (Jinja filters). Statistics are shown, never
recomputed: every figure here comes from result.json."""

from __future__ import annotations

import math

from harness.record.schema import Metric

_TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def seconds(value: float | None) -> str:
    """A duration with a unit chosen for its size: 0.487 ms, 2.83 s, 12.0 µs."""
    if missing(value):
        return "n/a"
    for scale, unit in _TIME_UNITS:
        if abs(value) >= scale or scale == 1e-9:
            return f"{value / scale:,.4g} {unit}" if value else "0 s"
    return f"{value} s"


def ms(value: float | None) -> str:
    """Latency in milliseconds with three decimals (tables line up)."""
    return "n/a" if missing(value) else f"{value * 1e3:,.3f} ms"


def number(value: object, digits: int = 4) -> str:
    """Integers with thousands separators; floats to `digits` significant digits."""
    if missing(value):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e15 else f"{value:.{digits}e}"
    return str(value)


_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"),
             (1e-6, "µ"), (1e-9, "n"))


def si(value: float | None, unit: str = "") -> str:
    """Engineering prefixes: 1.2e9 B/s -> '1.2 GB/s'."""
    if missing(value):
        return "n/a"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if missing(value) else f"{value * 100:.{digits}f} %"


def signed_percent(value: float | None) -> str:
    return "n/a" if missing(value) else f"{value * 100:+.2f} %"


def metric(m: Metric) -> str:
    """The headline metric's value with its unit."""
    return seconds(m.value) if m.unit == "s" else f"{number(m.value, 6)} {m.unit}".strip()


FILTERS = {"seconds": seconds, "ms": ms, "number": number, "si": si, "percent": percent,
           "signed_percent": signed_percent, "metric": metric}
