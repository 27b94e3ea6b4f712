"""What an MLPerf run's logs mean: the official metric, the settings, the gateable figures.

The official metric follows the v4.1+ submission checker: Offline `result_samples_per_second`,
Server `result_completed_samples_per_sec`, SingleStream `early_stopping_latency_ss`,
MultiStream `early_stopping_latency_ms` (ns -> ms). Without a detail log the summary's
equivalent lines are used ("Samples per second", "Completed samples per second",
"Early stopping 90th/99th percentile estimate"), never the headline percentile when an
estimate exists.
"""

from __future__ import annotations

import math

from harness.errors import NO_VALUE, config_error
from harness.analyse import llm_rules
from harness.record.mlperf_log_read import Detail, Summary, number
from harness.analyse.model import Energy, Metric

THROUGHPUT_UNIT = "samples/s"
LATENCY_UNIT = "ms"

# summary key -> (detail key, our figure name)
LATENCY_KEYS = {
    "min": ("Min latency (ns)", "min"), "max": ("Max latency (ns)", "max"),
    "mean": ("Mean latency (ns)", "mean"),
    "p50": ("50.00 percentile latency (ns)", "50.00"),
    "p90": ("90.00 percentile latency (ns)", "90.00"),
    "p95": ("95.00 percentile latency (ns)", "95.00"),
    "p97": ("97.00 percentile latency (ns)", "97.00"),
    "p99": ("99.00 percentile latency (ns)", "99.00"),
    "p99.9": ("99.90 percentile latency (ns)", "99.90"),
}

SUMMARY_SETTINGS = {
    "samples_per_query": "samples_per_query", "target_qps": "target_qps",
    "target_latency (ns)": "target_latency_ns", "max_async_queries": "max_async_queries",
    "min_duration (ms)": "min_duration_ms", "max_duration (ms)": "max_duration_ms",
    "min_query_count": "min_query_count", "max_query_count": "max_query_count",
    "qsl_rng_seed": "qsl_rng_seed", "sample_index_rng_seed": "sample_index_rng_seed",
    "schedule_rng_seed": "schedule_rng_seed", "accuracy_log_rng_seed": "accuracy_log_rng_seed",
    "performance_sample_count": "performance_sample_count",
    "ttft_latency (ns)": "ttft_latency_ns", "tpot_latency (ns)": "tpot_latency_ns",
}

# our (TestSettings) name -> MLPerf effective name, per scenario
ALIASES = {
    "server": {"server_target_latency_ns": "target_latency_ns", "server_target_qps": "target_qps",
               "server_target_latency_percentile": "target_latency_percentile"},
    "multi-stream": {"multi_stream_samples_per_query": "samples_per_query",
                     "multi_stream_target_latency_percentile": "target_latency_percentile"},
    "single-stream": {"single_stream_target_latency_percentile": "target_latency_percentile"},
    "offline": {"offline_expected_qps": "target_qps"},
}
ALIASES["interactive"] = ALIASES["server"]
TARGET_PERCENTILE = {"single-stream": 90.0, "multi-stream": 99.0}


# ---------------------------------------------------------------- official metric


def official_metric(scenario: str, summary: Summary | None, detail: Detail | None,
                    where: str, benchmark: str = "", round_: str | None = None) -> Metric:
    """The result as the submission checker of its round computes it (harness.analyse.llm_rules
    for token benchmarks and the per-round Server field)."""
    fields = llm_rules.official_fields(benchmark, scenario, round_)
    metric = _field_metric(fields, summary, detail) if fields else None
    if metric is None and not any(f[0].startswith("result_inferred") for f in fields):
        metric = (_throughput_metric if scenario in ("offline", "server", "interactive") else _latency_metric)(
            scenario, summary, detail)
    if metric is None:
        raise config_error(where, "official metric", NO_VALUE,
                           f"no {scenario} result in mlperf_log_detail.txt or mlperf_log_summary.txt")
    return metric


