"""Checks of a sweep against the files it names, before anything runs: every system, workload and
scenario exists, every system key is one its adapter reads, and every distinct override value
is valid on its own. Each distinct value is checked once, so a 1,000-point grid over ten values
costs ten loads. Problems that only a combination of values causes are left to the point, which
then fails with its error recorded.
"""

from __future__ import annotations

from typing import Any, Callable

from harness.errors import ConfigError, config_error
from harness.measure.settings import scenario_name
from harness.spec import Problems
from harness.sweep import params as P
from harness.sweep.inputs import locate, system_file, system_overrides
from harness.sweep.spec import Point, Sweep
from harness.measure.systems import load_system
from harness.workloads import load_workload


def check_inputs(sweep: Sweep) -> None:
    """Raise one ConfigError listing every problem found."""
    problems = Problems()
    seen: dict[tuple, bool] = {}
    for point in sweep.points:
        for key, probe in _probes(point, sweep):
            where = point.origins.get(key, key)
            value = point.params.get(key)
            if (where, repr(value)) not in seen:
                seen[where, repr(value)] = _record(problems, sweep.source, where, value, probe)
            if key == "system" and not seen[where, repr(value)]:
                break  # a system that cannot be read: its keys cannot be checked
    problems.raise_if_any()


def _probes(point: Point, sweep: Sweep) -> list[tuple[str, Callable[[], Any]]]:
    """(key, check) pairs for one point: each loads what one value of the point needs."""
    params, base = point.params, sweep.settings.base_dir
    system = locate(params["system"], base)
    out = [("system", lambda: _check_system(system, sweep.settings.mode))]
    if "workload" in params:
        out.append(("workload", lambda: load_workload(locate(params["workload"], base))))
    if "scenario" in params:
        out.append(("scenario", lambda: scenario_name(params["scenario"])))
    return out + _key_probes(params, system, base)


def _key_probes(params: dict[str, Any], system: str, base: str) -> list[tuple[str, Callable[[], Any]]]:
    out = []
    workload = locate(params.get("workload", "resnet50"), base)
    for key, value in params.items():
        if P.kind(key) == "sut":
            out.append((key, lambda k=key, v=value: load_system(system, {k: v})))
        elif P.kind(key) == "workload":
            out.append((key, lambda k=key, v=value: load_workload(workload, {k.partition(".")[2]: v})))
    edits = {k: v for k, v in params.items() if P.kind(k) == "master"}
    if edits:
        out.append((next(iter(edits)), lambda: _check_masters({"system": params["system"], **edits}, system, base)))
    return out


def _check_system(system: str, mode: str) -> None:
    _, label, raw = system_file(system)
    if mode == "profile" and raw.get("adapter") != "accelerator":
        raise config_error(label, "adapter", raw.get("adapter"),
                           'mode = "profile" needs an accelerator system (adapter = "accelerator")')
    load_system(system)


def _check_masters(params: dict[str, Any], system: str, base: str) -> None:
    overrides = system_overrides(params, base)
    load_system(system, {"memory.masters": overrides["memory.masters"]})


def _record(problems: Problems, source: str, where: str, value: Any, probe: Callable[[], Any]) -> bool:
    """Run one check; its problems are reported at `where` in the sweep file. True when fine."""
    try:
        probe()
    except ConfigError as exc:
        for p in exc.problems:
            problems.add(source, where, value, p.rule if p.value == value else str(p))
        return False
    return True

