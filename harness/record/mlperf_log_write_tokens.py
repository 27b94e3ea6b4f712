"""The token lines of MLPerf LoadGen 6.0.17's logs (as the real LoadGen writes them for a run with
`use_token_latencies`; tests/test_tokens_loadgen.py compares the keys with LoadGen's own), from
the result record's `tokens` block. harness.record.mlperf_log_write calls these where a token run differs.
"""

from __future__ import annotations

import math

from harness.record.schema import RunRecord

PERCENTILES = (("50.00", "p50"), ("90.00", "p90"), ("95.00", "p95"), ("97.00", "p97"),
               ("99.00", "p99"), ("99.90", "p99_9"))


def ns(seconds: float | None) -> int:
    return 0 if seconds is None or math.isnan(seconds) else int(round(seconds * 1e9))


def headline_lines(record: RunRecord) -> list[str]:
    """The token line after the scenario's metric line."""
    tokens = record.tokens
    if record.scenario == "offline":
        return [f"Tokens per second: {tokens.tokens_per_second:g}"]
    if tokens.completed_tokens_per_second is not None:
        return [f"Completed tokens per second: {tokens.completed_tokens_per_second:.2f}"]
    if tokens.ttft_s is None:
        return []
    p = record.settings.effective.target_latency_percentile
    key = {0.9: "p90", 0.99: "p99"}.get(p, "p90")
    return [f"{p * 100:.0f}th first token percentile latency (ns) : {ns(getattr(tokens.ttft_s, key))}"]


def _early_lines(record: RunRecord, name: str) -> tuple[str, ...]:
    es = (record.tokens.early_stopping or {}).get(name)
    return (es.lines or ()) if es else ()


def early_stopping_lines(record: RunRecord) -> list[str]:
    lines = []
    for name, label in (("ttft", "TTFT"), ("tpot", "TPOT")):
        lines.append(f"{label} Early Stopping Result:")
        lines += [f" * {line}" for line in _early_lines(record, name)]
    return lines


def stats_lines(record: RunRecord) -> list[str]:
    """Additional Stats: token rates, then first-token and time-per-output-token statistics."""
    tokens = record.tokens
    if record.scenario == "offline" or tokens.ttft_s is None:
        return []
    lines = [""]
    if tokens.completed_tokens_per_second is not None:
        lines.append(f"Completed tokens per second                 : {tokens.completed_tokens_per_second:.2f}")
    else:
        lines += [f"TPS w/ loadgen overhead         : {tokens.token_throughput_with_loadgen_overhead:.2f}",
                  f"TPS w/o loadgen overhead        : {tokens.token_throughput:.2f}"]
    ttft, tpot = tokens.ttft_s, tokens.tpot_s
    lines += [f"Min First Token latency (ns)                : {ns(ttft.min)}",
              f"Max First Token latency (ns)                : {ns(ttft.max)}",
              f"Mean First Token latency (ns)               : {ns(ttft.mean)}"]
    lines += [f"{label} percentile first token latency (ns)   : {ns(getattr(ttft, key))}"
              for label, key in PERCENTILES]
    lines += ["", f"Min Time per Output Token (ns)                : {ns(tpot.min)}",
              f"Max Time per Output Token (ns)                : {ns(tpot.max)}",
              f"Mean Time per Output Token (ns)               : {ns(tpot.mean)}"]
    lines += [f"{label} percentile time to output token (ns)   : {ns(getattr(tpot, key))}"
              for label, key in PERCENTILES]
    return lines


def _limit_ns(record: RunRecord, key: str) -> float:
    value = getattr(record.settings.effective, key)
    return 0 if value is None else value


def parameter_lines(record: RunRecord) -> list[str]:
    """`ttft_latency (ns)` / `tpot_latency (ns)` in place of `target_latency (ns)`."""
    return [f"ttft_latency (ns): {_limit_ns(record, 'ttft_latency_ns')}",
            f"tpot_latency (ns): {_limit_ns(record, 'tpot_latency_ns')}"]


def requested_entries(record: RunRecord) -> list[tuple[str, object]]:
    entries: list[tuple[str, object]] = [("requested_use_token_latencies", True)]
    if record.scenario != "offline":
        entries += [("requested_server_ttft_latency", _limit_ns(record, "ttft_latency_ns")),
                    ("requested_server_tpot_latency", _limit_ns(record, "tpot_latency_ns"))]
    return entries


def early_stopping_entries(record: RunRecord) -> list[tuple[str, object]]:
    return [(f"early_stopping_{name}_result", " ".join(f" * {line}" for line in _early_lines(record, name)))
            for name in ("ttft", "tpot")]


def result_entries(record: RunRecord) -> list[tuple[str, object]]:
    """result_* token keys, after the latency keys."""
    tokens = record.tokens
    if record.scenario == "offline":
        return [("result_tokens_per_second", tokens.tokens_per_second)]
    if tokens.ttft_s is None:
        return []
    ttft, tpot = tokens.ttft_s, tokens.tpot_s
    entries: list[tuple[str, object]] = [
        ("result_first_token_min_latency_ns", ns(ttft.min)),
        ("result_first_token_max_latency_ns", ns(ttft.max)),
        ("result_first_token_mean_latency_ns", ns(ttft.mean))]
    entries += [(f"result_first_token_{label}_percentile_latency_ns", ns(getattr(ttft, key)))
                for label, key in PERCENTILES]
    entries += [("result_token_throughput_with_loadgen_overhead", tokens.token_throughput_with_loadgen_overhead),
                ("result_token_throughput", tokens.token_throughput)]
    entries += [(f"result_time_per_output_token_{label}_percentile_ns", ns(getattr(tpot, key)))
                for label, key in PERCENTILES]
    entries += [("result_time_to_output_token_min", ns(tpot.min)),
                ("result_time_to_output_token_max", ns(tpot.max)),
                ("result_time_to_output_token_mean", ns(tpot.mean))]
    if tokens.completed_tokens_per_second is not None:
        entries.append(("result_completed_tokens_per_second", tokens.completed_tokens_per_second))
    return entries