def _field_metric(fields, summary: Summary | None, detail: Detail | None) -> Metric | None:
    for detail_key, summary_key, name, unit in fields:
        value = _pick(summary, detail, detail_key, summary_key)
        if value is not None:
            return Metric(name, value / 1e6 if unit == "ms" else value, unit)
    return None


def _throughput_metric(scenario: str, summary: Summary | None,
                       detail: Detail | None) -> Metric | None:
    if scenario == "offline":
        choices = [("samples per second", "result_samples_per_second", "Samples per second")]
    else:
        choices = [("completed samples per second", "result_completed_samples_per_sec",
                    "Completed samples per second"),
                   ("scheduled samples per second", "result_scheduled_samples_per_sec",
                    "Scheduled samples per second")]
    for name, detail_key, summary_key in choices:
        value = _pick(summary, detail, detail_key, summary_key)
        if value is not None:
            return Metric(name, value, THROUGHPUT_UNIT)
    return None


def _latency_metric(scenario: str, summary: Summary | None, detail: Detail | None) -> Metric | None:
    pct = _target_percentile(scenario, detail)
    tag = f"p{pct:g}"
    ns = None
    if detail is not None:
        ns = detail.get("early_stopping_latency_ss" if scenario == "single-stream"
                        else "early_stopping_latency_ms")
    if ns is None and summary is not None:
        ns = summary.early_stopping_estimate_ns(pct)
    if ns is not None:
        return Metric(f"early-stopping {tag} latency", _ns_to_ms(ns, detail), LATENCY_UNIT)
    headline = summary.headline_percentile() if summary is not None else None
    if headline is not None:   # an estimate-less (e.g. INVALID) run: say it is the plain one
        return Metric(f"{tag} latency", headline[1] / 1e6, LATENCY_UNIT)
    return None


def _target_percentile(scenario: str, detail: Detail | None) -> float:
    fraction = detail.get("effective_target_latency_percentile") if detail else None
    if not fraction:
        return TARGET_PERCENTILE[scenario]
    return round(number(fraction, str(detail.path), "effective_target_latency_percentile") * 100, 3)


def _ns_to_ms(value: object, detail: Detail | None) -> float:
    return number(value, str(detail.path) if detail else "", "early_stopping_latency") / 1e6


def _pick(summary: Summary | None, detail: Detail | None, detail_key: str,
          summary_key: str) -> float | None:
    if detail is not None and detail.get(detail_key) is not None:
        return number(detail.get(detail_key), str(detail.path), detail_key)
    if summary is not None:
        return summary.num(summary_key)
    return None


# ---------------------------------------------------------------- validity


def validity(summary: Summary | None, detail: Detail | None) -> bool:
    if detail is not None and detail.get("result_validity") is not None:
        return str(detail.get("result_validity")).upper() == "VALID"
    return bool(summary is not None and summary.valid)


def invalid_reasons(summary: Summary | None, detail: Detail | None) -> list[str]:
    reasons = []
    if summary is not None:
        for what in ("Performance constraints", "Min duration", "Min queries", "Early stopping"):
            if summary.satisfied(what) is False:
                reasons.append(f"{what.lower()} not satisfied")
    elif detail is not None:
        for key in ("result_perf_constraints_met", "result_min_duration_met",
                    "result_min_queries_met", "early_stopping_met"):
            if detail.get(key) is False:
                reasons.append(f"{key} is false")
    if detail is not None and detail.get("result_invalid_reason"):
        reasons.append(str(detail.get("result_invalid_reason")))
    return reasons


# ---------------------------------------------------------------- settings and figures


