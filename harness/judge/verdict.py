"""Judging a run: a pure function of (per-query records, effective settings).

Everything here can be recomputed from queries.parquet and result.json's settings. The checks
and their recommendations follow LoadGen's (mlperf-loadgen.md §5); a failed check names what was
measured, what was required and what to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.judge import early_stopping
from harness.judge import tokens as token_figures
from harness.measure.loadgen import Records
from harness.measure.settings import SERVER_SCENARIOS, Settings
from harness.judge.stats import latency_summary, percentile


@dataclass(frozen=True)
class Check:
    name: str            # "min_duration" | "min_queries" | "performance" | "early_stopping" | ...
    met: bool
    reason: str = ""     # what was measured against what, when not met
    fix: str = ""        # what to change


@dataclass(frozen=True)
class Outcome:
    valid: bool
    checks: tuple[Check, ...]
    metric: dict
    latency_s: dict
    samples_per_second: float
    query_count: int
    sample_count: int
    failed_queries: int
    duration_s: float
    early_stopping: dict
    extras: dict = field(default_factory=dict)   # scenario-specific LoadGen figures
    tokens: dict | None = None                    # token run: harness.judge.tokens' block

    @property
    def invalid_reasons(self) -> list[str]:
        return [f"{c.reason} {c.fix}".strip() for c in self.checks if not c.met]


def sample_latencies(records: Records) -> np.ndarray:
    """Offline: every sample's latency from the start (ascending); else the query latencies."""
    if not records.sample_completions:
        return records.latencies()
    times = np.array([t for t, _ in records.sample_completions])
    counts = np.array([n for _, n in records.sample_completions])
    order = np.argsort(times, kind="stable")
    return np.repeat(times[order], counts[order])


def _final_completion(records: Records) -> float:
    """When all samples of the final issued query were done (LoadGen's server denominator)."""
    last = records.completed_s[-1] if records.count else math.nan
    return float(last) if not math.isnan(last) else float(np.nanmax(records.completed_s, initial=0.0))


def _duration_check(settings: Settings, records: Records, latencies: np.ndarray) -> Check:
    scenario, need = settings.scenario, settings.min_duration_s
    if scenario in SERVER_SCENARIOS:
        got, what = float(records.scheduled_s[-1]), "scheduled time of the final query"
        fix = "Increase the target QPS so the loadgen pre-generates more queries."
    elif scenario == "offline":
        got, what = float(latencies[-1]) if len(latencies) else 0.0, "time to the last completion"
        rate = len(latencies) / got if got > 0 else 0.0
        fix = ("Increase expected QPS so the loadgen pre-generates a larger (coalesced) query"
               f" (measured {rate:.6g} samples/s: --target-qps {math.ceil(rate):d} or more).")
    else:
        got, what = float(records.issued_s[-1]), "issue time of the final query"
        mean = float(np.mean(latencies)) if len(latencies) else 0.0
        key = f"{settings.scenario.replace('-', '_')}_expected_latency_ns"
        fix = ("Decrease the expected latency so the loadgen pre-generates more queries"
               f" (measured mean {mean * 1e9:.0f} ns: --set {key}={math.floor(mean * 1e9):d}).")
    if not len(latencies) and scenario not in SERVER_SCENARIOS:   # nothing measured to size by
        fix = "No query completed, so there is nothing to size the run by: fix the SUT's failures first."
    if got >= need:
        return Check("min_duration", True)
    return Check("min_duration", False,
                 f"Min duration not met: {what} {got:.3f} s < {need:.3f} s.", fix)


def _queries_check(settings: Settings, records: Records) -> Check:
    queries, samples = records.count, int(records.samples.sum())
    if queries >= settings.min_query_count and samples >= settings.min_sample_count:
        return Check("min_queries", True)
    return Check("min_queries", False,
                 f"Min queries not met: {queries} queries / {samples} samples issued, "
                 f"{settings.min_query_count} / {settings.min_sample_count} required.",
                 "The test exited early, before enough queries were issued.")


def _server_checks(settings: Settings, latencies: np.ndarray, records: Records) -> tuple[list[Check], dict]:
    bound, p = settings.target_latency_s, settings.target_percentile
    failed = len(records.errors)
    over = int(np.count_nonzero(latencies > bound)) + failed
    tail = percentile(latencies, p) if len(latencies) else math.inf
    checks = [Check("performance", True) if tail <= bound else Check(
        "performance", False,
        f"Performance constraint not met: p{p * 100:g} latency {tail * 1e3:.3f} ms > bound {bound * 1e3:.3f} ms.",
        "Reduce target QPS to improve latency.")]
    es = early_stopping.server(records.count, over, p)
    if es.met:
        checks.append(Check("early_stopping", True))
    else:
        checks.append(Check("early_stopping", False,
                            f"Early stopping not met: {over} of {records.count} queries over the "
                            f"{bound * 1e3:g} ms bound; {es.needed} queries would be needed.",
                            f"Run at least {es.needed - records.count} more queries, or reduce target QPS."))
    summary = {"percentile": p, "overlatency_queries": over, "queries": records.count,
               "queries_needed": es.needed, "met": es.met, "lines": es.lines()}
    return checks, summary


