"""Token-level figures of an LLM run, as MLPerf LoadGen 6.0.17 computes them (loadgen/results.cc,
loadgen/logging.cc; mlperf-loadgen.md §8.3):

- TTFT of a sample = its first-token report − its scheduled time;
- TPOT of a sample = (latency − TTFT) / (output tokens − 1), in whole nanoseconds truncated
  (LoadGen's integer division); a one-token sample has no TPOT and LoadGen records 0 (logging
  an error) — so does bench, counting such samples in `single_token_samples`;
- percentiles of both on LoadGen's floor(N·p) rule; tokens/s = output tokens of the completed
  samples / the scenario's denominator: Offline the last completion, Server the completion of
  the final issued query (no −1, unlike samples/s), SingleStream the final issue time ("with
  loadgen overhead") or mean latency × N ("without");
- Server (and Interactive) runs are VALID only if p99 TTFT and p99 TPOT are within their
  limits and early stopping passes on both arrays against those limits (a failed sample counts
  as over both).

Pure functions of (records, settings), like harness.judge.verdict, which calls `judge_tokens`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.judge import early_stopping
from harness.measure.loadgen import Records
from harness.judge.stats import latency_summary, percentile

TTFT, TPOT = "ttft", "tpot"
NAMES = {TTFT: "TTFT", TPOT: "TPOT"}


@dataclass(frozen=True)
class TokenOutcome:
    block: dict                                     # result.json's `tokens`
    checks: list[tuple[str, bool, str, str]] = field(default_factory=list)  # name, met, reason, fix
    metric: dict | None = None                      # the official headline, where tokens own it


def tpot_s(decode_s: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Per-sample time per output token from the time between first and last token: whole ns,
    truncated as LoadGen's integer division (a nano-nanosecond guard keeps float noise in
    virtual times from truncating 20 ms to 19.999999 ms); 0 for one-token samples."""
    steps = np.asarray(tokens, dtype=np.int64) - 1
    out = np.zeros(len(steps), dtype=np.float64)
    many = steps > 0
    out[many] = np.floor(decode_s[many] * 1e9 / steps[many] + 1e-6)
    return out / 1e9


def sample_latencies(records: Records) -> tuple[np.ndarray, np.ndarray]:
    """(TTFT, TPOT) in seconds of every completed sample, each ascending."""
    done = ~np.isnan(records.completed_s) & ~np.isnan(records.first_token_s)
    ttft = records.first_token_s[done] - records.scheduled_s[done]
    decode = records.completed_s[done] - records.first_token_s[done]
    return np.sort(ttft), np.sort(tpot_s(decode, records.tokens[done]))


def output_tokens(records: Records) -> int:
    """Output tokens of the completed queries (a failed query's tokens do not count)."""
    return int(records.tokens[~np.isnan(records.completed_s)].sum())


def _rate(tokens: int, seconds: float) -> float:
    return tokens / seconds if seconds > 0 else 0.0


def throughput(settings, records: Records, tokens: int, final_done_s: float,
               max_latency_s: float, mean_latency_s: float) -> dict:
    """LoadGen's token rates for the scenario (see the module docstring)."""
    if settings.scenario == "offline":
        return {"tokens_per_second": _rate(tokens, max_latency_s)}
    last_issue = float(records.issued_s[-1]) if records.count else 0.0
    done = int(np.count_nonzero(~np.isnan(records.completed_s)))
    rates = {"token_throughput_with_loadgen_overhead": _rate(tokens, last_issue),
             "token_throughput": _rate(tokens, mean_latency_s * done)}
    if settings.is_server:
        rates["completed_tokens_per_second"] = _rate(tokens, final_done_s)
        rates["tokens_per_second"] = rates["completed_tokens_per_second"]
    else:
        rates["tokens_per_second"] = rates["token_throughput_with_loadgen_overhead"]
    return rates


