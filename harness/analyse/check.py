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
from harness.analyse import closed_rules as cr
from harness.analyse.check_bench import check_bench_dir
from harness.analyse.loader import find
from harness.analyse import endpoints
from harness.analyse import llm_rules
from harness.analyse.endpoints import is_endpoints_dir
from harness.analyse.inferred import INFERABLE
from harness.analyse.mlperf_figures import (figures, invalid_reasons, official_metric,
                                            token_latencies, validity)
from harness.analyse.mlperf_figures import settings as mlperf_settings
from harness.record.mlperf_log_read import parse_detail, parse_summary
from harness.analyse.mlperf_tree import (DETAIL_FILE, SPL_FILE, SUMMARY_FILE, RunDir,
                                         logged_scenario, read_system_json, round_of_run)
from harness.analyse.model import scenario_name


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
        if is_endpoints_dir(run):
            report.problems += _at(run, endpoints.problems(endpoints.read_summary(run / endpoints.SUMMARY_JSON)))
        else:
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
    scenario = logged_scenario(rd, summary, detail) if (summary or detail) else None
    if scenario is None:
        return ["scenario unknown in the logs"]
    folder = scenario_name(rd.scenario_dir.name)
    if folder != scenario and (folder, scenario) not in INFERABLE:
        problems.append(f"folder {rd.scenario_dir.name} holds a {scenario} run")
    problems += _validity_problems(summary, detail) + _figure_problems(rd, scenario, summary, detail)
    settings = mlperf_settings(scenario, summary, detail)
    problems += cr.closed_settings_problems(rd.benchmark, scenario, settings, offline_samples=None)
    problems += token_limit_problems(rd.benchmark, scenario, summary, detail)
    hint = cr.round_of(detail.get("loadgen_version")) if detail else None
    seed_issue = cr.seed_problem(settings, hint)
    problems += [seed_issue] if seed_issue else []
    problems += _error_problems(summary, detail)
    if rd.file(SPL_FILE) and detail is not None and detail.get("power_begin") is None:
        problems.append("spl.txt present but the detail log has no power_begin/power_end window")
    return problems


def _figure_problems(rd: RunDir, scenario: str, summary, detail) -> list[str]:
    """The figures compare would publish, each a finite number >= 0 (else named, not shown)."""
    try:
        metric = official_metric(scenario, summary, detail, str(rd.run), rd.benchmark,
                                 round_of_run({}, detail))
        figures(scenario, metric, summary, detail)
    except ConfigError as exc:
        return exc.lines()
    return []


def token_limit_problems(benchmark: str, scenario: str, summary, detail) -> list[str]:
    """LLM Server/Interactive: p99 TTFT and p99 TPOT strictly below the benchmark's limits
    (the submission checker's LLM_LATENCY_LIMITS), whatever the run's own settings were."""
    limits = llm_rules.token_limits_ns(benchmark, scenario)
    if limits is None or scenario not in ("server", "interactive"):
        return []
    problems = []
    if detail is not None and detail.get("requested_use_token_latencies") is False:
        problems.append("requested_use_token_latencies is false: an LLM result needs token latencies")
    measured = token_latencies(summary, detail)
    for (key, label), limit in zip((("ttft_s.p99", "TTFT"), ("tpot_s.p99", "TPOT")), limits):
        value = measured.get(key)
        if value is None:
            problems.append(f"p99 {label} not logged: {scenario} {benchmark} must stay below {limit / 1e6:g} ms")
        elif round(value * 1e9) >= limit:
            problems.append(f"p99 {label} {value * 1e3:g} ms is not below the {scenario} limit of "
                            f"{limit / 1e6:g} ms for {benchmark}")
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
