"""Number formatting for the report's tables (Jinja filters). Statistics are shown, never
recomputed: every figure here comes from result.json."""

from __future__ import annotations

import math

from harness.figures import significant
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
    """Integers with thousands separators; floats as figures.significant shows them."""
    if missing(value):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if isinstance(value, float):
        return significant(value, digits)
    return str(value)


_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"),
             (1e-6, "µ"), (1e-9, "n"))


def si(value: float | None, unit: str = "", digits: int = 3) -> str:
    """Engineering prefixes: 1.2e9 B/s -> '1.2 GB/s'."""
    if missing(value):
        return "n/a"
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{value:.{digits}g} {unit}".rstrip()


def binary_bytes(value: float | None) -> str:
    """A size in binary units as memories are sized: 16,777,216 -> '16 MiB', 32768 -> '32 KiB'."""
    if missing(value):
        return "n/a"
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= scale:
            return f"{value / scale:,.4g} {unit}"
    return f"{number(value)} B"


# a setting's unit from its key's suffix (longest first): how a value of that key reads
_SETTING_UNITS = (("_bytes_per_s", lambda v: si(v, "B/s", 4)), ("_bytes", binary_bytes),
                  ("_hz", lambda v: si(v, "Hz", 4)), ("_ns", lambda v: seconds(v * 1e-9)),
                  ("_ms", lambda v: seconds(v * 1e-3)), ("_s", seconds),
                  ("_w", lambda v: si(v, "W", 4)), ("_j", lambda v: si(v, "J", 4)))


def _unit_of(key: str):
    """How a value of `key` reads: by its last dotted part's suffix (`bytes_per_s` matches
    `_bytes_per_s` too)."""
    last = "_" + key.rsplit(".", 1)[-1]
    return next((show for suffix, show in _SETTING_UNITS if last.endswith(suffix)), None)


def _vf_table(rows: list) -> str:
    """A voltage-frequency table: (clock Hz, volts) pairs."""
    return "; ".join(f"{si(hz, 'Hz', 4)} at {volts:g} V" for hz, volts in rows)


# LoadGen reads 0 in these settings as "no limit" (test_settings.h), not as a zero bound
NO_LIMIT_AT_ZERO = ("max_duration_ms", "max_query_count")


def setting(key: str, value: object) -> str:
    """A configuration or test-setting value with the unit its key names (`sram_bytes`,
    `clock_hz`, `target_latency_ns`, `period_s`); other values as `number` shows them."""
    if key.endswith("vf_table") and isinstance(value, list):
        return _vf_table(value)
    if key in NO_LIMIT_AT_ZERO and value == 0:
        return "no limit"
    show = _unit_of(key)
    if show and isinstance(value, (int, float)) and not isinstance(value, bool):
        return show(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(setting(key, v) for v in value) if value else "none"
    return number(value)


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if missing(value) else f"{value * 100:.{digits}f} %"


def signed_percent(value: float | None) -> str:
    return "n/a" if missing(value) else f"{value * 100:+.2f} %"


def metric(m: Metric) -> str:
    """The headline metric's value with its unit."""
    return seconds(m.value) if m.unit == "s" else f"{number(m.value, 6)} {m.unit}".strip()


FILTERS = {"seconds": seconds, "ms": ms, "number": number, "si": si, "percent": percent,
           "signed_percent": signed_percent, "metric": metric}
