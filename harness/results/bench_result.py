"""Read our own result directories (`result.json`, schema 1) into `Result` rows.

Strict about what must be there (every problem named by file, key, value and rule, all reported
together); tolerant of keys added by later versions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.errors import NO_VALUE, ConfigError, Problem
from harness.result import check_queries, read_record
from harness.results.model import SCENARIOS, Accelerators, Energy, Metric, Result

RESULT_FILE = "result.json"
LATENCY_FIELDS = ("min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max")


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


# key -> (check, rule); nested keys use dots
REQUIRED: dict[str, tuple] = {
    "scenario": (lambda v: v in SCENARIOS, f"must be one of {', '.join(SCENARIOS)}"),
    "time_mode": (lambda v: v in ("virtual", "real"), "must be 'virtual' or 'real'"),
    "sut": (lambda v: isinstance(v, dict), "must be an object"),
    "sut.name": (_is_str, "must be a non-empty string"),
    "sut.adapter": (_is_str, "must be a non-empty string"),
    "workload": (lambda v: isinstance(v, dict), "must be an object"),
    "workload.name": (_is_str, "must be a non-empty string"),
    "settings": (lambda v: isinstance(v, dict), "must be an object"),
    "seed": (_is_int, "must be an integer"),
    "valid": (lambda v: isinstance(v, bool), "must be true or false"),
    "invalid_reasons": (lambda v: isinstance(v, list), "must be a list of strings"),
    "metric": (lambda v: isinstance(v, dict), "must be an object"),
    "metric.name": (_is_str, "must be a non-empty string"),
    "metric.value": (lambda v: v is None or is_number(v), "must be a finite number or null"),
    "metric.unit": (_is_str, "must be a non-empty string"),
    "samples_per_second": (lambda v: is_number(v) and v >= 0, "must be a number >= 0"),
    "query_count": (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0"),
    "sample_count": (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0"),
    "failed_queries": (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0"),
    "duration_s": (lambda v: is_number(v) and v >= 0, "must be a number >= 0"),
    "latency_s": (lambda v: isinstance(v, dict), "must be an object"),
    "early_stopping": (lambda v: v is None or isinstance(v, dict), "must be an object or null"),
    "energy": (lambda v: v is None or isinstance(v, dict), "must be an object or null"),
}
ENERGY_FIELDS = ("joules_per_sample", "average_power_w")
_MISSING = object()


def lookup(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def validate(data: dict, label: str) -> list[Problem]:
    """Every problem with a record `harness.result.read_record` returned; empty when usable."""
    problems = []
    for key, (check, rule) in REQUIRED.items():
        parent = key.rpartition(".")[0]
        if parent and not isinstance(lookup(data, parent), dict):
            continue   # the parent's problem is reported already
        value = lookup(data, key)
        if value is _MISSING:
            problems.append(Problem(label, key, NO_VALUE, f"missing ({rule.replace('must be', 'expected')})"))
        elif not check(value):
            problems.append(Problem(label, key, value, rule))
    return problems + _nested_problems(data, label)


def _nested_problems(data: dict, label: str) -> list[Problem]:
    problems = []
    latency = data.get("latency_s")
    if isinstance(latency, dict):
        for name in LATENCY_FIELDS:
            value = latency.get(name, _MISSING)
            if value is _MISSING:
                problems.append(Problem(label, f"latency_s.{name}", NO_VALUE, "missing"))
            elif value is not None and not is_number(value):
                problems.append(Problem(label, f"latency_s.{name}", value, "must be a number or null"))
    energy = data.get("energy")
    if isinstance(energy, dict):
        for name in ENERGY_FIELDS:
            value = energy.get(name, _MISSING)
            if value is not _MISSING and value is not None and not is_number(value):
                problems.append(Problem(label, f"energy.{name}", value, "must be a number"))
    return problems


def load_result_dir(directory: Path) -> Result:
    path = directory / RESULT_FILE
    data = read_record(path)
    problems = validate(data, str(path))
    if problems:
        raise ConfigError(problems)
    if (directory / "queries.parquet").is_file():
        check_queries(directory / "queries.parquet")
    return result_from_record(data, directory)


def result_from_record(data: dict, directory: Path) -> Result:
    return Result(
        source="bench", path=directory, system=data["sut"]["name"],
        workload=data["workload"]["name"], scenario=data["scenario"],
        metric=_metric(data["metric"]),
        valid=data["valid"], invalid_reasons=tuple(str(r) for r in data["invalid_reasons"]),
        figures=figures(data), settings=_settings(data),
        time_mode=data["time_mode"], seed=data["seed"],
        fingerprints=dict(data.get("fingerprints") or {}),
        environment=data.get("environment") if isinstance(data.get("environment"), dict) else None,
        accelerators=_accelerators(data), energy=_energy(data.get("energy"), data["time_mode"]),
        samples_per_query=_samples_per_query(data))


def figures(data: dict) -> dict[str, float]:
    """Every number under its dotted name; a token run's figures also under the gate's names
    (`tokens_per_second`, `ttft_s.p99`, `tpot_s.p99`, ...), as MLPerf logs give them."""
    out = flatten_numbers(data)
    for key, value in list(out.items()):
        if key.startswith("tokens.") and key.split(".")[1] in ("tokens_per_second", "ttft_s", "tpot_s"):
            out[key[len("tokens."):]] = value
    return out


def _settings(data: dict) -> dict:
    """The settings block, with a token run's limits under the names MLPerf logs give them."""
    settings = dict(data["settings"])
    effective = settings.get("effective") or {}
    for key in ("ttft_latency_ns", "tpot_latency_ns"):
        if key in effective:
            settings[key] = effective[key]
    return settings


def _metric(metric: dict) -> Metric:
    value = metric["value"]
    return Metric(metric["name"], None if value is None else float(value), metric["unit"])


def flatten_numbers(data: Any, prefix: str = "") -> dict[str, float]:
    """Every finite number in the record under its dotted name, except settings/config/seeds."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}{key}"
            if name in ("schema", "seed", "settings", "sut", "workload", "fingerprints", "environment"):
                continue
            out.update(flatten_numbers(value, name + "."))
    elif is_number(data):
        out[prefix[:-1]] = float(data)
    return out


def _accelerators(data: dict) -> Accelerators | None:
    given = data.get("accelerators")
    if isinstance(given, dict):
        count = given.get("count")
        return Accelerators(count if _is_int(count) else None, given.get("model"))
    if data["sut"]["adapter"] == "accelerator":
        return Accelerators(1, data["sut"]["name"])
    return None


def _energy(energy: Any, time_mode: str) -> Energy | None:
    if not isinstance(energy, dict):
        return None
    jps, watts = energy.get("joules_per_sample"), energy.get("average_power_w")
    if jps is None and watts is None:
        return None
    return Energy(jps, watts, "model" if time_mode == "virtual" else "measured")


def _samples_per_query(data: dict) -> int:
    if data["scenario"] != "multi-stream":
        return 1
    value = data["settings"].get("multi_stream_samples_per_query", 8)
    return value if _is_int(value) and value > 0 else 8