def settings(scenario: str, summary: Summary | None, detail: Detail | None) -> dict:
    out: dict = {}
    if summary is not None:
        for key, name in SUMMARY_SETTINGS.items():
            if summary.get(key) not in (None, ""):
                out[name] = summary.num(key)
    if detail is not None:
        for key, value in detail.values.items():
            if key.startswith("effective_") and key != "effective_scenario":
                out[key[len("effective_"):]] = _setting(value, detail, key)
    for ours, theirs in ALIASES[scenario].items():
        if theirs in out:
            out[ours] = out[theirs]
    return out


def _setting(value: object, detail: Detail, key: str) -> object:
    """A logged setting as read; a number must be finite (settings are shown and compared)."""
    if isinstance(value, float) and not math.isfinite(value):
        return number(value, str(detail.path), key)   # raises, naming file and key
    return value


def figures(scenario: str, metric: Metric, summary: Summary | None,
            detail: Detail | None) -> dict[str, float]:
    out: dict[str, float] = {"metric.value": metric.value}
    rate = _rate(scenario, metric, summary, detail)
    if rate is not None:
        out["samples_per_second"] = rate
    if scenario != "offline":   # Offline "latency" is time since the one query was issued
        out.update(_latencies(scenario, summary, detail))
        out.update(token_latencies(summary, detail))
    if metric.unit == "tokens/s":
        out["tokens_per_second"] = metric.value
    queries = detail.get("result_query_count") if detail else None
    if queries is not None:
        queries = number(queries, str(detail.path), "result_query_count")
    if queries is None and summary is not None:
        queries = summary.processed_queries()
    if queries is not None:
        out["query_count"] = queries
    return out


def _rate(scenario: str, metric: Metric, summary: Summary | None,
          detail: Detail | None) -> float | None:
    if scenario in ("offline", "server", "interactive"):
        if metric.unit == "tokens/s":
            return _pick(summary, detail, "result_samples_per_second" if scenario == "offline"
                         else "result_completed_samples_per_sec",
                         "Samples per second" if scenario == "offline" else "Completed samples per second")
        return metric.value
    if scenario == "single-stream":
        return _pick(summary, detail, "result_qps_with_loadgen_overhead", "QPS w/ loadgen overhead")
    return None


def _latencies(scenario: str, summary: Summary | None, detail: Detail | None) -> dict:
    out = {}
    per_query = "per_query_" if scenario == "multi-stream" else ""
    for ours, (summary_key, detail_tag) in LATENCY_KEYS.items():
        detail_key = (f"result_{detail_tag}_{per_query}latency_ns" if ours in ("min", "max", "mean")
                      else f"result_{detail_tag}_percentile_{per_query}latency_ns")
        if per_query and ours in ("min", "max", "mean"):
            detail_key = f"result_{ours}_query_latency_ns"
        value = _pick(summary, detail, detail_key, summary_key)
        if value is not None:
            out[f"latency_s.{ours}"] = value / 1e9
    return out


TOKEN_KEYS = {  # our figure prefix -> (summary label, detail key pattern)
    "ttft_s": ("{} percentile first token latency (ns)", "result_first_token_{}_percentile_latency_ns"),
    "tpot_s": ("{} percentile time to output token (ns)", "result_time_per_output_token_{}_percentile_ns"),
}


def token_latencies(summary: Summary | None, detail: Detail | None) -> dict:
    """ttft_s.pXX and tpot_s.pXX (seconds) where the logs carry them."""
    out = {}
    for prefix, (summary_key, detail_key) in TOKEN_KEYS.items():
        for ours, (_, tag) in LATENCY_KEYS.items():
            if ours.startswith("p"):
                value = _pick(summary, detail, detail_key.format(tag), summary_key.format(tag))
                if value is not None:
                    out[f"{prefix}.{ours}"] = value / 1e9
    return out


def energy_figures(energy: Energy | None) -> dict[str, float]:
    if energy is None:
        return {}
    values = {"energy.joules_per_sample": energy.joules_per_sample,
              "energy.average_power_w": energy.average_power_w,
              "energy.samples_per_joule": energy.samples_per_joule}
    return {k: v for k, v in values.items() if v is not None}
