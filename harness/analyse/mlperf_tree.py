"""Read MLPerf submission trees into `Result` rows.

A run lives in `<org>/results/<system>/<benchmark>/<scenario>/performance/run_1/` with
`mlperf_log_summary.txt` and/or `mlperf_log_detail.txt` (and `spl.txt` for power); the system
is described by `<org>/systems/<system>.json`. The official metric follows the submission
checker: the detail log's keys where present, else the summary's equivalent lines.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import NO_VALUE, config_error
from harness.analyse import closed_rules as cr
from harness.analyse import mlperf_figures as figs
from harness.analyse.inferred import inferred_metric
from harness.record.mlperf_log_read import (Detail, Summary, parse_detail, parse_summary,
                                         parse_spl_time, power_in_window)
from harness.analyse.model import Accelerators, Energy, Result, scenario_name

SUMMARY_FILE = "mlperf_log_summary.txt"
DETAIL_FILE = "mlperf_log_detail.txt"
SPL_FILE = "spl.txt"
LOG_FILES = (SUMMARY_FILE, DETAIL_FILE)


def is_run_dir(path: Path) -> bool:
    parts = path.parts
    return (len(parts) >= 6 and parts[-1] == "run_1" and parts[-2] == "performance"
            and parts[-6] == "results")


def find_runs(root: Path) -> list[Path]:
    """Every `results/<system>/<benchmark>/<scenario>/performance/run_1` at or below root."""
    root = root.resolve()
    found = {p.parent for name in LOG_FILES for p in root.rglob(name)}
    found |= {root} if any((root / n).is_file() for n in LOG_FILES) else set()
    return sorted(d for d in found if is_run_dir(d))


class RunDir:
    """The files and the path components of one run directory."""

    def __init__(self, run: Path):
        self.run = run
        self.scenario_dir = run.parent.parent
        self.benchmark = self.scenario_dir.parent.name
        self.system = self.scenario_dir.parent.parent.name
        self.org_dir = self.scenario_dir.parent.parent.parent.parent
        self.system_json = self.org_dir / "systems" / f"{self.system}.json"

    def file(self, name: str) -> Path | None:
        path = self.run / name
        return path if path.is_file() else None


def load_run(run: Path) -> Result:
    rd = RunDir(run)
    summary = parse_summary(rd.file(SUMMARY_FILE)) if rd.file(SUMMARY_FILE) else None
    detail = parse_detail(rd.file(DETAIL_FILE)) if rd.file(DETAIL_FILE) else None
    scenario = _scenario(rd, summary, detail)
    settings = figs.settings(scenario, summary, detail)
    metric = figs.official_metric(scenario, summary, detail, str(run), rd.benchmark,
                                  round_of_run(settings, detail))
    system = read_system_json(rd.system_json)
    samples_per_query = int(settings.get("samples_per_query", 1)) if scenario == "multi-stream" else 1
    figures = figs.figures(scenario, metric, summary, detail)
    scenario, metric = _as_filed(rd, scenario, metric, summary, detail)
    figures["metric.value"] = metric.value
    energy = _energy(rd, scenario, detail, figures, samples_per_query)
    figures.update(figs.energy_figures(energy))
    return Result(
        source="mlperf", path=run, system=rd.system, workload=rd.benchmark, scenario=scenario,
        metric=metric, valid=figs.validity(summary, detail),
        invalid_reasons=tuple(figs.invalid_reasons(summary, detail)), figures=figures,
        settings=settings, accelerators=_accelerators(system), energy=energy,
        submitter=_text(system.get("submitter")) or rd.org_dir.name,
        division=_text(system.get("division")) or rd.org_dir.parent.name,
        system_description=_text(system.get("system_name")),
        warnings=_count(summary, detail, "warnings"), errors=_count(summary, detail, "errors"),
        samples_per_query=samples_per_query)


def _as_filed(rd: RunDir, scenario: str, metric, summary: Summary | None,
              detail: Detail | None) -> tuple[str, object]:
    """A run filed in another scenario's folder whose result MLPerf infers (harness.analyse.
    inferred) is that folder's scenario, with the derived result."""
    folder = scenario_name(rd.scenario_dir.name)
    inferred = inferred_metric(folder, scenario, summary, detail) if folder != scenario else None
    return (folder, inferred) if inferred is not None else (scenario, metric)


def logged_scenario(rd: RunDir, summary: Summary | None, detail: Detail | None) -> str | None:
    """The scenario the logs name; a Server run in an `Interactive` folder is Interactive (LoadGen
    logs Interactive runs as Server)."""
    text = (summary.scenario if summary else None) or (detail.get("effective_scenario")
                                                        if detail else None)
    name = scenario_name(text or rd.scenario_dir.name)
    if name == "server" and scenario_name(rd.scenario_dir.name) == "interactive":
        return "interactive"
    return name


def round_of_run(settings: dict, detail: Detail | None) -> str | None:
    """The round a run was made for: from its seeds, else its LoadGen version."""
    return cr.round_of_seeds(settings) or (cr.round_of(detail.get("loadgen_version")) if detail else None)


def _scenario(rd: RunDir, summary: Summary | None, detail: Detail | None) -> str:
    name = logged_scenario(rd, summary, detail)
    if name is None:
        text = (summary.scenario if summary else None) or rd.scenario_dir.name
        raise config_error(str(rd.run), "Scenario", text,
                           "unknown scenario (SingleStream, MultiStream, Server, Offline, Interactive)")
    return name


def _count(summary: Summary | None, detail: Detail | None, what: str) -> int:
    if detail is not None:
        return getattr(detail, what)
    return getattr(summary, what) if summary is not None else 0


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


# ---------------------------------------------------------------- systems/<system>.json


def read_system_json(path: Path) -> dict:
    """The system description, or {} when the file is absent (check reports that)."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise config_error(str(path), "", NO_VALUE, f"malformed JSON: {exc}") from None
    if not isinstance(data, dict):
        raise config_error(str(path), "", NO_VALUE, "expected a JSON object")
    return data


def as_count(value: object) -> int | None:
    """'3', 3, '0' -> int; 'N/A', '', None, '2.5' -> None."""
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def _accelerators(system: dict) -> Accelerators | None:
    if not system:
        return None
    nodes = as_count(system.get("number_of_nodes")) or 1
    per_node = as_count(system.get("accelerators_per_node"))
    model = _text(system.get("accelerator_model_name"))
    procs = as_count(system.get("host_processors_per_node"))
    cores = as_count(system.get("host_processor_core_count"))
    return Accelerators(
        count=None if per_node is None else nodes * per_node,
        model=None if model in (None, "N/A", "n/a", "None") else model,
        nodes=nodes, host_cores=nodes * procs * cores if procs and cores else None)


# ---------------------------------------------------------------- power


def _energy(rd: RunDir, scenario: str, detail: Detail | None, figures: dict,
            samples_per_query: int) -> Energy | None:
    spl = rd.file(SPL_FILE)
    if spl is None or detail is None or detail.get("power_begin") is None:
        return None
    src = str(detail.path)
    begin = parse_spl_time(detail.get("power_begin"), src, "power_begin")
    end = parse_spl_time(detail.get("power_end"), src, "power_end")
    window = power_in_window(spl, begin, end)
    if window is None:
        return None
    if scenario in ("offline", "server", "interactive"):
        rate = figures.get("samples_per_second")
        return Energy(window.average_w / rate if rate else None, window.average_w, "spl.txt")
    queries = detail.get("result_query_count")
    if not queries:
        return None
    per_query = window.average_w * window.window_s / queries
    return Energy(per_query / samples_per_query, window.average_w, "spl.txt", per_query)
