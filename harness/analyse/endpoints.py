"""MLPerf Endpoints results: `results/<system>/<benchmark>/<scenario>/performance/result_summary.json`
(mlcommons/endpoints, docs/metrics/report_design.md) instead of LoadGen logs.

The file holds the run's counters (`n_samples_issued/completed/failed`, `state`, `complete`),
rollups of `ttft`, `tpot` and `latency` in ns with `percentiles` keyed "99.0", ..., and the
derived `qps` and `tps`. The submission checker bench follows defines no official field for
these, so the row's metric is the file's own headline, tokens per second (`tps`), named as
such; TTFT/TPOT percentiles and samples/s (`qps`) come along. A run that did not complete, or
lost samples, is INVALID with the reason.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from harness.errors import NO_VALUE, config_error
from harness.analyse.model import Metric, Result, scenario_name

SUMMARY_JSON = "result_summary.json"
PERCENTILES = {"p50": "50.0", "p90": "90.0", "p95": "95.0", "p97": "97.0", "p99": "99.0", "p99.9": "99.9"}


def is_endpoints_dir(path: Path) -> bool:
    parts = path.parts
    return (len(parts) >= 5 and parts[-1] == "performance" and parts[-5] == "results"
            and (path / SUMMARY_JSON).is_file())


def find_endpoint_runs(root: Path) -> list[Path]:
    root = root.resolve()
    found = {p.parent for p in root.rglob(SUMMARY_JSON)} | ({root} if (root / SUMMARY_JSON).is_file() else set())
    return sorted(d for d in found if is_endpoints_dir(d))


def read_summary(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise config_error(str(path), "", NO_VALUE, f"cannot read an MLPerf Endpoints summary: {exc}") from None
    if not isinstance(data, dict):
        raise config_error(str(path), "", NO_VALUE, "expected a JSON object (MLPerf Endpoints result_summary.json)")
    return data


def problems(data: dict) -> list[str]:
    """Why the run is not a usable result (empty when it is)."""
    out = []
    if data.get("complete") is not True or data.get("state") != "complete":
        out.append(f"run not complete (state {data.get('state')!r})")
    failed = data.get("n_samples_failed")
    if failed:
        out.append(f"{failed} of {data.get('n_samples_issued')} samples failed")
    if not _usable(data.get("tps")):
        out.append(f"no usable tokens per second (tps = {data.get('tps')!r}: a finite number >= 0)")
    out += [f"{name} = {value!r}: not a finite number >= 0, not published"
            for name, value in _raw_figures(data) if not _usable(value) and value is not None]
    return out


def _usable(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def _raw_figures(data: dict) -> list[tuple[str, object]]:
    """(name in the file, value) of every figure the summary holds."""
    found = [(key, data.get(key)) for key in ("tps", "qps")]
    for theirs in ("ttft", "tpot", "latency"):
        block = data.get(theirs)
        percentiles = block.get("percentiles") if isinstance(block, dict) else None
        if isinstance(percentiles, dict):
            found += [(f"{theirs}.percentiles.{label}", percentiles.get(label)) for label in PERCENTILES.values()]
    return found


def _figures(data: dict) -> dict[str, float]:
    out = {}
    for ours, theirs in (("ttft_s", "ttft"), ("tpot_s", "tpot"), ("latency_s", "latency")):
        block = data.get(theirs)
        percentiles = block.get("percentiles") if isinstance(block, dict) else None
        percentiles = percentiles if isinstance(percentiles, dict) else {}
        for key, label in PERCENTILES.items():
            if _usable(percentiles.get(label)):
                out[f"{ours}.{key}"] = percentiles[label] / 1e9
    for key in ("tps", "qps"):
        if _usable(data.get(key)):
            out[{"tps": "tokens_per_second", "qps": "samples_per_second"}[key]] = float(data[key])
    return out


def load_endpoint_run(run: Path) -> Result:
    data = read_summary(run / SUMMARY_JSON)
    scenario_dir = run.parent
    scenario = scenario_name(scenario_dir.name)
    if scenario is None:
        raise config_error(str(run), "scenario folder", scenario_dir.name, "unknown scenario")
    why = problems(data)
    figures = _figures(data)
    metric = Metric("tokens per second (MLPerf Endpoints tps)", figures.get("tokens_per_second"), "tokens/s")
    figures["metric.value"] = metric.value
    return Result(source="mlperf", path=run, system=scenario_dir.parent.parent.name,
                  workload=scenario_dir.parent.name, scenario=scenario, metric=metric, valid=not why,
                  invalid_reasons=tuple(why), figures={k: v for k, v in figures.items() if v is not None},
                  submitter=scenario_dir.parents[3].name, division=scenario_dir.parents[4].name)
