"""`bench check` for our own result directories: files present and consistent, a VALID run,
and the closed-division rules MLPerf applies to submissions."""

from __future__ import annotations

from pathlib import Path

from harness.errors import BenchError, ConfigError
from harness.record.build import floats, records_problems
from harness.record.schema import RESULT_FILE, RunRecord, read
from harness.analyse import closed_rules as cr
from harness.analyse.bench_result import result_from_record
from harness.record.mlperf_log_read import parse_summary
from harness.analyse.mlperf_tree import SUMMARY_FILE
from harness.analyse.model import Result, scenario_name

QUERIES_FILE = "queries.parquet"
QUERY_COLUMNS = ("query_id", "scheduled_s", "issued_s", "completed_s", "samples")


def check_bench_dir(directory: Path) -> list[str]:
    problems = [f"{directory / name}: missing" for name in (QUERIES_FILE, SUMMARY_FILE)
                if not (directory / name).is_file()]
    try:
        record = read(directory / RESULT_FILE)
    except ConfigError as exc:
        return problems + exc.lines()
    result = result_from_record(record, directory)
    where = directory / RESULT_FILE
    problems += [f"{where}: {m}" for m in result_problems(result, record)]
    problems += queries_problems(directory / QUERIES_FILE, record)
    problems += summary_problems(directory / SUMMARY_FILE, result)
    return problems


def result_problems(r: Result, record: RunRecord) -> list[str]:
    problems = []
    if not r.valid:
        problems.append("result is INVALID" + (f": {'; '.join(r.invalid_reasons)}"
                                               if r.invalid_reasons else ""))
    problems += _duration_and_queries(r, record)
    problems += _early_stopping(r, record)
    if record.failed_queries:
        problems.append(f"failed_queries = {record.failed_queries}: a submission has none")
    offline = record.sample_count if r.scenario == "offline" else None
    settings = effective_view(r.settings)
    problems += cr.closed_settings_problems(r.workload, r.scenario, settings, offline)
    seed_issue = cr.seed_problem(settings)
    return problems + ([f"settings: {seed_issue}"] if seed_issue else [])


def effective_view(settings: dict) -> dict:
    """The requested settings overlaid with LoadGen's effective ones (settings.effective)."""
    merged = {k: v for k, v in settings.items() if k != "effective"}
    effective = settings.get("effective")
    if isinstance(effective, dict):
        merged.update({k: v for k, v in effective.items() if k != "min_query_count"})
    return merged


def _duration_and_queries(r: Result, record: RunRecord) -> list[str]:
    problems = []
    min_ms = r.settings.get("min_duration_ms")
    if isinstance(min_ms, (int, float)) and record.duration_s * 1000 < min_ms:
        problems.append(f"duration_s = {record.duration_s}: shorter than min_duration_ms = {min_ms}")
    min_queries = r.settings.get("min_query_count")
    count = record.sample_count if r.scenario == "offline" else record.query_count
    if isinstance(min_queries, int) and count < min_queries:
        what = "sample_count" if r.scenario == "offline" else "query_count"
        problems.append(f"{what} = {count}: fewer than min_query_count = {min_queries}")
    return problems


def _early_stopping(r: Result, record: RunRecord) -> list[str]:
    problems = []
    if record.early_stopping and record.early_stopping.met is False:
        problems.append("early stopping not met")
    need = cr.EARLY_STOPPING_MIN_QUERIES.get(r.scenario)
    if need is not None and record.query_count < need:
        problems.append(f"query_count = {record.query_count}: early stopping needs >= {need}")
    return problems


def queries_problems(path: Path, record: RunRecord) -> list[str]:
    if not path.is_file():
        return []
    try:
        import pyarrow.parquet as pq
        table = pq.read_table(path)
    except Exception as exc:   # pyarrow raises several unrelated types for a bad file
        return [f"{path}: unreadable parquet: {exc}"]
    missing = [c for c in QUERY_COLUMNS if c not in table.column_names]
    if missing:
        return [f"{path}: missing columns {', '.join(missing)}"]
    if table.num_rows != record.query_count:
        return [f"{path}: {table.num_rows} rows but result.json query_count = {record.query_count}"]
    columns = [floats(table, c) for c in ("scheduled_s", "issued_s", "completed_s", "samples")]
    return [f"{path}: impossible record: {p}" for p in records_problems(*columns)]


def summary_problems(path: Path, r: Result) -> list[str]:
    if not path.is_file():
        return []
    try:
        summary = parse_summary(path)
    except (ConfigError, BenchError) as exc:
        return exc.lines()
    problems = []
    if scenario_name(summary.scenario or "") != r.scenario:
        problems.append(f"{path}: Scenario {summary.scenario} but result.json says {r.scenario}")
    if summary.valid != r.valid:
        problems.append(f"{path}: Result is {summary.get('Result is')} but result.json valid = "
                        f"{str(r.valid).lower()}")
    return problems
