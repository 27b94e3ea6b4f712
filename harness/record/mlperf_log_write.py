"""Writing a result in MLPerf LoadGen's log formats (mlperf-loadgen.md §10), so MLPerf tooling
and `bench compare` read our runs like any submission.

`summary(result)` renders mlperf_log_summary.txt; `detail(result)` renders the :::MLLOG lines of
mlperf_log_detail.txt that carry settings and results. Both read only the result record.
"""

from __future__ import annotations

import json
import math

from harness.record import mlperf_log_write_tokens as tok
from harness.measure.settings import MLPERF_NAMES, SERVER_SCENARIOS

RULE = "=" * 48
PERCENTILE_LINES = (("50.00", "p50"), ("90.00", "p90"), ("95.00", "p95"), ("97.00", "p97"),
                    ("99.00", "p99"), ("99.90", "p99.9"))


def ns(seconds: float | None) -> int:
    return 0 if seconds is None or math.isnan(seconds) else int(round(seconds * 1e9))


def _yes(flag: bool) -> str:
    return "Yes" if flag else "NO"


def _label(p: float) -> str:
    return f"{p * 100:.1f}th percentile"


def _metric_line(result: dict) -> str:
    scenario, eff = result["scenario"], result["settings"]["effective"]
    if scenario in SERVER_SCENARIOS:
        value = result.get("loadgen", {}).get("completed_samples_per_second", result["metric"]["value"])
        return f"Completed samples per second    : {value:.2f}"
    if scenario == "offline":
        return f"Samples per second: {_samples_per_second(result):g}"
    key = "p90" if scenario == "single-stream" else "p99"
    pct = eff["target_latency_percentile"]
    value = result["latency_s"].get(key) if pct in (0.9, 0.99) else None
    return f"{_label(pct)} latency (ns) : {ns(value if value is not None else result['metric']['value'])}"


def _samples_per_second(result: dict) -> float:
    """Offline samples/s: the headline, unless tokens/s took its place."""
    if result.get("tokens"):
        return result["sample_count"] / result["latency_s"]["max"] if result["latency_s"]["max"] else 0.0
    return result["metric"]["value"]


def _checks(result: dict) -> dict[str, bool]:
    """Met or not per LoadGen check; a token run's TTFT and TPOT halves count as one."""
    met: dict[str, bool] = {}
    for c in result.get("checks", []):
        name = c["name"].removesuffix("_ttft").removesuffix("_tpot")
        met[name] = met.get(name, True) and c["met"]
    return met


def _verdict_lines(result: dict) -> list[str]:
    met = _checks(result)
    lines = [f"Result is : {'VALID' if result['valid'] else 'INVALID'}"]
    if result["scenario"] in SERVER_SCENARIOS:
        lines.append(f"  Performance constraints satisfied : {_yes(met.get('performance', True))}")
    lines += [f"  Min duration satisfied : {_yes(met.get('min_duration', True))}",
              f"  Min queries satisfied : {_yes(met.get('min_queries', True))}",
              f"  Early stopping satisfied: {_yes(met.get('early_stopping', True))}"]
    fixes = [c["fix"] for c in result.get("checks", []) if not c["met"] and c.get("fix")]
    if not result["valid"]:
        lines += ["Recommendations:"] + [f" * {fix}" for fix in fixes]
    if result["scenario"] != "offline" and (result.get("tokens") or {}).get("early_stopping"):
        return lines + tok.early_stopping_lines(result)
    if result["scenario"] != "offline":
        lines += ["Early Stopping Result:"]
        lines += [f" * {line}" for line in result["early_stopping"].get("lines", [])]
        p99 = result["early_stopping"].get("p99_estimate_s")
        if result["scenario"] == "single-stream":
            lines.append(f" * Early stopping 99.0th percentile estimate: {ns(p99)}" if p99 is not None
                         else " * Not enough queries processed for 99.0th percentile early stopping estimate")
    return lines


def _latency_lines(latency: dict) -> list[str]:
    lines = [f"Min latency (ns)                : {ns(latency['min'])}",
             f"Max latency (ns)                : {ns(latency['max'])}",
             f"Mean latency (ns)               : {ns(latency['mean'])}"]
    lines += [f"{label} percentile latency (ns)   : {ns(latency[key])}" for label, key in PERCENTILE_LINES]
    return lines


def _stats_lines(result: dict) -> list[str]:
    extras, scenario = result.get("loadgen", {}), result["scenario"]
    if scenario in SERVER_SCENARIOS:
        head = [f"Scheduled samples per second : {extras.get('scheduled_samples_per_second', 0.0):.2f}"]
    elif scenario == "single-stream":
        head = [f"QPS w/ loadgen overhead         : {extras.get('qps_with_loadgen_overhead', 0.0):.2f}",
                f"QPS w/o loadgen overhead        : {extras.get('qps_without_loadgen_overhead', 0.0):.2f}", ""]
    elif scenario == "multi-stream":
        head = ["Per-query latency:  "]
    else:
        head = []
    tail = tok.stats_lines(result) if result.get("tokens") else []
    return head + _latency_lines(result["latency_s"]) + tail


