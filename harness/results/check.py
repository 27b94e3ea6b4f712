"""`bench check`: a submission checker for our result directories and MLPerf trees.

Every problem is listed (none stops the others from being found): required files, a VALID
run, minimum duration and queries, early stopping, the round's seeds, the closed-division
settings (min_duration >= 600 s, server latency bound, Offline sample minimum, performance
sample count), and the consistency of the files with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BenchError, ConfigError
from harness.results import closed_rules as cr
from harness.results.check_bench import check_bench_dir
from harness.results.loader import find
from harness.results.mlperf_figures import invalid_reasons, validity
from harness.results.mlperf_figures import settings as mlperf_settings
from harness.results.mlperf_logs import parse_detail, parse_summary
from harness.results.mlperf_tree import (DETAIL_FILE, SPL_FILE, SUMMARY_FILE, RunDir,
                                         read_system_json)
from harness.results.model import scenario_name


@dataclass
class CheckReport:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


def check_path(path: Path) -> CheckReport:
    ours, runs = find(Path(path))
    report = CheckReport()
    for directory in ours:
        report.checked.append(str(directory))
        report.problems += check_bench_dir(directory)
    systems_seen: set[Path] = set()
    for run in runs:
        report.checked.append(str(run))
        report.problems += check_mlperf_run(run, systems_seen)
    return report


def _at(where: Path, messages: list[str]) -> list[str]:
    return [f"{where}: {m}" for m in messages]


# ---------------------------------------------------------------- MLPerf runs


def check_mlperf_run(run: Path, systems_seen: set[Path]) -> list[str]:
    rd = RunDir(run)
    problems = []
    if rd.system_json not in systems_seen:
        systems_seen.add(rd.system_json)
        problems += _at(rd.system_json, system_problems(rd.system_json))
    try:
        summary = parse_summary(rd.file(SUMMARY_FILE)) if rd.file(SUMMARY_FILE) else None
        detail = parse_detail(rd.file(DETAIL_FILE)) if rd.file(DETAIL_FILE) else None
    except (ConfigError, BenchError) as exc:
        return problems + exc.lines()
    problems += _at(run, [f"{n} missing" for n, f in ((SUMMARY_FILE, summary), (DETAIL_FILE, detail))
                          if f is None])
    return problems + _at(run, run_problems(rd, summary, detail))


def system_problems(path: Path) -> list[str]:
    try:
        system = read_system_json(path)
    except ConfigError as exc:
        return [exc.lines()[0].split(": ", 1)[-1]]
    if not system:
        return ["system description missing"]
    problems = [f"{k}: missing" for k in cr.SYSTEM_FIELDS if system.get(k) in (None, "")]
    status = str(system.get("status", "")).strip().lower()
    if status and status not in cr.STATUSES:
        problems.append(f"status = {status!r}: must be one of {', '.join(cr.STATUSES)}")
    return problems


def run_problems(rd: RunDir, summary, detail) -> list[str]:
    problems = []
    scenario = scenario_name((summary.scenario if summary else None)
                             or (detail.get("effective_scenario") if detail else "") or "")
    if scenario is None:
        return ["scenario unknown in the logs"]
    if scenario_name(rd.scenario_dir.name) != scenario:
        problems.append(f"folder {rd.scenario_dir.name} holds a {scenario} run")
    problems += _validity_problems(summary, detail)
    settings = mlperf_settings(scenario, summary, detail)
    problems += cr.closed_settings_problems(rd.benchmark, scenario, settings, offline_samples=None)
    hint = cr.round_of(detail.get("loadgen_version")) if detail else None
    seed_issue = cr.seed_problem(settings, hint)
    problems += [seed_issue] if seed_issue else []
    problems += _error_problems(summary, detail)
    if rd.file(SPL_FILE) and detail is not None and detail.get("power_begin") is None:
        problems.append("spl.txt present but the detail log has no power_begin/power_end window")
    return problems


def _validity_problems(summary, detail) -> list[str]:
    if validity(summary, detail):
        return []
    reasons = invalid_reasons(summary, detail)
    return ["result is INVALID" + (f": {'; '.join(reasons)}" if reasons else "")]


def _error_problems(summary, detail) -> list[str]:
    if detail is not None and detail.errors:
        return [f"{detail.errors} LoadGen error(s): {'; '.join(detail.error_messages[:3])}"]
    if summary is not None and summary.errors:
        return [f"{summary.errors} LoadGen error(s) (see the detail log)"]
    return []
