"""result.json's schema (version 1), declared once: the typed record a run writes and every
reader reads (report, compare, gate, check, sweep).

`read(path)` checks a file against the schema and returns a `RunRecord` of frozen sections; a
missing or ill-typed key is one error naming the file and the key (all problems together),
and a schema version other than this bench's is refused. `to_json(record)` is what a run writes.
Optional sections (energy, tokens, accelerator, ...) are None when a run has none: a reader
says "not measured", never a zero. Keys a later version adds are kept in each section's
`extra` and written back unchanged (see harness.record.typed_json).

Free-form by design, kept as plain mappings: the SUT's configuration (each adapter describes
its own), the requested MLPerf settings, LoadGen's scenario-specific figures (`loadgen`), a
SUT's own statistics (`sut_stats`, `llm`) and the find-peak probes.

(Over 400 lines because it is the whole schema, declared: one short class per section.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.record import provenance
from harness.errors import NO_VALUE, config_error
from harness.measure.settings import SCENARIOS, SERVER_SCENARIOS
from harness.record.typed_json import Section, dump, is_int, is_number, opt, parse, spec  # noqa: F401 - dump, is_int re-exported

SCHEMA = 1
RESULT_FILE = "result.json"
PERCENTILES = ("p50", "p90", "p95", "p97", "p99", "p99.9")


def _rule(check, text: str):
    return (check, text)


_NAME = _rule(lambda v: isinstance(v, str) and v != "", "must be a non-empty string")
_COUNT = _rule(lambda v: is_int(v) and v >= 0, "must be an integer >= 0")
_AMOUNT = _rule(lambda v: is_number(v) and v >= 0, "must be a number >= 0")
_NUMBER_OR_NULL = _rule(lambda v: v is None or is_number(v), "must be a number or null")


# ---------------------------------------------------------------- identity


@dataclass(frozen=True)
class Sut(Section):
    name: str = spec(rule=_NAME)
    adapter: str = spec(rule=_NAME)
    source: str | None = opt()
    config: dict[str, Any] | None = opt()     # the adapter's own description of its config
    model: str | None = opt()     # a model the SUT serves itself (None: the workload's)

    def setting(self, dotted: str) -> Any:
        """A value of the SUT's configuration by dotted key (`compute.precision`), or None."""
        node: Any = self.config
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node


@dataclass(frozen=True)
class Workload(Section):
    name: str = spec(rule=_NAME)
    benchmark: str | None = opt()
    description: str | None = opt()
    source: str | None = opt()
    fingerprint: str | None = opt()
    role: str | None = opt()                  # "settings": the SUT serves its own model
    layers: int | None = opt()    # None: no layer graph behind the run
    macs: float | None = opt()
    params: float | None = opt()
    input_shape: tuple[Any, ...] | None = opt()
    accuracy: tuple[dict[str, Any], ...] | None = opt()   # declarations (harness.workloads.accuracy)
    precision: dict[str, str] | None = opt()  # per-layer precisions (harness.workloads.precision)


@dataclass(frozen=True)
class Effective(Section):
    """LoadGen's effective settings (`settings.effective`); older results have none."""
    scenario: str | None = opt()
    samples_per_query: int | None = opt()
    target_qps: float | None = opt()
    target_latency_ns: float | None = opt()
    target_latency_percentile: float | None = opt()
    target_duration_ms: float | None = opt()
    min_duration_ms: float | None = opt()
    max_duration_ms: float | None = opt()
    min_query_count: int | None = opt()
    max_query_count: int | None = opt()
    min_sample_count: int | None = opt()
    performance_sample_count: int | None = opt()
    ttft_latency_ns: float | None = opt()
    tpot_latency_ns: float | None = opt()
    qsl_rng_seed: int | None = opt()
    sample_index_rng_seed: int | None = opt()
    schedule_rng_seed: int | None = opt()


