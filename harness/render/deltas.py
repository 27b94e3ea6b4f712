"""The multi-result page's table of deltas against the first result. Each figure knows which
direction is better, so a delta is marked better or worse, not just up or down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness import figures as registry
from harness.render import fmt
from harness.record.schema import RunRecord, figure
from harness.analyse.model import LATENCY_SCENARIOS

LATENCY_KEYS = ("p50", "p90", "p95", "p97", "p99", "p99.9", "max")


@dataclass(frozen=True)
class Figure:
    label: str
    value: Callable[[RunRecord], float | None]
    text: Callable[[float | None], str]
    higher_is_better: bool
    headline: bool = False      # compares only with results of the same headline metric


def _get(key: str) -> Callable[[RunRecord], float | None]:
    return lambda record: figure(record, key)


def _row(fig: registry.Figure) -> Figure:
    """A delta row for a registered figure: its label, unit and direction from the registry."""
    label = f"{fig.label} ({fig.unit})" if fig.unit and fig.unit not in ("s",) else fig.label
    return Figure(label, _get(fig.key), fig.text, fig.better == registry.HIGHER,
                  headline=fig.key == registry.HEADLINE)


def figures(first: RunRecord) -> list[Figure]:
    head = registry.headline(first.metric.name, first.metric.unit, first.scenario in LATENCY_SCENARIOS)
    head = Figure(f"headline: {head.label}", _get(registry.HEADLINE), head.text,
                  head.better == registry.HIGHER, headline=True)
    keys = ["samples_per_second", *(f"latency_s.{k}" for k in LATENCY_KEYS),
            "energy.joules_per_sample", "energy.average_power_w"]
    return [head] + [_row(registry.describe(k)) for k in keys]


def change(base: float | None, value: float | None) -> float | None:
    if base is None or value is None or base == 0:
        return None
    return (value - base) / abs(base)


def judgement(delta: float | None, higher_is_better: bool) -> str:
    if delta is None or abs(delta) < 5e-4:
        return "same"
    return "better" if (delta > 0) == higher_is_better else "worse"


def cell(fig: Figure, base: float | None, result: RunRecord, first: bool, like: bool = True) -> dict:
    value = fig.value(result)
    delta = None if first or not like else change(base, value)
    return {"value": fig.text(value), "delta": None if first else fmt.signed_percent(delta),
            "css": "" if first else judgement(delta, fig.higher_is_better)}


def same_metric(a: RunRecord, b: RunRecord) -> bool:
    """Headline metrics compare only when they are the same figure (same name and unit)."""
    return (a.metric.name, a.metric.unit) == (b.metric.name, b.metric.unit)


def rows(results: list[RunRecord]) -> list[dict]:
    """One row per figure present in any result; cells per result, deltas against the first."""
    out = []
    for fig in figures(results[0]):
        if all(fig.value(r) is None for r in results):
            continue
        base = fig.value(results[0])
        out.append({"label": fig.label, "cells": [
            cell(fig, base, r, i == 0, not fig.headline or same_metric(results[0], r))
            for i, r in enumerate(results)]})
    return out


def unlike(results: list[RunRecord]) -> list[str]:
    """Why the deltas may not be like for like (different scenario or workload)."""
    notes = []
    for key in ("scenario", "workload"):
        seen = {r.workload.name if key == "workload" else r.scenario for r in results}
        if len(seen) > 1:
            notes.append(f"The results are of different {key}s ({', '.join(sorted(seen))}): "
                         "their headline metrics are not comparable.")
    return notes
