"""One run, end to end: load and check every input → settings → schedule → SUT → records →
judged result. Everything that can be wrong with the inputs is found in `prepare`, before
anything runs or is written.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness import catalog
from harness.measure import settings as settings_mod
from harness.measure.engine import Environment
from harness.errors import config_error
from harness.judge.verdict import Outcome, judge
from harness.measure.masters_edit import fold, is_master_key
from harness.measure.loadgen import LoadGen, Records
from harness.measure.realtime import issue_lag_summary
from harness.record.build import build, clean
from harness.record.schema import RunRecord, to_dict
from harness.measure.schedule import generate
from harness.measure.settings import (MAX_DURATION_MS, MAX_QPS, MAX_QUERIES, Settings, effective,
                              read_settings, scenario_name)
from harness.spec import Problems, Reader, parse_assignment, read_toml, within
from harness.sut.base import SystemSpec, find_adapter
from harness.measure.systems import load_system, raw_system, system_tables
from harness.workloads import Workload, fingerprint, load_workload


@dataclass(frozen=True)
class RunRequest:
    scenario: str
    sut: str
    workload: str = "resnet50"
    target_qps: float | None = None
    duration_s: float | None = None
    min_queries: int | None = None
    seed: int | None = None             # None: the seeds of the files (MLPerf's official ones)
    sets: tuple[str, ...] = ()          # raw --set KEY=VALUE strings
    allow_unmodeled: bool = False       # cost ONNX operators bench does not know as vector work


@dataclass(frozen=True)
class Prepared:
    scenario: str
    system: SystemSpec
    workload: Workload
    requested: dict[str, Any]
    settings: Settings
    seed: int
    scenario_source: str
    scenario_fingerprint: str
    adapter: Any = field(repr=False, default=None)

    def context(self, settings: Settings) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "time_mode": self.adapter.time_mode,
            "sut": {"name": self.system.name, "adapter": self.system.adapter,
                    "source": self.system.source, "config": self.adapter.describe(self.system.config),
                    "model": own_model(self.adapter, self.system.config)},
            "workload": workload_block(self.adapter, self.workload),
            "settings": settings_mod.mlperf_view(settings, self.requested),
            "seed": self.seed,
            "fingerprints": {"sut": self.system.fingerprint, "workload": self.workload.fingerprint,
                             "scenario": self.scenario_fingerprint},
        }


def own_model(adapter: Any, config: Any) -> str | None:
    """The model a SUT serves itself (an ONNX file, an HTTP model name); None when it is the
    workload's (the accelerator model) or the SUT does not say (a Python callable)."""
    model_of = getattr(adapter, "model_of", None)
    return model_of(config) if model_of else None


def workload_block(adapter: Any, workload: Workload) -> dict[str, Any]:
    """result.json's workload: the layer graph's figures where the SUT runs that graph (the
    accelerator model); otherwise the workload names only the MLPerf settings that apply."""
    block = workload.describe()
    if getattr(adapter, "uses_layers", False):
        return block
    return {**block, "role": "settings",
            "description": f"MLPerf {workload.benchmark} settings only: the SUT serves its own model",
            "layers": None, "macs": None, "params": None, "input_shape": None}


@dataclass
class RunOutput:
    record: RunRecord        # what result.json holds (harness.record.schema)
    records: Records
    outcome: Outcome

    @cached_property
    def result(self) -> dict:
        """The record as result.json's object, for the run's own printing (cli/run.py and
        peak.py read it; the CLI adds `find_peak` to it before writing it)."""
        return to_dict(self.record)


# ---------------------------------------------------------------- --set routing


def route_sets(sets: tuple[str, ...], sut: str) -> tuple[dict, dict, dict]:
    """Split --set assignments into (test settings, SUT keys, workload keys), the one router of
    bench run, bench profile and sweeps: masters.NAME.FIELD edits the system's bus masters."""
    test, system, workload = {}, {}, {}
    tables = None
    for text in sets:
        key, value = parse_assignment(text)
        head, _, rest = key.partition(".")
        if key in settings_mod.FIELDS:
            test[key] = value
        elif head in ("sut", "system") and rest:
            system[rest] = value
        elif head == "workload" and rest:
            workload[rest] = value
        elif is_master_key(key):
            system[key] = value
        else:
            tables = tables if tables is not None else system_tables(sut)
            if head not in tables or not rest:
                raise config_error("--set", key, value,
                                   "unknown key: use a test setting (e.g. server_target_qps), a SUT key "
                                   f"({', '.join(sorted(tables))}.*), masters.NAME.FIELD or workload.KEY")
            system[key] = value
    if any(is_master_key(k) for k in system):
        path = catalog.resolve("systems", sut)
        system = fold(system, raw_system(path, catalog.label(path)), "--set")
    return test, system, workload


FLAG_RANGES = {"--target-qps": within(1e-3, MAX_QPS, " queries/s"),
               "--duration": within(1e-6, MAX_DURATION_MS / 1e3, " s"),
               "--min-queries": within(1, MAX_QUERIES),
               "--seed": lambda v: None if 0 <= v < 2**64 else "must be an integer in [0, 2^64)"}


def _flag_settings(scenario: str, request: RunRequest) -> dict[str, Any]:
    """--target-qps, --duration, --min-queries as MLPerf settings, each checked."""
    problems, out = Problems(), {}
    flags = {"--target-qps": request.target_qps, "--duration": request.duration_s,
             "--min-queries": request.min_queries, "--seed": request.seed}
    for flag, value in flags.items():
        if value is None:
            continue
        rule = FLAG_RANGES[flag](value)
        if rule:
            problems.add(flag, "", value, rule)
    problems.raise_if_any()
    if request.duration_s is not None:
        out["min_duration_ms"] = request.duration_s * 1e3
    if request.min_queries is not None:
        out["min_query_count"] = request.min_queries
    if request.target_qps is not None:
        out.update(qps_settings(scenario, request.target_qps))
    return out


