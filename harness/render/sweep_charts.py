"""The sweep page's charts, inline SVG through harness.render.svg: each figure against each
parameter that varies, and latency against throughput with energy as colour, the Pareto front
ringed and the best configuration starred."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from harness import figures as registry
from harness.render import fmt
from harness.render import svg
from harness.sweep.figures import LABELS

PANELS = ("samples_per_s", "p99_s", "energy_per_sample_j", "power_w")
VALUE_TICKS = 8     # a numeric parameter with at most this many values is ticked at each ...
AXIS_CHARS = 56     # ... when each label fits its room: characters across a panel's x axis
SHORT_LABEL = 8     # between default ticks, labels longer than this drop an appended unit
MAX_PARAMETER_CHARTS = 16


def varying(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """Parameters with more than one value among the finished points."""
    ok = frame[frame["status"] == "ok"]
    return [k for k in keys if ok[k].dropna().astype(str).nunique() > 1][:MAX_PARAMETER_CHARTS]


def _value_axis(axis, key: str, order: np.ndarray) -> None:
    """A linear parameter axis read in the parameter's unit (8 MiB, 51.2 GB/s, 60 Hz): a tick
    at each value tried when there are few and their labels fit between them, else the default
    ticks; a unit merely appended to the number (1,000 queries/s) is dropped where it crowds."""
    room = AXIS_CHARS * (float(np.diff(order).min() / (order[-1] - order[0])) if len(order) > 1 else 1.0)
    for text in (lambda v: registry.by_name(key, v), lambda v: _short(key, v)):
        labels = [text(v) for v in order]
        if len(order) <= VALUE_TICKS and max(map(len, labels)) <= room:
            axis.set_ticks(order, labels, fontsize=7)
            return
    long = max(len(registry.by_name(key, v)) for v in order) > SHORT_LABEL
    text = (lambda v: _short(key, v)) if long else (lambda v: registry.by_name(key, v))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: text(v)))


def _short(key: str, value: float) -> str:
    """The value without a unit that only follows the plain number (not MiB, GB/s: scaled)."""
    text, plain = registry.by_name(key, value), fmt.number(value)
    return plain if text.startswith(plain + " ") else text


def _numeric(values: pd.Series) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.dropna())


def _positions(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """x of each point: the value itself, or the index of a category (labels returned)."""
    if _numeric(values):
        return values.astype(float).to_numpy(), None
    labels = list(dict.fromkeys(values.astype(str)))
    return values.astype(str).map(labels.index).to_numpy(dtype=float), labels


def _panel(ax, x: np.ndarray, y: pd.Series, labels: list[str] | None, key: str, figure: str) -> None:
    y = y.astype(float).to_numpy()
    ax.plot(x, y, "o", ms=3, alpha=0.45, color=svg.color(0))
    order = np.unique(x)
    medians = [np.nanmedian(y[x == v]) if np.isfinite(y[x == v]).any() else np.nan for v in order]
    ax.plot(order, medians, "-", lw=1.2, color="#222")
    if labels is not None:
        ax.set_xticks(range(len(labels)), [lab[:14] for lab in labels], rotation=20, fontsize=7)
    elif len(order) > 1 and order.min() > 0 and order.max() / order.min() >= 10:
        ax.set_xscale("log")
        svg.log_axis(ax.xaxis, fmt.number)
    else:
        _value_axis(ax.xaxis, key, order)
    if np.nanmin(y, initial=math.inf) > 0 and np.nanmax(y, initial=0) / np.nanmin(y, initial=math.inf) >= 20:
        ax.set_yscale("log")
        svg.log_axis(ax.yaxis, _tick_text(figure))
    else:   # linear: the figure's units on the ticks (14.75 ms, not 0.01475)
        text = _tick_text(figure)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: text(v) if v > 0 else "0"))
    ax.set_xlabel(key, fontsize=8)
    ax.set_ylabel(LABELS[figure], fontsize=8)


def _tick_text(column: str):
    """Ticks of a figure axis: seconds, joules and watts sized (ms, mJ); other units are in
    the axis label, so the ticks are plain numbers."""
    figure = registry.describe(column)
    return figure.text if figure.unit in ("s", "J", "W") else fmt.number


def parameter_chart(frame: pd.DataFrame, key: str) -> Markup:
    """The four headline figures against one parameter (points and their median)."""
    ok = frame[(frame["status"] == "ok") & frame[key].notna()]
    x, labels = _positions(ok[key])

    def draw(fig: Figure) -> None:
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.95, hspace=0.45, wspace=0.3)
        for ax, figure in zip(fig.subplots(2, 2).flat, PANELS):
            if ok[figure].notna().any():
                _panel(ax, x, ok[figure], labels, key, figure)

    return svg.render(f"param-{_slug(key)}", f"Figures against {key}", draw, size=(7.5, 5.0))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


def pareto_chart(frame: pd.DataFrame, front: pd.Series, best: int | None) -> Markup:
    ok = frame[(frame["status"] == "ok") & frame["samples_per_s"].notna() & frame["p99_s"].notna()]
    return svg.render("pareto", "Latency against throughput, Pareto front",
                      lambda fig: _draw_pareto(fig, ok, front.loc[ok.index], best), size=(7.5, 4.5))


def _draw_pareto(fig: Figure, ok: pd.DataFrame, front: pd.Series, best: int | None) -> None:
    ax = fig.subplots()
    energy = ok["energy_per_sample_j"].astype(float)
    colour = {"c": energy, "cmap": "viridis", "plotnonfinite": True} if energy.notna().any() else {}
    dots = ax.scatter(ok["samples_per_s"].astype(float), ok["p99_s"].astype(float), s=14,
                      alpha=0.8, label="points", **colour)
    if colour:
        fig.colorbar(dots, ax=ax, label="energy per sample (J)")
    _front(ax, ok[front])
    if best is not None and best in ok.index:
        ax.plot([ok.loc[best, "samples_per_s"]], [ok.loc[best, "p99_s"]], "*", ms=16, color="#d62728",
                markeredgecolor="#222", label="best under constraints")
    _log_axes(ax, ok)
    ax.set_xlabel("throughput (samples/s)")
    ax.set_ylabel("p99 latency (s)")
    svg.legend(ax, 3)


def _front(ax, front: pd.DataFrame) -> None:
    if front.empty:
        return
    ax.scatter(front["samples_per_s"].astype(float), front["p99_s"].astype(float), s=60,
               facecolors="none", edgecolors="#222", lw=1.0, label="Pareto front")


def _log_axes(ax, ok: pd.DataFrame) -> None:
    for axis, column, text in ((ax.xaxis, "samples_per_s", fmt.number), (ax.yaxis, "p99_s", fmt.seconds)):
        values = ok[column].astype(float)
        if len(values) and values.min() > 0 and values.max() / values.min() >= 10:
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
            svg.log_axis(axis, text)
        else:   # linear: the same units on the ticks (1.018 ms, not 0.001018)
            axis.set_major_formatter(FuncFormatter(lambda v, _pos, text=text: text(v) if v > 0 else "0"))
