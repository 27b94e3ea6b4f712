"""Writing a result in MLPerf LoadGen's log formats (mlperf-loadgen.md §10), so MLPerf tooling
and `bench compare` read our runs like any submission.

`summary(record)` renders mlperf_log_summary.txt; `detail(record)` renders the :::MLLOG lines of
mlperf_log_detail.txt that carry settings and results. Both read only the typed result record.
"""

from __future__ import annotations

import json
import math

from harness.record import mlperf_log_write_tokens as tok
from harness.measure.settings import MLPERF_NAMES, SERVER_SCENARIOS
from harness.record.schema import Latency, RunRecord
from harness.record.typed_json import dump

RULE = "=" * 48
PERCENTILE_LINES = (("50.00", "p50"), ("90.00", "p90"), ("95.00", "p95"), ("97.00", "p97"),
                    ("99.00", "p99"), ("99.90", "p99.9"))


def ns(seconds: float | None) -> int:
    return 0 if seconds is None or math.isnan(seconds) else int(round(seconds * 1e9))


def _yes(flag: bool) -> str:
    return "Yes" if flag else "NO"


def _label(p: float) -> str:
    return f"{p * 100:.1f}th percentile"


def _metric_line(record: RunRecord) -> str:
    scenario = record.scenario
    if scenario in SERVER_SCENARIOS:
        return f"Completed samples per second    : {_completed_rate(record):.2f}"
    if scenario == "offline":
        return f"Samples per second: {_samples_per_second(record):g}"
    key = "p90" if scenario == "single-stream" else "p99"
    pct = record.settings.effective.target_latency_percentile
    value = record.latency_s.at(key) if pct in (0.9, 0.99) else None
    return f"{_label(pct)} latency (ns) : {ns(value if value is not None else record.metric.value)}"


def _loadgen(record: RunRecord, key: str, default: float | None = None) -> float | None:
    """A scenario-specific LoadGen figure of the record (`loadgen`)."""
    return (record.loadgen or {}).get(key, default)


def _completed_rate(record: RunRecord) -> float:
    return _loadgen(record, "completed_samples_per_second", record.metric.value)


def _samples_per_second(record: RunRecord) -> float:
    """Offline samples/s: the headline, unless tokens/s took its place."""
    if record.tokens:
        longest = record.latency_s.max
        return record.sample_count / longest if longest else 0.0
    return record.metric.value


def _checks(record: RunRecord) -> dict[str, bool]:
    """Met or not per LoadGen check; a token run's TTFT and TPOT halves count as one."""
    met: dict[str, bool] = {}
    for c in record.checks or ():
        name = c.name.removesuffix("_ttft").removesuffix("_tpot")
        met[name] = met.get(name, True) and c.met
    return met


def _verdict_lines(record: RunRecord) -> list[str]:
    met, scenario = _checks(record), record.scenario
    lines = [f"Result is : {'VALID' if record.valid else 'INVALID'}"]
    if scenario in SERVER_SCENARIOS:
        lines.append(f"  Performance constraints satisfied : {_yes(met.get('performance', True))}")
    lines += [f"  Min duration satisfied : {_yes(met.get('min_duration', True))}",
              f"  Min queries satisfied : {_yes(met.get('min_queries', True))}",
              f"  Early stopping satisfied: {_yes(met.get('early_stopping', True))}"]
    if not record.valid:
        lines += ["Recommendations:"] + [f" * {c.fix}" for c in record.checks or () if not c.met and c.fix]
    if scenario != "offline" and record.tokens and record.tokens.early_stopping:
        return lines + tok.early_stopping_lines(record)
    if scenario != "offline":
        es = record.early_stopping
        lines += ["Early Stopping Result:"] + [f" * {line}" for line in (es.lines if es and es.lines else ())]
        p99 = es.p99_estimate_s if es else None
        if scenario == "single-stream":
            lines.append(f" * Early stopping 99.0th percentile estimate: {ns(p99)}" if p99 is not None
                         else " * Not enough queries processed for 99.0th percentile early stopping estimate")
    return lines


def _latency_lines(latency: Latency) -> list[str]:
    lines = [f"Min latency (ns)                : {ns(latency.min)}",
             f"Max latency (ns)                : {ns(latency.max)}",
             f"Mean latency (ns)               : {ns(latency.mean)}"]
    lines += [f"{label} percentile latency (ns)   : {ns(latency.at(key))}" for label, key in PERCENTILE_LINES]
    return lines


def _stats_lines(record: RunRecord) -> list[str]:
    scenario = record.scenario
    if scenario in SERVER_SCENARIOS:
        head = [f"Scheduled samples per second : {_loadgen(record, 'scheduled_samples_per_second', 0.0):.2f}"]
    elif scenario == "single-stream":
        head = [f"QPS w/ loadgen overhead         : {_loadgen(record, 'qps_with_loadgen_overhead', 0.0):.2f}",
                f"QPS w/o loadgen overhead        : {_loadgen(record, 'qps_without_loadgen_overhead', 0.0):.2f}", ""]
    elif scenario == "multi-stream":
        head = ["Per-query latency:  "]
    else:
        head = []
    tail = tok.stats_lines(record) if record.tokens else []
    return head + _latency_lines(record.latency_s) + tail


