"""Judging a summary table: the Pareto front over the objectives and the best configuration under
the constraints. Both consider only points that finished (status ok) with every figure they need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.sweep.spec import Best, Constraint

BLOCK = 256


def _usable(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    ok = frame["status"] == "ok"
    for column in columns:
        ok &= frame[column].map(lambda v: v is not None and not (isinstance(v, float) and math.isnan(v)))
    return ok


def pareto_mask(frame: pd.DataFrame, objectives: tuple[tuple[str, str], ...]) -> pd.Series:
    """True for each point no other usable point dominates (at least as good in every objective,
    better in one). Ties are all on the front."""
    columns = [c for c, _ in objectives]
    usable = _usable(frame, columns).to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    if not columns or not usable.any():
        return pd.Series(mask, index=frame.index)
    signs = np.array([-1.0 if d == "max" else 1.0 for _, d in objectives])
    values = frame.loc[usable, columns].astype(float).to_numpy() * signs  # lower is better
    dominated = np.zeros(len(values), dtype=bool)
    for start in range(0, len(values), BLOCK):  # blocks of i keep memory at BLOCK x n x k
        i = values[start:start + BLOCK, None, :]
        dominated |= ((i <= values[None]).all(axis=2) & (i < values[None]).any(axis=2)).any(axis=0)
    mask[np.flatnonzero(usable)[~dominated]] = True
    return pd.Series(mask, index=frame.index)


def meets(frame: pd.DataFrame, constraint: Constraint) -> pd.Series:
    column = frame[constraint.column]
    if constraint.low is None and constraint.high is None:
        return column.map(lambda v: v == constraint.equals and v is not None)
    low = -math.inf if constraint.low is None else constraint.low
    high = math.inf if constraint.high is None else constraint.high
    return column.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and low <= v <= high)


@dataclass(frozen=True)
class Choice:
    index: int | None        # the best row's index label, or None when no point qualifies
    feasible: int            # points meeting every constraint
    considered: int          # points that finished with the objective's figure
    unknown_accuracy: int = 0  # finished points left out because the rule needs an accuracy they lack


def best(frame: pd.DataFrame, spec: Best) -> Choice:
    """The feasible point with the best objective; ties go to the earliest point of the sweep."""
    usable = _usable(frame, [spec.column])
    feasible = usable.copy()
    for constraint in spec.constraints:
        feasible &= meets(frame, constraint).astype(bool)
    candidates = frame[feasible]
    unknown = _unknown_accuracy(frame, spec)
    if candidates.empty:
        return Choice(None, 0, int(usable.sum()), unknown)
    values = candidates[spec.column].astype(float)
    target = values.max() if spec.direction == "max" else values.min()
    return Choice(int(values[values == target].index[0]), int(feasible.sum()), int(usable.sum()), unknown)


def _unknown_accuracy(frame: pd.DataFrame, spec: Best) -> int:
    """Finished points a rule on accuracy must leave out: their workload declares none for
    their precision and sparsity (bench never estimates accuracy)."""
    if "accuracy" not in {spec.column, *(c.column for c in spec.constraints)} or "accuracy" not in frame:
        return 0
    return int((~_usable(frame, ["accuracy"]) & (frame["status"] == "ok")).sum())


def unknown_note(choice: Choice) -> str | None:
    if not choice.unknown_accuracy:
        return None
    return (f"{choice.unknown_accuracy} finished point(s) left out: their workload declares no accuracy "
            "for their precision, sparsity and per-layer precisions (add an [[accuracy]] entry with its source)")


def describe(spec: Best) -> str:
    """The rule in words: 'highest samples_per_s with p99_s <= 0.015, valid = True'."""
    parts = [_bound(c) for c in spec.constraints]
    head = f"{'highest' if spec.direction == 'max' else 'lowest'} {spec.column}"
    return head + (" with " + ", ".join(parts) if parts else "")


def _bound(c: Constraint) -> str:
    if c.low is None and c.high is None:
        return f"{c.column} = {c.equals}"
    if c.low is not None and c.high is not None:
        return f"{c.low:g} <= {c.column} <= {c.high:g}"
    return f"{c.column} <= {c.high:g}" if c.high is not None else f"{c.column} >= {c.low:g}"