def _parameter_lines(result: dict) -> list[str]:
    eff = result["settings"]["effective"]
    bound = (tok.parameter_lines(result) if result.get("tokens")
             else [f"target_latency (ns): {eff['target_latency_ns']}"])
    return [f"samples_per_query : {eff['samples_per_query']}",
            f"target_qps : {eff['target_qps']:g}", *bound,
            f"max_async_queries : {0 if result['scenario'] in SERVER_SCENARIOS else 1}",
            f"min_duration (ms): {eff['min_duration_ms']:g}",
            f"max_duration (ms): {eff['max_duration_ms']:g}",
            f"min_query_count : {eff['min_query_count']}",
            f"max_query_count : {eff['max_query_count']}",
            f"qsl_rng_seed : {eff['qsl_rng_seed']}",
            f"sample_index_rng_seed : {eff['sample_index_rng_seed']}",
            f"schedule_rng_seed : {eff['schedule_rng_seed']}",
            "accuracy_log_rng_seed : 0", "accuracy_log_probability : 0",
            "accuracy_log_sampling_target : 0", "print_timestamps : 0",
            "performance_issue_unique : 0", "performance_issue_same : 0",
            "performance_issue_same_index : 0",
            f"performance_sample_count : {eff['performance_sample_count']}"]


def _count_line(n: int, one: str, many: str) -> str:
    if n == 0:
        return f"No {many.lower()} encountered during test."
    return f"1 {one} encountered. See detailed log." if n == 1 else f"{n} {many} encountered. See detailed log."


def summary(result: dict) -> str:
    """mlperf_log_summary.txt for a result record."""
    errors = len(result.get("runtime_errors", [])) + (1 if result.get("failed_queries") else 0)
    lines = [RULE, "MLPerf Results Summary", RULE,
             f"SUT name : {result['sut']['name']}",
             f"Scenario : {MLPERF_NAMES[result['scenario']]}",
             "Mode     : PerformanceOnly", _metric_line(result),
             *(tok.headline_lines(result) if result.get("tokens") else []), *_verdict_lines(result), "",
             RULE, "Additional Stats", RULE, *_stats_lines(result), "",
             RULE, "Test Parameters Used", RULE, *_parameter_lines(result), "",
             _count_line(0, "warning", "warnings"), "",
             _count_line(errors, "ERROR", "ERRORS")]
    return "\n".join(lines) + "\n"


def _mllog(key: str, value: object, is_error: bool = False) -> str:
    entry = {"key": key, "value": value, "time_ms": 0.0, "namespace": "mlperf::logging",
             "event_type": "POINT_IN_TIME",
             "metadata": {"is_error": is_error, "is_warning": False, "file": "bench", "line_no": 0,
                          "pid": 0, "tid": 0}}
    return ":::MLLOG " + json.dumps(entry)


def _result_entries(result: dict) -> list[tuple[str, object]]:
    met, latency, scenario = _checks(result), result["latency_s"], result["scenario"]
    entries: list[tuple[str, object]] = [
        ("result_validity", "VALID" if result["valid"] else "INVALID"),
        ("result_min_duration_met", met.get("min_duration", True)),
        ("result_min_queries_met", met.get("min_queries", True)),
        ("early_stopping_met", met.get("early_stopping", True))]
    if scenario in SERVER_SCENARIOS:
        entries.insert(1, ("result_perf_constraints_met", met.get("performance", True)))
        completed = result["loadgen"].get("completed_samples_per_second", result["metric"]["value"])
        entries += [("result_scheduled_samples_per_sec", result["loadgen"].get("scheduled_samples_per_second")),
                    ("result_completed_samples_per_sec", completed)]
    elif scenario == "offline":
        entries.append(("result_samples_per_second", _samples_per_second(result)))
    else:
        key = "early_stopping_latency_ss" if scenario == "single-stream" else "early_stopping_latency_ms"
        entries.append((key, ns(result["early_stopping"].get("estimate_s"))))
    entries.append(("result_query_count", result["query_count"]))
    entries += [("result_min_latency_ns", ns(latency["min"])), ("result_max_latency_ns", ns(latency["max"])),
                ("result_mean_latency_ns", ns(latency["mean"]))]
    entries += [(f"result_{label}_percentile_latency_ns", ns(latency[key])) for label, key in PERCENTILE_LINES]
    if result.get("tokens"):
        entries += tok.result_entries(result)
        if result["tokens"].get("early_stopping"):
            at = next(i for i, (key, _) in enumerate(entries) if key == "result_query_count")
            entries[at:at] = tok.early_stopping_entries(result)
    return entries


def detail(result: dict) -> str:
    """The settings and result lines of mlperf_log_detail.txt."""
    eff = result["settings"]["effective"]
    lines = [_mllog("loadgen_version", f"bench {result['harness_version']}"),
             _mllog("sut_name", result["sut"]["name"])]
    if result.get("tokens"):
        lines += [_mllog(key, value) for key, value in tok.requested_entries(result)]
    lines += [_mllog(f"effective_{key}", value) for key, value in eff.items()]
    lines += [_mllog(key, value) for key, value in _result_entries(result)]
    if not result["valid"]:
        lines.append(_mllog("result_invalid_reason", " ".join(result["invalid_reasons"])))
    lines += [_mllog("error_runtime", msg, is_error=True) for msg in result.get("runtime_errors", [])]
    lines.append(_mllog("num_errors", len(result.get("runtime_errors", []))))
    return "\n".join(lines) + "\n"