@dataclass(frozen=True)
class RunSettings(Section):
    """The requested MLPerf settings (flat: scenario file, system file, flags; those readers
    use are typed, the rest in `extra`) and the effective ones LoadGen derived."""
    multi_stream_samples_per_query: int | None = opt()
    effective: Effective | None = opt()

    @property
    def requested(self) -> dict[str, Any]:
        return {k: v for k, v in dump(self).items() if k != "effective"}

    @property
    def bound_s(self) -> float | None:
        ns = self.effective.target_latency_ns if self.effective else None
        return ns / 1e9 if ns else None


# ---------------------------------------------------------------- outcome


@dataclass(frozen=True)
class Check(Section):
    name: str
    met: bool
    reason: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Metric(Section):
    name: str = spec(rule=_NAME)
    value: float | None = spec(rule=_rule(lambda v: v is None or is_number(v),
                                          "must be a finite number or null"))
    unit: str = spec(rule=_NAME)
    estimated: bool | None = opt()            # an early-stopping estimate


def _stat(key: str | None = None):
    return spec(key=key, rule=_NUMBER_OR_NULL)


@dataclass(frozen=True)
class Latency(Section):
    """Seconds; None where nothing completed."""
    min: float | None = _stat()
    mean: float | None = _stat()
    p50: float | None = _stat()
    p90: float | None = _stat()
    p95: float | None = _stat()
    p97: float | None = _stat()
    p99: float | None = _stat()
    p99_9: float | None = _stat("p99.9")
    max: float | None = _stat()

    def at(self, key: str) -> float | None:
        """A statistic by its result.json name ("p99.9", "max", ...)."""
        return getattr(self, key.replace(".", "_"))


@dataclass(frozen=True)
class TokenLatency(Section):
    """TTFT or TPOT statistics (seconds): the keys of harness.judge.stats.latency_summary."""
    min: float | None = opt()
    mean: float | None = opt()
    p50: float | None = opt()
    p90: float | None = opt()
    p95: float | None = opt()
    p97: float | None = opt()
    p99: float | None = opt()
    p99_9: float | None = opt(key="p99.9")
    max: float | None = opt()


@dataclass(frozen=True)
class EarlyStopping(Section):
    """LoadGen's early-stopping outcome: an estimate (single/multi-stream) or an over-bound
    count (server, and each of TTFT/TPOT in a token run)."""
    met: bool | None = opt()
    lines: tuple[str, ...] | None = opt()
    percentile: float | None = opt()
    queries: int | None = opt()
    queries_needed: int | None = opt()
    discarded: int | None = opt()
    estimate_s: float | None = opt()
    p99_estimate_s: float | None = opt()
    overlatency_queries: int | None = opt()



@dataclass(frozen=True)
class TokenLimits(Section):
    ttft_s: float | None = opt()
    tpot_s: float | None = opt()


@dataclass(frozen=True)
class Tokens(Section):
    """A token run's figures (harness.judge.tokens)."""
    output_tokens: int | None = opt()
    tokens_per_second: float | None = opt()
    token_throughput: float | None = opt()                        # LoadGen's TPS w/o overhead
    token_throughput_with_loadgen_overhead: float | None = opt()
    completed_tokens_per_second: float | None = opt()             # server: LoadGen 6.0's rate
    ttft_s: TokenLatency | None = opt()
    tpot_s: TokenLatency | None = opt()
    early_stopping: dict[str, EarlyStopping] | None = opt()   # "ttft", "tpot"
    limits: TokenLimits | None = opt()
    joules_per_token: float | None = opt()


# ---------------------------------------------------------------- energy and the accelerator


@dataclass(frozen=True)
class StaticByState(Section):
    always_on_j: float | None = opt()
    engines_busy_j: float | None = opt()
    engines_idle_j: float | None = opt()
    wakeup_j: float | None = opt()
    wakeups: int | None = opt()
    gated_s: float | None = opt()


@dataclass(frozen=True)
class Energy(Section):
    """A SUT's power model over the run (None in the record: the SUT has none)."""
    joules_per_sample: float | None = opt(rule=_rule(lambda v: v is None or is_number(v), "must be a number"))
    average_power_w: float | None = opt(rule=_rule(lambda v: v is None or is_number(v), "must be a number"))
    peak_power_w: float | None = opt()
    total_j: float | None = opt()
    breakdown_j: dict[str, float] | None = opt()
    static_by_state: StaticByState | None = opt()
    tops_per_w: float | None = opt()
    joules_per_token: float | None = opt()