def _parameter_lines(record: RunRecord) -> list[str]:
    eff = record.settings.effective
    bound = (tok.parameter_lines(record) if record.tokens
             else [f"target_latency (ns): {eff.target_latency_ns}"])
    return [f"samples_per_query : {eff.samples_per_query}",
            f"target_qps : {eff.target_qps:g}", *bound,
            f"max_async_queries : {0 if record.scenario in SERVER_SCENARIOS else 1}",
            f"min_duration (ms): {eff.min_duration_ms:g}",
            f"max_duration (ms): {eff.max_duration_ms:g}",
            f"min_query_count : {eff.min_query_count}",
            f"max_query_count : {eff.max_query_count}",
            f"qsl_rng_seed : {eff.qsl_rng_seed}",
            f"sample_index_rng_seed : {eff.sample_index_rng_seed}",
            f"schedule_rng_seed : {eff.schedule_rng_seed}",
            "accuracy_log_rng_seed : 0", "accuracy_log_probability : 0",
            "accuracy_log_sampling_target : 0", "print_timestamps : 0",
            "performance_issue_unique : 0", "performance_issue_same : 0",
            "performance_issue_same_index : 0",
            f"performance_sample_count : {eff.performance_sample_count}"]


def _count_line(n: int, one: str, many: str) -> str:
    if n == 0:
        return f"No {many.lower()} encountered during test."
    return f"1 {one} encountered. See detailed log." if n == 1 else f"{n} {many} encountered. See detailed log."


def summary(record: RunRecord) -> str:
    """mlperf_log_summary.txt for a result record."""
    errors = len(record.runtime_errors or ()) + (1 if record.failed_queries else 0)
    lines = [RULE, "MLPerf Results Summary", RULE,
             f"SUT name : {record.sut.name}",
             f"Scenario : {MLPERF_NAMES[record.scenario]}",
             "Mode     : PerformanceOnly", _metric_line(record),
             *(tok.headline_lines(record) if record.tokens else []), *_verdict_lines(record), "",
             RULE, "Additional Stats", RULE, *_stats_lines(record), "",
             RULE, "Test Parameters Used", RULE, *_parameter_lines(record), "",
             _count_line(0, "warning", "warnings"), "",
             _count_line(errors, "ERROR", "ERRORS")]
    return "\n".join(lines) + "\n"


def _mllog(key: str, value: object, is_error: bool = False) -> str:
    entry = {"key": key, "value": value, "time_ms": 0.0, "namespace": "mlperf::logging",
             "event_type": "POINT_IN_TIME",
             "metadata": {"is_error": is_error, "is_warning": False, "file": "bench", "line_no": 0,
                          "pid": 0, "tid": 0}}
    return ":::MLLOG " + json.dumps(entry)


def _result_entries(record: RunRecord) -> list[tuple[str, object]]:
    met, latency, scenario = _checks(record), record.latency_s, record.scenario
    entries: list[tuple[str, object]] = [
        ("result_validity", "VALID" if record.valid else "INVALID"),
        ("result_min_duration_met", met.get("min_duration", True)),
        ("result_min_queries_met", met.get("min_queries", True)),
        ("early_stopping_met", met.get("early_stopping", True))]
    if scenario in SERVER_SCENARIOS:
        entries.insert(1, ("result_perf_constraints_met", met.get("performance", True)))
        entries += [("result_scheduled_samples_per_sec", _loadgen(record, "scheduled_samples_per_second")),
                    ("result_completed_samples_per_sec", _completed_rate(record))]
    elif scenario == "offline":
        entries.append(("result_samples_per_second", _samples_per_second(record)))
    else:
        key = "early_stopping_latency_ss" if scenario == "single-stream" else "early_stopping_latency_ms"
        entries.append((key, ns(record.early_stopping.estimate_s if record.early_stopping else None)))
    entries.append(("result_query_count", record.query_count))
    entries += [("result_min_latency_ns", ns(latency.min)), ("result_max_latency_ns", ns(latency.max)),
                ("result_mean_latency_ns", ns(latency.mean))]
    entries += [(f"result_{label}_percentile_latency_ns", ns(latency.at(key))) for label, key in PERCENTILE_LINES]
    if record.tokens:
        entries += tok.result_entries(record)
        if record.tokens.early_stopping:
            at = next(i for i, (key, _) in enumerate(entries) if key == "result_query_count")
            entries[at:at] = tok.early_stopping_entries(record)
    return entries


def detail(record: RunRecord) -> str:
    """The settings and result lines of mlperf_log_detail.txt."""
    errors = record.runtime_errors or ()
    lines = [_mllog("loadgen_version", f"bench {record.harness_version}"),
             _mllog("sut_name", record.sut.name)]
    if record.tokens:
        lines += [_mllog(key, value) for key, value in tok.requested_entries(record)]
    lines += [_mllog(f"effective_{key}", value) for key, value in dump(record.settings.effective).items()]
    lines += [_mllog(key, value) for key, value in _result_entries(record)]
    if not record.valid:
        lines.append(_mllog("result_invalid_reason", " ".join(record.invalid_reasons)))
    lines += [_mllog("error_runtime", msg, is_error=True) for msg in errors]
    lines.append(_mllog("num_errors", len(errors)))
    return "\n".join(lines) + "\n"
