"""The LLM benchmarks bench knows, read from the scenario files' `[benchmarks.<name>]` tables
(mlperf.conf's per-model lines, kept once in scenarios/): which use token latencies, and their
Server and Interactive TTFT/TPOT limits."""

from __future__ import annotations

import functools
import re
import tomllib

from harness import catalog


def family(benchmark: str) -> str:
    """'llama2-70b-99.9' -> 'llama2-70b'; 'llama2-70b-interactive-99' -> 'llama2-70b'."""
    name = re.sub(r"-99(\.9)?$", "", benchmark.strip().lower())
    return name.removesuffix("-interactive")


@functools.lru_cache(maxsize=8)
def benchmarks(scenario_file: str) -> dict:
    """The `[benchmarks]` tables of one scenario file."""
    with open(catalog.resolve("scenarios", scenario_file), "rb") as f:
        return tomllib.load(f).get("benchmarks", {})


def is_token_benchmark(benchmark: str) -> bool:
    name = family(benchmark)
    return any(benchmarks(f).get(name, {}).get("use_token_latencies")
               for f in ("offline", "server", "single-stream"))


def token_limits_ns(benchmark: str, scenario: str) -> tuple[int, int] | None:
    """(TTFT, TPOT) limits of a Server or Interactive LLM result, or None if it has none."""
    interactive = scenario == "interactive" or "-interactive" in benchmark.lower()
    table = benchmarks("interactive" if interactive else "server").get(family(benchmark), {})
    if not table.get("use_token_latencies"):
        return None
    return int(table["server_ttft_latency_ns"]), int(table["server_tpot_latency_ns"])


def names() -> list[str]:
    return sorted({n for f in ("offline", "server", "single-stream") for n, t in benchmarks(f).items()
                   if t.get("use_token_latencies")})
