"""Test settings: requested (MLPerf TestSettings names) → effective, as LoadGen derives them.

Layers, lowest first: the scenario file's `[settings]`, its `[benchmarks.<benchmark>]` table
(mlperf.conf's per-model lines), the system file's `[settings]` and `[settings.<scenario>]`
(the system's user.conf), then the command line (`--duration`, `--min-queries`,
`--target-qps`, `--seed`, `--set KEY=VALUE`). Seeds not set explicitly are derived from the
run's master seed, one independent stream per name.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Any

from harness.errors import config_error
from harness.spec import Problems, Reader, within

SCENARIOS = ("single-stream", "multi-stream", "server", "offline", "interactive")
# Interactive is LoadGen's Server scenario under the benchmark's tighter TTFT/TPOT limits
# (its logs say "Scenario : Server"; submissions file it in an `Interactive` folder).
SERVER_SCENARIOS = ("server", "interactive")
MLPERF_NAMES = {"single-stream": "SingleStream", "multi-stream": "MultiStream",
                "server": "Server", "offline": "Offline", "interactive": "Server"}
FOLDER_NAMES = {**MLPERF_NAMES, "interactive": "Interactive"}
SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")


def parse_scenario(text: str) -> str | None:
    """Our spelling of a scenario from any MLPerf or bench spelling (SingleStream,
    single_stream, single-stream, ...), or None if it names none."""
    key = str(text).strip().lower().replace("_", "").replace("-", "").replace(" ", "")
    return next((name for name in SCENARIOS if name.replace("-", "") == key), None)


def scenario_name(text: str) -> str:
    """`parse_scenario`, as a user error for an unknown name."""
    name = parse_scenario(text)
    if name is None:
        raise config_error("--scenario", "", text, f"unknown scenario; known: {', '.join(SCENARIOS)}")
    return name


def _percentile(v: float) -> str | None:
    return None if 0 < v < 1 else "must be a fraction in (0, 1), e.g. 0.99"


def _count(v: int) -> str | None:
    return None if v >= 1 else "must be >= 1"


def _seed(v: int) -> str | None:
    return None if 0 <= v < 2**64 else "must be an integer in [0, 2^64)"


# Ranges checked before anything runs, so a run's memory and time are bounded up front.
MAX_DURATION_MS = 1e8          # ~28 hours
MAX_QPS = 1e8
MAX_QUERIES = 100_000_000      # queries (or offline samples) one run may plan: ~5 GB of records

# name -> (type, check). Every key a settings table may hold; anything else is rejected.
FIELDS: dict[str, tuple[type, Any]] = {
    "min_duration_ms": (float, within(1e-3, MAX_DURATION_MS, " ms")),
    "max_duration_ms": (float, within(0, MAX_DURATION_MS, " ms")),
    "min_query_count": (int, within(1, MAX_QUERIES)),
    "max_query_count": (int, within(0, MAX_QUERIES)),
    "single_stream_expected_latency_ns": (float, within(1e3, 1e12, " ns")),
    "single_stream_target_latency_percentile": (float, _percentile),
    "multi_stream_expected_latency_ns": (float, within(1e3, 1e12, " ns")),
    "multi_stream_target_latency_percentile": (float, _percentile),
    "multi_stream_samples_per_query": (int, within(1, 100_000)),
    "server_target_qps": (float, within(1e-3, MAX_QPS, " queries/s")),
    "server_target_latency_ns": (float, within(1e3, 1e13, " ns")),
    "server_target_latency_percentile": (float, _percentile),
    "server_find_peak_qps_decimals_of_precision": (int, lambda v: None if 0 <= v <= 6 else "must be in 0..6"),
    "server_find_peak_qps_boundary_step_size": (float, within(1e-6, MAX_QPS, " queries/s")),
    "offline_expected_qps": (float, within(1e-3, MAX_QPS, " samples/s")),
    "performance_sample_count_override": (int, within(0, 10_000_000)),
    "use_token_latencies": (bool, None),
    "server_ttft_latency_ns": (float, within(1e3, 1e13, " ns")),
    "server_tpot_latency_ns": (float, within(1e3, 1e13, " ns")),
    "run_grace_ms": (float, within(1, MAX_DURATION_MS, " ms")),   # bench's own (real time)
    "qsl_rng_seed": (int, _seed),
    "sample_index_rng_seed": (int, _seed),
    "schedule_rng_seed": (int, _seed),
}

DEFAULTS: dict[str, Any] = {  # LoadGen's TestSettings defaults, where no file sets a value
    "min_duration_ms": 10000.0, "max_duration_ms": 0.0, "min_query_count": 100,
    "max_query_count": 0, "single_stream_expected_latency_ns": 1e6,
    "single_stream_target_latency_percentile": 0.90, "multi_stream_expected_latency_ns": 8e6,
    "multi_stream_target_latency_percentile": 0.99, "multi_stream_samples_per_query": 8,
    "server_target_qps": 1.0, "server_target_latency_ns": 1e8,
    "server_target_latency_percentile": 0.99, "server_find_peak_qps_decimals_of_precision": 1,
    "server_find_peak_qps_boundary_step_size": 1.0, "offline_expected_qps": 1.0,
    "performance_sample_count_override": 0, "use_token_latencies": False,
    "server_ttft_latency_ns": 1e8, "server_tpot_latency_ns": 1e8, "run_grace_ms": 10000.0,
}


def read_settings(r: Reader) -> dict[str, Any]:
    """The recognised keys of one settings table, typed and checked; unknown keys flagged."""
    values = {key: r.get(key, kind, default=None, check=check)
              for key, (kind, check) in FIELDS.items() if r.has(key)}
    return {k: v for k, v in values.items() if v is not None}


def derive_seed(master: int, name: str) -> int:
    digest = hashlib.sha256(f"bench:{master}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass(frozen=True)
class Settings:
    """Effective test settings of one run (LoadGen's effective_* values)."""

    scenario: str
    samples_per_query: int
    target_qps: float
    target_latency_s: float          # server bound; 0 where unused
    target_percentile: float
    min_duration_s: float
    max_duration_s: float            # 0 = unbounded
    min_query_count: int
    max_query_count: int             # 0 = unbounded
    performance_sample_count: int
    qsl_rng_seed: int
    sample_index_rng_seed: int
    schedule_rng_seed: int
    find_peak_decimals: int = 1
    find_peak_step: float = 1.0
    use_token_latencies: bool = False  # TTFT/TPOT and tokens/s (LLM benchmarks)
    ttft_latency_s: float = 0.0      # server/interactive p99 TTFT bound; 0 where unused
    tpot_latency_s: float = 0.0      # server/interactive p99 TPOT bound; 0 where unused
    grace_s: float = 10.0            # real time: the run's deadline (see harness.measure.realtime)

    @property
    def is_server(self) -> bool:
        return self.scenario in SERVER_SCENARIOS

    @property
    def min_sample_count(self) -> int:
        return self.min_query_count * self.samples_per_query

    @property
    def target_duration_s(self) -> float:
        return 0.0 if self.scenario == "offline" else self.min_duration_s

    @classmethod
    def from_effective(cls, scenario: str, eff: dict[str, Any]) -> Settings:
        """Settings back from result.json's settings.effective (to judge a run again)."""
        return cls(scenario=scenario, samples_per_query=eff["samples_per_query"],
                   target_qps=eff["target_qps"], target_latency_s=eff["target_latency_ns"] / 1e9,
                   target_percentile=eff["target_latency_percentile"],
                   min_duration_s=eff["min_duration_ms"] / 1e3, max_duration_s=eff["max_duration_ms"] / 1e3,
                   min_query_count=eff["min_query_count"], max_query_count=eff["max_query_count"],
                   performance_sample_count=eff["performance_sample_count"],
                   use_token_latencies=bool(eff.get("use_token_latencies", False)),
                   ttft_latency_s=eff.get("ttft_latency_ns", 0) / 1e9,
                   tpot_latency_s=eff.get("tpot_latency_ns", 0) / 1e9,
                   **{key: eff[key] for key in SEED_KEYS})

    def with_target_qps(self, qps: float) -> Settings:
        fields = asdict(self)
        fields["target_qps"] = qps
        return Settings(**fields)


def effective(scenario: str, requested: dict[str, Any], master_seed: int) -> Settings:
    """LoadGen's requested → effective derivation (mlperf-loadgen.md §3.1)."""
    s = {**DEFAULTS, **requested}
    seeds = {key: s.get(key, derive_seed(master_seed, key)) for key in SEED_KEYS}
    min_duration_s = s["min_duration_ms"] / 1e3
    spq, qps, bound, pct = 1, 0.0, 0.0, 0.99
    min_queries = s["min_query_count"]
    if scenario == "single-stream":
        qps, pct = 1e9 / s["single_stream_expected_latency_ns"], s["single_stream_target_latency_percentile"]
    elif scenario == "multi-stream":
        qps, pct = 1e9 / s["multi_stream_expected_latency_ns"], s["multi_stream_target_latency_percentile"]
        spq = s["multi_stream_samples_per_query"]
    elif scenario in SERVER_SCENARIOS:
        qps, pct = s["server_target_qps"], s["server_target_latency_percentile"]
        bound = s["server_target_latency_ns"] / 1e9
    else:
        qps = s["offline_expected_qps"]
        spq = max(min_queries, math.floor(1.1 * min_duration_s * qps))
        min_queries = 1
    _check_planned(scenario, qps, min_duration_s, min_queries, spq)
    return Settings(
        scenario=scenario, samples_per_query=spq, target_qps=qps, target_latency_s=bound,
        target_percentile=pct, min_duration_s=min_duration_s,
        max_duration_s=s["max_duration_ms"] / 1e3, min_query_count=min_queries,
        max_query_count=s["max_query_count"],
        performance_sample_count=s["performance_sample_count_override"] or 1024,
        find_peak_decimals=s["server_find_peak_qps_decimals_of_precision"],
        find_peak_step=s["server_find_peak_qps_boundary_step_size"],
        grace_s=s["run_grace_ms"] / 1e3, **_token_limits(scenario, s), **seeds)


def _check_planned(scenario: str, qps: float, duration_s: float, queries: int, spq: int) -> None:
    """What the settings plan must fit in memory before anything is generated."""
    planned = spq if scenario == "offline" else max(queries, qps * duration_s) * spq
    if planned > MAX_QUERIES:
        raise config_error("settings", "", f"{planned:.3g} samples",
                           f"the {scenario} run these settings plan (target rate x min duration, "
                           f"min query count, samples per query) exceeds {MAX_QUERIES:,} samples: "
                           "lower the rate, the duration or the counts")


def _token_limits(scenario: str, s: dict[str, Any]) -> dict[str, Any]:
    """use_token_latencies and (server/interactive) the TTFT/TPOT bounds in seconds."""
    tokens = bool(s["use_token_latencies"])
    server = tokens and scenario in SERVER_SCENARIOS
    return {"use_token_latencies": tokens,
            "ttft_latency_s": s["server_ttft_latency_ns"] / 1e9 if server else 0.0,
            "tpot_latency_s": s["server_tpot_latency_ns"] / 1e9 if server else 0.0}


def mlperf_view(settings: Settings, requested: dict[str, Any]) -> dict[str, Any]:
    """The settings block of result.json: requested values and LoadGen's effective_* names."""
    eff = {
        "scenario": MLPERF_NAMES[settings.scenario],
        "samples_per_query": settings.samples_per_query,
        "target_qps": settings.target_qps,
        "target_latency_ns": round(settings.target_latency_s * 1e9),
        "target_latency_percentile": settings.target_percentile,
        "target_duration_ms": settings.target_duration_s * 1e3,
        "min_duration_ms": settings.min_duration_s * 1e3,
        "max_duration_ms": settings.max_duration_s * 1e3,
        "min_query_count": settings.min_query_count,
        "max_query_count": settings.max_query_count,
        "min_sample_count": settings.min_sample_count,
        "performance_sample_count": settings.performance_sample_count,
        **{key: getattr(settings, key) for key in SEED_KEYS},
    }
    if settings.use_token_latencies:
        eff.update(use_token_latencies=True, ttft_latency_ns=round(settings.ttft_latency_s * 1e9),
                   tpot_latency_ns=round(settings.tpot_latency_s * 1e9))
    view = {**DEFAULTS, **requested}
    view.update({key: getattr(settings, key) for key in SEED_KEYS})
    view["effective"] = eff
    return view


def validate_flat(values: dict[str, Any], source: str) -> dict[str, Any]:
    """Check a flat dict of settings (e.g. from --set) and return it typed."""
    problems = Problems()
    r = Reader(values, source, problems)
    out = read_settings(r)
    r.done()
    problems.raise_if_any()
    return out