def _estimate_checks(settings: Settings, latencies: np.ndarray) -> tuple[list[Check], dict, float]:
    p = settings.target_percentile
    es = early_stopping.estimate(latencies, p)
    summary = {"percentile": p, "queries": es.queries, "queries_needed": es.minimum, "met": es.met,
               "discarded": max(es.rank - 1, 0), "estimate_s": es.estimate if es.met else None,
               "lines": es.lines()}
    if settings.scenario == "single-stream":
        p99 = early_stopping.estimate(latencies, 0.99)
        summary["p99_estimate_s"] = p99.estimate if p99.met else None
    if es.met:
        return [Check("early_stopping", True)], summary, es.estimate
    check = Check("early_stopping", False,
                  f"Early stopping not met: only {es.queries} queries processed, "
                  f"{es.minimum} needed for a p{p * 100:g} estimate.",
                  f"Run at least {es.minimum} queries (--min-queries {es.minimum}).")
    return [check], summary, math.nan


def _failure_checks(records: Records) -> list[Check]:
    checks = []
    if records.errors:
        first = records.errors[min(records.errors)]
        checks.append(Check("failed_queries", False,
                            f"{len(records.errors)} of {records.count} queries failed (first: {first}).",
                            "Fix the SUT's errors or raise its timeout."))
    if records.interrupted:
        checks.append(Check("interrupted", False, "The run was interrupted before it finished.",
                            "Run it to completion."))
    return checks


def _metric(settings: Settings, records: Records, latencies: np.ndarray, estimate: float) -> dict:
    scenario = settings.scenario
    if scenario in SERVER_SCENARIOS:
        done = _final_completion(records)
        value = (records.count - 1) / done if done > 0 else 0.0
        return {"name": "completed samples per second", "value": value, "unit": "samples/s"}
    if scenario == "offline":
        value = len(latencies) / latencies[-1] if len(latencies) and latencies[-1] > 0 else 0.0
        return {"name": "samples per second", "value": float(value), "unit": "samples/s"}
    p = settings.target_percentile
    plain = percentile(latencies, p) if len(latencies) else math.nan
    value = estimate if not math.isnan(estimate) else plain
    return {"name": f"early-stopping p{p * 100:g} latency", "value": value, "unit": "s",
            "estimated": not math.isnan(estimate)}


def _extras(settings: Settings, records: Records, latencies: np.ndarray) -> dict:
    extras: dict = {}
    if settings.is_server:
        last = float(records.scheduled_s[-1])
        extras["scheduled_samples_per_second"] = (records.count - 1) / last if last > 0 else 0.0
        done = _final_completion(records)
        extras["completed_samples_per_second"] = (records.count - 1) / done if done > 0 else 0.0
    if settings.scenario == "single-stream":
        last = float(records.issued_s[-1])
        extras["qps_with_loadgen_overhead"] = (records.count - 1) / last if last > 0 else 0.0
        mean = float(np.mean(latencies)) if len(latencies) else 0.0
        extras["qps_without_loadgen_overhead"] = 1.0 / mean if mean > 0 else 0.0
    return extras


def _scenario_checks(settings: Settings, records: Records, latencies: np.ndarray,
                     token: token_figures.TokenOutcome | None) -> tuple[list[Check], dict, float]:
    """The scenario's performance and early-stopping checks; the estimate where one applies."""
    if token is not None and settings.is_server:   # TTFT/TPOT replace the latency bound
        checks = [Check(*c) for c in token.checks]
        met = all(c.met for c in checks if c.name.startswith("early_stopping"))
        return checks, {"met": met, "lines": [], **token.block["early_stopping"]}, math.nan
    if settings.is_server:
        return (*_server_checks(settings, latencies, records), math.nan)
    if settings.scenario == "offline":
        return [Check("early_stopping", True)], {"met": True, "lines": []}, math.nan
    return _estimate_checks(settings, latencies)


def judge(records: Records, settings: Settings) -> Outcome:
    """Metrics, percentiles, early stopping and validity of one run."""
    latencies = sample_latencies(records) if settings.scenario == "offline" else records.latencies()
    checks = [_duration_check(settings, records, latencies), _queries_check(settings, records)]
    token = (token_figures.judge_tokens(settings, records, latencies, _final_completion(records))
             if settings.use_token_latencies else None)
    more, es, estimate = _scenario_checks(settings, records, latencies, token)
    checks += more + _failure_checks(records)
    completed_samples = int(records.samples[~np.isnan(records.completed_s)].sum())
    first = float(np.min(records.scheduled_s)) if records.count else 0.0
    last = float(np.nanmax(records.completed_s, initial=first))
    duration = max(last - first, 0.0)
    return Outcome(
        valid=all(c.met for c in checks), checks=tuple(checks),
        metric=token.metric if token else _metric(settings, records, latencies, estimate),
        latency_s=latency_summary(latencies),
        samples_per_second=completed_samples / duration if duration > 0 else 0.0,
        query_count=records.count, sample_count=int(records.samples.sum()),
        failed_queries=len(records.errors), duration_s=duration, early_stopping=es,
        extras=_extras(settings, records, latencies), tokens=token.block if token else None)
