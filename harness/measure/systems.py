"""Loading a system file: identity, its adapter's own tables, and its test settings.

    name = "npu_v2"
    adapter = "accelerator"       # any name registered under the bench.adapters entry points
    [settings]                    # optional: the system's user.conf (MLPerf TestSettings names)
    server_target_qps = 900
    [settings.offline]            # optional: settings for one scenario only
    offline_expected_qps = 1200
    [settings.workload."llama3.1-8b"]           # optional: for one workload (its name, or its
    server_target_qps = 0.1                     # MLPerf benchmark) only, as user.conf's
    [settings.workload."llama3.1-8b".offline]   # <model>.<scenario>.<key> lines; the most
    offline_expected_qps = 2                    # specific wins (workload name over benchmark)
    ...                           # the adapter's tables
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import catalog
from harness.measure.settings import SCENARIOS, read_settings
from harness.spec import Problems, Reader, apply_overrides, read_toml
from harness.sut.base import SystemSpec, find_adapter
from harness.workloads import fingerprint


def _read_layer(table: Reader) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Flat settings and per-scenario tables of one [settings] level."""
    flat = read_settings(table)
    per_scenario = {}
    for scenario in SCENARIOS:
        if table.has(scenario):
            sub = table.table(scenario)
            per_scenario[scenario] = read_settings(sub)
            sub.done()
    return flat, per_scenario


def raw_system(path: Path, source: str) -> dict:
    """A system file's tables; an ONNX model file stands for the onnxruntime system that runs
    it with every default (`bench run --sut model.onnx`)."""
    if path.suffix.lower() == ".onnx":
        return {"name": path.stem, "adapter": "onnxruntime", "onnxruntime": {"model": str(path.resolve())}}
    return read_toml(path, source)


def _read_system_settings(r: Reader) -> tuple[dict, dict, dict]:
    table = r.table("settings")
    flat, per_scenario = _read_layer(table)
    benchmarks = table.table("workload")
    per_benchmark = {}
    for name in list(benchmarks.data):
        sub = benchmarks.table(name)
        per_benchmark[name] = _read_layer(sub)
        sub.done()
    benchmarks.done()
    table.done()
    return flat, per_scenario, per_benchmark


def load_system(name_or_path: str, overrides: dict[str, Any] | None = None) -> SystemSpec:
    """A system file, validated strictly; `overrides` are dotted --set keys for its tables."""
    path = catalog.resolve("systems", name_or_path)
    source = catalog.label(path)
    raw = raw_system(path, source)
    origins = apply_overrides(raw, overrides or {})
    problems = Problems()
    r = Reader(raw, source, problems, origins=origins)
    name = r.get("name", str, default=path.stem) or path.stem   # "": as if not given (a result names its SUT)
    adapter_name = r.get("adapter", str)
    problems.raise_if_any()
    adapter = find_adapter(adapter_name, source)
    flat, per_scenario, per_benchmark = _read_system_settings(r)
    r.ignore("description")
    config = adapter.load(r, path)
    r.done()
    problems.raise_if_any()
    return SystemSpec(name=name, adapter=adapter_name, source=source, fingerprint=fingerprint(path),
                      config=config, settings=flat, scenario_settings=per_scenario,
                      workload_settings=per_benchmark, path=path)


def system_tables(name_or_path: str) -> set[str]:
    """Top-level tables of a system file's adapter, used to route --set keys."""
    path = catalog.resolve("systems", name_or_path)
    raw = raw_system(path, catalog.label(path))
    tables = {key for key, value in raw.items() if isinstance(value, dict)}
    adapter = find_adapter(str(raw.get("adapter", "")), catalog.label(path))
    return tables | set(getattr(adapter, "tables", ())) | {"settings"}
