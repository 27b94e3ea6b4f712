"""What MLCommons' submission checker makes of an LLM result, per round (tools/submission:
RESULT_FIELD_NEW, RESULT_FIELD_BENCHMARK_OVERWRITE, LLM_LATENCY_LIMITS).

- The official metric of a token benchmark is tokens/s: Offline `result_tokens_per_second`,
  Server and Interactive `result_completed_tokens_per_second` — except round 4.0, whose
  llama2-70b Server result was `result_completed_samples_per_sec`; gptj (4.1 on) reports
  inferred tokens/s; llama3.1-8b-edge SingleStream is the plain `result_90.00_percentile_latency_ns`.
- Other Server results: scheduled samples/s up to round 4.0, completed samples/s from 4.1.
- Server and Interactive LLM results must have p99 TTFT and p99 TPOT strictly below the
  benchmark's limits, whatever user.conf set. The limits are those of mlperf.conf, which bench
  keeps once, in scenarios/server.toml and scenarios/interactive.toml (harness.measure.llm_benchmarks).
"""

from __future__ import annotations

from harness.measure.llm_benchmarks import family, is_token_benchmark, token_limits_ns  # noqa: F401 - re-exported

# (detail key, summary key, name, unit) of an official figure
Field = tuple[str, str, str, str]
TOKENS = ("result_tokens_per_second", "Tokens per second", "tokens per second", "tokens/s")
COMPLETED_TOKENS = ("result_completed_tokens_per_second", "Completed tokens per second",
                    "completed tokens per second", "tokens/s")
COMPLETED = ("result_completed_samples_per_sec", "Completed samples per second",
             "completed samples per second", "samples/s")
SCHEDULED = ("result_scheduled_samples_per_sec", "Scheduled samples per second",
             "scheduled samples per second", "samples/s")
PLAIN_P90 = ("result_90.00_percentile_latency_ns", "90.00 percentile latency (ns)", "p90 latency", "ms")
INFERRED = {"offline": ("result_inferred_tokens_per_second", "", "inferred tokens per second", "tokens/s"),
            "server": ("result_inferred_completed_tokens_per_second", "",
                       "inferred completed tokens per second", "tokens/s")}
EARLY_ROUNDS = ("4.0",)   # Server official = scheduled samples/s; llama2-70b Server in samples/s


def official_fields(benchmark: str, scenario: str, round_: str | None) -> list[Field]:
    """The figures that make the official result, in order of preference."""
    early = round_ in EARLY_ROUNDS
    if family(benchmark) == "gptj" and scenario in ("offline", "server") and not early:
        return [INFERRED[scenario]]
    if is_token_benchmark(benchmark):
        if scenario == "offline":
            return [TOKENS]
        if scenario in ("server", "interactive"):
            return [COMPLETED] if early else [COMPLETED_TOKENS]
        if scenario == "single-stream":
            return [PLAIN_P90]
    if scenario in ("server", "interactive"):
        return [SCHEDULED, COMPLETED] if early else [COMPLETED, SCHEDULED]
    return []