def qps_settings(scenario: str, qps: float) -> dict[str, Any]:
    """The MLPerf setting that a target QPS means in each scenario."""
    return {"server": {"server_target_qps": qps}, "interactive": {"server_target_qps": qps}, "offline": {"offline_expected_qps": qps},
            "single-stream": {"single_stream_expected_latency_ns": 1e9 / qps},
            "multi-stream": {"multi_stream_expected_latency_ns": 1e9 / qps}}[scenario]


def load_scenario(scenario: str, benchmark: str) -> tuple[dict[str, Any], str, str]:
    """Settings of the scenario file with its per-benchmark table applied; source; fingerprint."""
    path = catalog.resolve("scenarios", scenario)
    source = catalog.label(path)
    problems = Problems()
    r = Reader(read_toml(path, source), source, problems)
    r.get("scenario", str, default=scenario)
    base = r.table("settings")
    values = read_settings(base)
    base.done()
    benchmarks = r.table("benchmarks")
    if scenario == "interactive" and benchmark not in benchmarks.data:
        raise config_error("--scenario", "", "interactive",
                           f"benchmark {benchmark!r} has no Interactive TTFT/TPOT limits in {source}; "
                           f"known: {', '.join(sorted(benchmarks.data))}")
    for name in list(benchmarks.data):
        table = benchmarks.table(name)
        per = read_settings(table)
        table.done()
        if name == benchmark:
            values.update(per)
    r.done()
    problems.raise_if_any()
    return values, source, fingerprint(path)


def prepare(request: RunRequest) -> Prepared:
    scenario = scenario_name(request.scenario)
    test_sets, system_sets, workload_sets = route_sets(request.sets, request.sut)
    test_sets = settings_mod.validate_flat(test_sets, "--set")
    system = load_system(request.sut, system_sets)
    workload = load_workload(request.workload, workload_sets, allow_unmodeled=request.allow_unmodeled)
    requested, source, scenario_fp = load_scenario(scenario, workload.benchmark)
    requested.update(system.settings_for(scenario, (workload.benchmark, workload.name)))
    requested.update(_flag_settings(scenario, request))
    if request.seed is not None:  # an explicit --seed derives every stream from it
        for key in settings_mod.SEED_KEYS:
            requested.pop(key, None)
    requested.update(test_sets)
    adapter = find_adapter(system.adapter, system.source)
    if not workload.layers and system.adapter == "accelerator":
        raise config_error("--workload", "", request.workload,
                           "names a benchmark with no layer graph: the accelerator model needs a "
                           "workload file (a layer graph, SCALE-Sim CSV or ONNX model)")
    seed = request.seed if request.seed is not None else 0
    return Prepared(scenario, system, workload, requested, effective(scenario, requested, seed),
                    seed, source, scenario_fp, adapter)


def execute(prepared: Prepared, settings: Settings | None = None,
            watch: Callable[[LoadGen], AbstractContextManager] | None = None,
            compiled: bool = True) -> RunOutput:
    """Run once (at `settings`, default the prepared ones) and judge the records. `watch`, if
    given, is entered around the run with the load generator (e.g. a progress display that
    reads its counters from another thread); it cannot change what is measured. A simulated
    SUT runs compiled where it can (harness.sut.fast); `compiled=False` keeps the event loop,
    the reference, with the same records."""
    settings = settings or prepared.settings
    return described(Judged(settings, *_run(prepared, settings, watch, compiled)), prepared)


@dataclass
class Judged:
    """A run judged but not yet described: find-peak describes only the run it reports."""

    settings: Settings
    sut: Any
    records: Records
    outcome: Outcome = field(init=False)

    def __post_init__(self) -> None:
        self.outcome = judge(self.records, self.settings)


def judged(prepared: Prepared, settings: Settings) -> Judged:
    return Judged(settings, *_run(prepared, settings, None, True))


def described(run: Judged, prepared: Prepared) -> RunOutput:
    """result.json's content for a judged run (the SUT's own figures taken from it)."""
    extra = run.sut.finish(run.outcome.duration_s) or {}
    record = build(context=prepared.context(run.settings), outcome=run.outcome, records=run.records,
                   sut_extra=extra, issue_lag=clean(issue_lag_summary(run.records.issue_lag())))
    return RunOutput(record, run.records, run.outcome)


def records_only(prepared: Prepared, settings: Settings) -> Records:
    """One run's records, neither judged nor described (find-peak's short runs)."""
    return _run(prepared, settings, None, True)[1]


def _run(prepared: Prepared, settings: Settings,
         watch: Callable[[LoadGen], AbstractContextManager] | None, compiled: bool) -> tuple[Any, Records]:
    sut = prepared.adapter.build(prepared.system.config, prepared.workload,
                                 settings_mod.derive_seed(prepared.seed, "sut"))
    env = make_environment(prepared.adapter.time_mode)
    loadgen = LoadGen(env, sut, settings, generate(settings), compiled=compiled)
    with watch(loadgen) if watch else nullcontext():
        records = loadgen.run()
    return sut, records


def make_environment(time_mode: str) -> Environment:
    if time_mode == "virtual":
        return Environment()
    from harness.measure.realtime import RealTimeEnvironment  # real-time SUTs only
    return RealTimeEnvironment()