@dataclass(frozen=True)
class Layer(Section):
    """One row of the per-layer profile (harness.accel.profile; more keys in `extra`)."""
    name: str | None = opt()
    macs: float | None = opt()
    compute_cycles: float | None = opt()
    dram_bytes: float | None = opt()
    time_s: float | None = opt()
    bound: str | None = opt()
    utilization: float | None = opt()
    energy_j: float | None = opt()


@dataclass(frozen=True)
class RealtimeMaster(Section):
    """A realtime bus master's outcome (harness.accel.realtime.Outcome)."""
    name: str
    direction: str
    requested_bytes_per_s: float
    delivered_bytes_per_s: float
    fifo_bytes: float
    busy_engines: int
    worst_wait_s: float
    margin_bytes: float | None
    margin_s: float | None
    deadline_miss: bool
    at_s: float | None


@dataclass(frozen=True)
class StarvingMaster(Section):
    name: str


@dataclass(frozen=True)
class TimelineView(Section):
    """DRAM traffic in bins from t_s[i] to the next edge (end_s last), bytes/s per series."""
    t_s: tuple[float, ...] | None = opt()
    end_s: float | None = opt()
    left_bytes_per_s: tuple[float, ...] | None = opt()
    npu_bytes_per_s: tuple[float, ...] | None = opt()
    masters: Any = None      # {name: series} in a view; [names] in the sidecar's reference


@dataclass(frozen=True)
class DramTimeline(TimelineView):
    """A zoom on a few master periods, the whole run (`run`), or the reference to the sidecar
    parquet the series live in (`file`; harness.record.series)."""
    usable_bytes_per_s: float | None = opt()
    run: TimelineView | None = opt()
    file: str | None = opt()
    run_end_s: float | None = opt()


@dataclass(frozen=True)
class Accelerator(Section):
    """The accelerator model's run-level figures."""
    batches: int | None = opt()
    batch_sizes: dict[str, int] | None = opt()
    utilization: float | None = opt()
    dram_bytes: float | None = opt()
    dram_average_bytes_per_s: float | None = opt()
    peak_macs_per_s: float | None = opt()
    dram_bytes_per_s: float | None = opt()
    engine_peak_macs_per_s: float | None = opt()
    engine_dram_bytes_per_s: float | None = opt()
    profile_batch: int | None = opt()
    layers: tuple[Layer, ...] = ()
    dram_timeline: DramTimeline | None = opt()
    starving_masters: tuple[StarvingMaster, ...] | None = opt()
    realtime_masters: tuple[RealtimeMaster, ...] = ()


@dataclass(frozen=True)
class Accelerators(Section):
    count: Any = None
    model: str | None = opt()


# ---------------------------------------------------------------- provenance and the record


@dataclass(frozen=True)
class Environment(Section):
    """Where the run was measured (harness.record.provenance)."""
    host: str | None = opt()
    cpu: str | None = opt()
    cpu_count: int | None = opt()
    os: str | None = opt()
    python: str | None = opt()
    packages: dict[str, str] | None = opt()

    def versions(self) -> dict[str, str]:
        return provenance.versions(dump(self))


@dataclass(frozen=True)
class IssueLag(Section):
    """Actual minus scheduled issue time (seconds)."""
    mean: float | None = opt()
    p50: float | None = opt()
    p99: float | None = opt()
    max: float | None = opt()


