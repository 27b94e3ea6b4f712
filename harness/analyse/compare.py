"""Rows for `bench compare`: one per (system, workload, scenario), with the official metric,
validity, chip count, derived (unofficial) per-accelerator and per-joule figures, and whether
the row may be compared with the others of its workload and scenario.

Comparable means: same workload (same fingerprint when both carry one), same scenario, the
same test-defining settings (minimum duration, server latency bound, multi-stream samples per
query, target percentile), and a VALID run. Tuning knobs (target QPS, expected latency,
performance sample count) may differ: that is what submitters tune.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from harness.analyse.model import LATENCY_SCENARIOS, Result

# settings that define the test, per scenario (our TestSettings names; MLPerf logs are aliased)
DEFINING = {
    "single-stream": ("min_duration_ms", "single_stream_target_latency_percentile"),
    "multi-stream": ("min_duration_ms", "multi_stream_samples_per_query",
                     "multi_stream_target_latency_percentile"),
    "server": ("min_duration_ms", "server_target_latency_ns", "server_target_latency_percentile",
               "ttft_latency_ns", "tpot_latency_ns"),
    "offline": ("min_duration_ms",),
}
DEFINING["interactive"] = DEFINING["server"]
TOKEN_LATENCIES = ("ttft_s", "tpot_s")
UNOFFICIAL = "unofficial: derived by bench, not an MLPerf result"


@dataclass(frozen=True)
class Verdict:
    comparable: bool
    reasons: tuple[str, ...] = ()


def normalised(key: str, value: object) -> object:
    if key.endswith("_percentile") and isinstance(value, (int, float)) and value > 1:
        return round(value / 100, 6)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def comparability(results: list[Result]) -> dict[int, Verdict]:
    """Verdict per result (by index), judged within its (workload, scenario) group."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        groups[(r.workload, r.scenario)].append(i)
    verdicts = {}
    for members in groups.values():
        verdicts.update(_group_verdicts([results[i] for i in members], members))
    return verdicts


def _group_verdicts(group: list[Result], indices: list[int]) -> dict[int, Verdict]:
    reasons: dict[int, list[str]] = {i: [] for i in indices}
    for pos, r in enumerate(group):
        if not r.valid:
            reasons[indices[pos]].append("result is INVALID")
    for key in DEFINING[group[0].scenario]:
        _flag_odd_ones(group, indices, reasons, key,
                       lambda r, k=key: normalised(k, r.settings.get(k)))
    _flag_odd_ones(group, indices, reasons, "workload fingerprint",
                   lambda r: r.fingerprints.get("workload"))
    return {i: Verdict(not why, tuple(why)) for i, why in reasons.items()}


def _flag_odd_ones(group, indices, reasons, key, value_of) -> None:
    """Mark results whose `key` differs from the group's most common value."""
    values = [value_of(r) for r in group]
    known = [v for v in values if v is not None]
    if len(set(map(repr, known))) <= 1:
        return
    common_repr, _ = Counter(map(repr, known)).most_common(1)[0]
    common = next(v for v in known if repr(v) == common_repr)
    for pos, value in enumerate(values):
        if value is not None and repr(value) != common_repr:
            reasons[indices[pos]].append(f"{key} = {value} differs from {common} in the others")


# ---------------------------------------------------------------- rows


def rows(results: list[Result]) -> list[dict]:
    ordered = sorted(results, key=lambda r: (r.workload, r.scenario, r.system, str(r.path)))
    verdicts = comparability(ordered)
    return [row(r, verdicts[i]) for i, r in enumerate(ordered)]


def row(r: Result, verdict: Verdict) -> dict:
    return {
        "system": r.system, "workload": r.workload, "scenario": r.scenario,
        "metric": r.metric.as_dict(), "valid": r.valid, "invalid_reasons": list(r.invalid_reasons),
        "comparable": verdict.comparable,
        "not_comparable_reason": "; ".join(verdict.reasons) or None,
        "source": r.source, "path": str(r.path), "submitter": r.submitter,
        "division": r.division, "system_description": r.system_description,
        "time_mode": r.time_mode,
        "accelerators": r.accelerators.as_dict() if r.accelerators else None,
        "per_accelerator": per_accelerator(r), "per_core": per_core(r),
        "samples_per_second": r.figures.get("samples_per_second"),
        "latency_ms": chart_latency_ms(r),
        **token_latencies(r),
        "energy": r.energy.as_dict() if r.energy else None,
        "warnings": r.warnings,
        "environment": r.environment,
    }


def token_latencies(r: Result) -> dict:
    """`ttft_s` / `tpot_s` percentiles (seconds) where the result logged them."""
    out = {}
    for name in TOKEN_LATENCIES:
        values = {key.split(".", 1)[1]: v for key, v in r.figures.items() if key.startswith(f"{name}.")}
        if values:
            out[name] = values
    return out


def per_accelerator(r: Result) -> dict | None:
    """Throughput per accelerator (Offline/Server only; never for 0 or unknown chips)."""
    acc = r.accelerators
    if r.scenario in LATENCY_SCENARIOS or acc is None or not acc.count or r.metric.value is None:
        return None
    return {"value": r.metric.value / acc.count, "unit": f"{r.metric.unit} per accelerator",
            "official": False}


def per_core(r: Result) -> dict | None:
    """For CPU-only systems (0 accelerators): throughput per host core."""
    acc = r.accelerators
    if (r.scenario in LATENCY_SCENARIOS or acc is None or acc.count != 0 or not acc.host_cores
            or r.metric.value is None):
        return None
    return {"value": r.metric.value / acc.host_cores, "unit": f"{r.metric.unit} per core",
            "official": False}


def chart_latency_ms(r: Result) -> float | None:
    """The latency to plot: the headline for single/multi-stream, p99 for server, none for
    offline (its 'latency' is time since the one query was issued)."""
    if r.scenario in LATENCY_SCENARIOS:
        scale = {"ms": 1.0, "s": 1e3, "us": 1e-3, "ns": 1e-6}.get(r.metric.unit)
        value = r.metric.value
        return value * scale if scale is not None and value is not None else None
    p99 = r.figures.get("latency_s.p99")
    return p99 * 1e3 if r.scenario in ("server", "interactive") and p99 is not None else None