def _limit_check(name: str, values: np.ndarray, bound: float, p: float) -> tuple:
    tail = percentile(values, p) if len(values) else math.inf
    label = NAMES[name]
    if tail <= bound:
        return (f"performance_{name}", True, "", "")
    return (f"performance_{name}", False, f"{label} constraint not met: p{p * 100:g} {label} "
            f"{tail * 1e3:.3f} ms > limit {bound * 1e3:.3f} ms.",
            f"{label} constrain not met: Reduce target QPS to improve latency.")  # LoadGen's words


def _early_stopping(name: str, values: np.ndarray, bound: float, p: float,
                    records: Records) -> tuple[tuple, dict]:
    over = int(np.count_nonzero(values > bound)) + len(records.errors)
    es = early_stopping.server(records.count, over, p)
    summary = {"percentile": p, "overlatency_queries": over, "queries": records.count,
               "queries_needed": es.needed, "met": es.met, "lines": es.lines()}
    if es.met:
        return (f"early_stopping_{name}", True, "", ""), summary
    return (f"early_stopping_{name}", False,
            f"{NAMES[name]} early stopping not met: {over} of {records.count} samples over the "
            f"{bound * 1e3:g} ms limit; {es.needed} queries would be needed.",
            f"Run at least {es.needed - records.count} more queries, or reduce target QPS."), summary


def _limit_checks(settings, records: Records, ttft: np.ndarray, tpot: np.ndarray) -> tuple[list, dict]:
    """p99 TTFT/TPOT within the limits, and early stopping on both (Server, Interactive); a
    failed sample counts as over both limits."""
    p, checks, es = settings.target_percentile, [], {}
    for name, values, bound in ((TTFT, ttft, settings.ttft_latency_s), (TPOT, tpot, settings.tpot_latency_s)):
        check, es[name] = _early_stopping(name, values, bound, p, records)
        checks += [_limit_check(name, values, bound, p), check]
    return checks, es


def _metric(settings, rates: dict, latencies: np.ndarray) -> dict:
    """The official headline of an LLM run (the submission checker's
    RESULT_FIELD_BENCHMARK_OVERWRITE): tokens/s for Offline and Server, the plain p90 latency
    for SingleStream (llama3.1-8b-edge)."""
    if settings.scenario == "offline":
        return {"name": "tokens per second", "value": rates["tokens_per_second"], "unit": "tokens/s"}
    if settings.is_server:
        return {"name": "completed tokens per second", "value": rates["tokens_per_second"],
                "unit": "tokens/s"}
    p = settings.target_percentile
    value = percentile(latencies, p) if len(latencies) else math.nan
    return {"name": f"p{p * 100:g} latency", "value": value, "unit": "s", "estimated": False}


def judge_tokens(settings, records: Records, latencies: np.ndarray, final_done_s: float) -> TokenOutcome:
    """The tokens block, the token checks and the official headline of a token run."""
    tokens = output_tokens(records)
    max_latency = float(latencies[-1]) if len(latencies) else 0.0
    mean = float(np.mean(latencies)) if len(latencies) else 0.0
    rates = throughput(settings, records, tokens, final_done_s, max_latency, mean)
    block: dict = {"output_tokens": tokens, **rates}
    checks: list = []
    if settings.scenario != "offline" and settings.samples_per_query == 1:
        ttft, tpot = sample_latencies(records)
        block["ttft_s"], block["tpot_s"] = latency_summary(ttft), latency_summary(tpot)
        done = ~np.isnan(records.completed_s)
        block["single_token_samples"] = int(np.count_nonzero(records.tokens[done] == 1))
        if settings.is_server:
            checks, block["early_stopping"] = _limit_checks(settings, records, ttft, tpot)
            block["limits"] = {"ttft_s": settings.ttft_latency_s, "tpot_s": settings.tpot_latency_s}
    elif settings.scenario == "multi-stream":
        block["note"] = "TTFT/TPOT are per sample; bench records one per query, so multi-stream has none"
    return TokenOutcome(block, checks, _metric(settings, rates, latencies))