@dataclass(frozen=True)
class FindPeak(Section):
    peak_qps: float | None = opt()
    probes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class RunRecord(Section):
    """One run's result.json."""
    schema: int
    scenario: str = spec(rule=_rule(lambda v: v in SCENARIOS, f"must be one of {', '.join(SCENARIOS)}"))
    time_mode: str = spec(rule=_rule(lambda v: v in ("virtual", "real"), "must be 'virtual' or 'real'"))
    sut: Sut = spec()
    workload: Workload = spec()
    settings: RunSettings = spec()
    seed: int = spec()
    valid: bool = spec()
    invalid_reasons: tuple[str, ...] = spec(rule=_rule(
        lambda v: isinstance(v, list) and all(isinstance(r, str) for r in v), "must be a list of strings"))
    metric: Metric = spec()
    samples_per_second: float = spec(rule=_AMOUNT)
    query_count: int = spec(rule=_COUNT)
    sample_count: int = spec(rule=_COUNT)
    failed_queries: int = spec(rule=_COUNT)
    duration_s: float = spec(rule=_AMOUNT)
    latency_s: Latency = spec()
    early_stopping: EarlyStopping | None = spec()
    energy: Energy | None = spec()
    harness_version: str | None = opt()
    fingerprints: dict[str, str] | None = opt()
    checks: tuple[Check, ...] | None = opt()  # older results: invalid_reasons only
    tokens: Tokens | None = opt()
    loadgen: dict[str, float] | None = opt()  # scenario-specific LoadGen figures
    runtime_errors: tuple[str, ...] | None = opt()
    interrupted: bool | None = opt()
    created_utc: str | None = opt()
    environment: Environment | None = opt()
    accelerator: Accelerator | None = opt()
    accelerators: Accelerators | None = opt()
    llm: dict[str, Any] | None = opt()         # the LLM accelerator's serving summary
    sut_stats: dict[str, Any] | None = opt()   # a SUT's own counters
    issue_lag_s: IssueLag | None = opt()
    find_peak: FindPeak | None = opt()

    @property
    def bound_s(self) -> float | None:
        """The server latency bound (seconds); None elsewhere, and in a token run (judged on
        TTFT and TPOT instead)."""
        if self.scenario not in SERVER_SCENARIOS or self.tokens:
            return None
        return self.settings.bound_s

    def label(self) -> str:
        return f"{self.sut.name} · {self.workload.name} · {self.scenario}"


def to_dict(record: RunRecord) -> dict[str, Any]:
    """The record as result.json's object."""
    return dump(record)


def to_json(record: RunRecord) -> str:
    """result.json's text: valid JSON (never NaN), indented, newline-terminated."""
    return json.dumps(to_dict(record), indent=2, allow_nan=False) + "\n"


def from_dict(data: Any, source: str) -> RunRecord:
    """A result.json object as the typed record; refused (exit 2) naming `source` and the key."""
    if not isinstance(data, dict):
        raise config_error(source, "", NO_VALUE, "expected a JSON object")
    if data.get("schema") != SCHEMA:
        raise config_error(source, "schema", data.get("schema", NO_VALUE),
                           f"unsupported result schema (this bench reads schema {SCHEMA})")
    return parse(RunRecord, data, source)


def read_json(path: Path) -> Any:
    """A JSON file's content; unreadable or malformed is a one-line error naming the file."""
    label = str(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise config_error(label, "", NO_VALUE, "not found: not a bench result directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise config_error(label, "", NO_VALUE, f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise config_error(label, "", NO_VALUE, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise config_error(label, "", NO_VALUE, "malformed JSON: nested too deeply") from None


def read(path: Path) -> RunRecord:
    """result.json at `path` as the typed record (the one reader of result.json)."""
    return from_dict(read_json(path), str(path))


def load(run_dir: Path) -> RunRecord:
    """The record of a run directory."""
    return read(Path(run_dir) / RESULT_FILE)


def figures(record: RunRecord) -> dict[str, float]:
    """Every finite number of the record under its dotted result.json name (later versions'
    keys included), except identity, settings, seeds and provenance: what gate rules name."""
    skip = ("schema", "seed", "settings", "sut", "workload", "fingerprints", "environment")
    return _numbers({k: v for k, v in to_dict(record).items() if k not in skip})


def figure(record: RunRecord, key: str) -> float | None:
    """The number at the dotted result.json name `key` (`latency_s.p99`, `metric.value`);
    None where the record has none."""
    return _numbers(to_dict(record)).get(key)


def _numbers(data: Any, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_numbers(value, f"{prefix}{key}."))
    elif is_number(data):
        out[prefix[:-1]] = float(data)
    return out
