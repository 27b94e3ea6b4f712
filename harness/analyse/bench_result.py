"""Our own result directories into `Result` rows, through the typed record
(harness.record.schema: strict about what must be there, every problem named by file, key,
value and rule, all reported together; tolerant of keys added by later versions)."""

from __future__ import annotations

from pathlib import Path

from harness.record import schema as rr
from harness.record.build import check_queries
from harness.analyse.model import Accelerators, Energy, Metric, Result

RESULT_FILE = rr.RESULT_FILE


def load_result_dir(directory: Path) -> Result:
    record = rr.load(directory)
    if (directory / "queries.parquet").is_file():
        check_queries(directory / "queries.parquet")
    return result_from_record(record, directory)


def result_from_record(record: rr.RunRecord, directory: Path) -> Result:
    return Result(
        source="bench", path=directory, system=record.sut.name,
        workload=record.workload.name, scenario=record.scenario,
        metric=Metric(record.metric.name, None if record.metric.value is None else float(record.metric.value),
                      record.metric.unit),
        valid=record.valid, invalid_reasons=record.invalid_reasons,
        figures=figures(record), settings=_settings(record.settings),
        time_mode=record.time_mode, seed=record.seed,
        fingerprints=dict(record.fingerprints or {}),
        environment=rr.dump(record.environment) if record.environment else None,
        accelerators=_accelerators(record), energy=_energy(record.energy, record.time_mode),
        samples_per_query=_samples_per_query(record))


def figures(record: rr.RunRecord) -> dict[str, float]:
    """Every number under its dotted name; a token run's figures also under the gate's names
    (`tokens_per_second`, `ttft_s.p99`, `tpot_s.p99`, ...), as MLPerf logs give them."""
    out = rr.figures(record)
    for key, value in list(out.items()):
        if key.startswith("tokens.") and key.split(".")[1] in ("tokens_per_second", "ttft_s", "tpot_s"):
            out[key[len("tokens."):]] = value
    return out


def _settings(settings: rr.RunSettings) -> dict:
    """The settings block (the row model's plain dict, as MLPerf logs give it), with a token
    run's limits under the names MLPerf logs give them."""
    out = rr.dump(settings)
    effective = settings.effective
    for key in ("ttft_latency_ns", "tpot_latency_ns"):
        value = getattr(effective, key) if effective else None
        if value is not None:
            out[key] = value
    return out


def _accelerators(record: rr.RunRecord) -> Accelerators | None:
    given = record.accelerators
    if given is not None:
        return Accelerators(given.count if rr.is_int(given.count) else None, given.model)
    if record.sut.adapter == "accelerator":
        return Accelerators(1, record.sut.name)
    return None


def _energy(energy: rr.Energy | None, time_mode: str) -> Energy | None:
    if energy is None or (energy.joules_per_sample is None and energy.average_power_w is None):
        return None
    return Energy(energy.joules_per_sample, energy.average_power_w,
                  "model" if time_mode == "virtual" else "measured")


def _samples_per_query(record: rr.RunRecord) -> int:
    if record.scenario != "multi-stream":
        return 1
    value = record.settings.multi_stream_samples_per_query
    return value if value is not None and value > 0 else 8
