"""Sweep files: strict loading into a frozen `Sweep` (the format is described in README.md).

    [sweep]        name, mode ("run" | "profile"), seed, duration_s, min_queries, report,
                   find_peak (run mode: each point a find-peak search)
    [fixed]        parameters every point shares
    [grid]         axes: key = [values]; the points are their cartesian product. An axis whose
                   values are tables sets several parameters together (e.g. rows and columns)
    [[points]]     explicit points, after the grid's (each merged over [fixed])
    [objectives]   maximize = [...], minimize = [...]: the axes of the Pareto front
    [best]         maximize = "COLUMN" or minimize = "COLUMN"; [best.constraints] COLUMN =
                   { min = X, max = Y } or COLUMN = value

Every problem is collected and reported together, each naming the file, the key path in it, the
value and the rule; a problem with a point names where its value came from (fixed.KEY,
grid.KEY[i], points[j].KEY).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import NO_VALUE
from harness.spec import Problems, Reader, one_of, positive, read_toml
from harness.sweep import params as P
from harness.sweep.figures import FIGURES

MODES = ("run", "profile")
MAX_POINTS = 100_000     # points one sweep may hold (each one is a run or a profile)
IDENTITY = ("system", "workload", "scenario")
DEFAULT_OBJECTIVES = (("p99_s", "min"), ("samples_per_s", "max"), ("energy_per_sample_j", "min"))


@dataclass(frozen=True)
class Point:
    params: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        """Stable from the parameters alone: readable values, then a hash of all of them."""
        canonical = json.dumps(self.params, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
        first = [Path(str(self.params[k])).stem for k in IDENTITY if k in self.params]
        rest = [v for k, v in sorted(self.params.items()) if k not in IDENTITY]
        words = [re.sub(r"[^A-Za-z0-9_.]+", "-", _word(v)).strip("-") for v in first + rest]
        return f"{'_'.join(words)[:48].rstrip('_-.')}-{digest}"


def _word(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}".replace("+", "")
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Constraint:
    column: str
    low: float | None = None
    high: float | None = None
    equals: Any = None


@dataclass(frozen=True)
class Best:
    column: str
    direction: str                   # "max" | "min"
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True)
class RunSettings:
    """What every point shares: the mode and the run settings."""

    mode: str
    seed: int | None = None
    duration_s: float | None = None
    min_queries: int | None = None
    report: bool = False
    find_peak: bool = False          # run mode: each point is a find-peak search (server scenarios)
    base_dir: str = "."              # relative system/workload paths are read from here


@dataclass(frozen=True)
class Sweep:
    name: str
    source: str
    settings: RunSettings
    points: tuple[Point, ...]
    objectives: tuple[tuple[str, str], ...] = DEFAULT_OBJECTIVES
    best: Best | None = None

    @property
    def parameter_keys(self) -> list[str]:
        return list(dict.fromkeys(k for p in self.points for k in p.params))


# ---------------------------------------------------------------- reading


def load_sweep(path: str | Path) -> Sweep:
    path = Path(path)
    label = str(path)
    problems = Problems()
    r = Reader(read_toml(path, label), label, problems)
    settings, name = _read_settings(r.table("sweep"), path)
    points = _read_points(r)
    keys = list(dict.fromkeys(k for p in points for k in p.params))
    objectives = _read_objectives(r.table("objectives"), keys)
    best = _read_best(r.table("best"), keys)
    r.done()
    if settings is not None:
        _check_points(points, settings, label, problems)
    problems.raise_if_any()
    return Sweep(name, label, settings, tuple(points), objectives, best)


def _read_settings(t: Reader, path: Path) -> tuple[RunSettings | None, str]:
    name = t.get("name", str, default=path.stem)
    t.ignore("description")
    values = dict(mode=t.get("mode", str, default="run", check=one_of(*MODES)),
                  seed=t.get("seed", int, default=None, check=lambda v: None if v >= 0 else "must be >= 0"),
                  duration_s=t.get("duration_s", float, default=None, check=positive),
                  min_queries=t.get("min_queries", int, default=None, check=lambda v: None if v >= 1 else "must be >= 1"),
                  report=t.get("report", bool, default=False),
                  find_peak=t.get("find_peak", bool, default=False))
    if values["mode"] == "profile":
        for key in ("duration_s", "min_queries", "find_peak"):
            if values[key] not in (None, False):
                t.problem(key, values[key], 'applies to mode = "run" only')
    t.done()
    return RunSettings(**values, base_dir=str(path.resolve().parent)), name


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys: {compute: {array_rows: 64}} -> {"compute.array_rows": 64}."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _read_points(r: Reader) -> list[Point]:
    fixed = flatten(r.table("fixed").data)
    base = {k: f"fixed.{k}" for k in fixed}
    grid = r.table("grid")
    axes = _read_axes(grid)
    listed = [flatten(t.data) for t in r.tables("points")]
    count = (math.prod(len(a) for a in axes) if axes else 0) + len(listed)
    if count > MAX_POINTS:   # before the product is built: memory stays bounded
        grid.problems.add(grid.where(""), "grid", f"{count:,} points", f"a sweep holds at most "
                          f"{MAX_POINTS:,} points: fewer values per axis, or several sweeps")
        return []
    points = [_combine(fixed, base, combo) for combo in itertools.product(*axes)] if axes else []
    for j, values in enumerate(listed):
        points.append(Point({**fixed, **values}, {**base, **{k: f"points[{j}].{k}" for k in values}}))
    return points or [Point(dict(fixed), base)]


def _read_axes(t: Reader) -> list[list[tuple[dict, dict]]]:
    """Each axis as its list of (parameters, origins) choices."""
    axes = []
    for key, values in flatten(t.data).items():
        if not isinstance(values, list) or not values:
            t.problem(key, values, "must be a non-empty array of values (a single value goes under [fixed])")
            continue
        linked = [isinstance(v, dict) for v in values]
        if any(linked) and not all(linked):
            t.problem(key, values, "mixes tables and plain values: use tables for every value or none")
            continue
        axes.append([(flatten(v), {k: f"grid.{key}[{i}].{k}" for k in flatten(v)}) if linked[0]
                     else ({key: v}, {key: f"grid.{key}[{i}]"}) for i, v in enumerate(values)])
    return axes


def _combine(fixed: dict, base: dict, combo: tuple[tuple[dict, dict], ...]) -> Point:
    values, origins = dict(fixed), dict(base)
    for choice, where in combo:
        values.update(choice)
        origins.update(where)
    return Point(values, origins)


def _check_points(points: list[Point], settings: RunSettings, label: str, problems: Problems) -> None:
    """Each distinct problem once (a grid repeats a bad value in many points)."""
    seen, names = set(), {}
    for point in points:
        for key, value, rule in P.point_rules(point.params, settings.mode, settings.find_peak):
            where = point.origins.get(key, f"fixed.{key}")
            if (where, rule) not in seen:
                seen.add((where, rule))
                problems.add(label, where, NO_VALUE if value is None else value, rule)
        if point.name in names:
            problems.add(label, "points", point.params, f"duplicates the point {names[point.name]}")
        names.setdefault(point.name, ", ".join(sorted(set(point.origins.values()))[:3]))


# ---------------------------------------------------------------- objectives and best


def _column_rule(keys: list[str]):
    def check(column: str) -> str | None:
        ok = column in FIGURES or column in keys
        return None if ok else f"unknown column; use one of {', '.join(FIGURES)} or a parameter"
    return check


def _read_objectives(t: Reader, keys: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for direction in ("maximize", "minimize"):
        for i, column in enumerate(t.get(direction, list, default=[])):
            rule = _column_rule(keys)(column) if isinstance(column, str) else "must be a string"
            if rule:
                t.problem(f"{direction}[{i}]", column, rule)
            else:
                out.append((column, direction[:3]))
    t.done()
    return tuple(out) or (DEFAULT_OBJECTIVES if not t.data else ())


def _read_best(t: Reader, keys: list[str]) -> Best | None:
    if not t.data:
        return None
    given = [d for d in ("maximize", "minimize") if t.has(d)]
    if len(given) != 1:
        t.problem("maximize", NO_VALUE, "give exactly one of maximize = \"COLUMN\" or minimize = \"COLUMN\"")
    column = t.get(given[0], str, check=_column_rule(keys)) if len(given) == 1 else None
    t.ignore("maximize", "minimize")
    constraints = _read_constraints(t.table("constraints"), keys)
    t.done()
    return Best(column, given[0][:3], constraints) if column else None


def _read_constraints(t: Reader, keys: list[str]) -> tuple[Constraint, ...]:
    out = []
    for column, value in _constraint_items(t.data):
        rule = _column_rule(keys)(column)
        if rule:
            t.problem(column, value, rule)
        else:
            out.append(_constraint(t, column, value))
    t.ignore(*t.data)
    return tuple(c for c in out if c is not None)


def _constraint_items(data: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """(column, bound) pairs; a dotted parameter column may be written unquoted."""
    out = []
    for key, value in data.items():
        if isinstance(value, dict) and value and not set(value) <= {"min", "max"}:
            out += _constraint_items(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _constraint(t: Reader, column: str, value: Any) -> Constraint | None:
    if not isinstance(value, dict):
        return Constraint(column, equals=value)
    bounds = {k: v for k, v in value.items() if k in ("min", "max")}
    bad = {k: v for k, v in bounds.items() if isinstance(v, bool) or not isinstance(v, (int, float))}
    if bad or not bounds:
        t.problem(column, value, "must be { min = X, max = Y } with numbers (either may be left out), or a value to equal")
        return None
    return Constraint(column, low=bounds.get("min"), high=bounds.get("max"))
