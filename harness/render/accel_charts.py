"""The accelerator's charts, from the record's `energy` and `accelerator`: the energy
breakdown, DRAM traffic over the whole run and over a few frame periods (each master's, the
NPU's actual traffic, what the realtime masters leave, the usable bandwidth), and the per-layer
roofline."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from harness.render import fmt
from harness.render import svg
from harness.render.runs import Run
from harness.record.schema import Accelerator, DramTimeline, TimelineView

_GBPS = FuncFormatter(lambda v, _pos: f"{v / 1e9:g}")
_BOUND_COLORS = {"compute": "#1f77b4", "memory": "#d62728"}


def _parts(run: Run) -> dict[str, float]:
    energy = run.record.energy
    return (energy.breakdown_j if energy else None) or {}


def _draw_energy(fig: Figure, runs: Sequence[Run]) -> None:
    ax = fig.subplots()
    parts = sorted({k for r in runs for k in _parts(r)})
    drawn = [(i, r) for i, r in enumerate(runs) if _parts(r)]
    height, y = 0.8 / len(drawn), np.arange(len(parts))
    for slot, (i, run) in enumerate(drawn):
        breakdown = _parts(run)   # a part this run does not have: no bar (never a zero)
        ax.barh(y + slot * height, [breakdown[p] if p in breakdown else np.nan for p in parts], height=height,
                color=svg.color(i), label=run.label)
    ax.set_yticks(y + height * (len(drawn) - 1) / 2, parts)
    ax.invert_yaxis()
    ax.set_xlabel("energy over the run (J)")
    ax.grid(axis="y", visible=False)
    if len(runs) > 1:
        svg.legend(ax, 2)
    inches = fig.get_figheight()  # fixed room for the tick labels and the axis label
    fig.subplots_adjust(bottom=0.62 / inches, top=1 - (0.45 if len(runs) > 1 else 0.15) / inches)


def energy(runs: Sequence[Run]) -> Markup:
    bars = len({k for r in runs for k in _parts(r)}) * sum(1 for r in runs if _parts(r))
    return svg.render("energy", "Energy breakdown", lambda fig: _draw_energy(fig, runs),
                      size=(7.5, 1.4 + 0.22 * bars))


def _step(ax: Axes, view: TimelineView, series, scale: float, **style) -> None:
    """A step series of the timeline: value i holds from t_s[i] to the next edge (end_s last)."""
    values = np.asarray(series, dtype=float)
    edges = np.append(np.asarray(view.t_s, dtype=float), view.end_s) * scale
    ax.step(edges, np.append(values, values[-1]), where="post", **style)


def _draw_view(ax: Axes, view: TimelineView, usable: float | None, scale: float) -> None:
    for i, (name, rate) in enumerate((view.masters or {}).items()):
        _step(ax, view, rate, scale, color=svg.color(i + 1), lw=1, label=f"{name} (delivered)")
    _step(ax, view, view.left_bytes_per_s, scale, color="#888", lw=1, ls="--",
          label="left by the realtime masters")
    if view.npu_bytes_per_s is not None:
        _step(ax, view, view.npu_bytes_per_s, scale, color=svg.color(0), lw=1.6,
              label="NPU (actual traffic, all engines)")
    if usable:
        ax.axhline(usable, color="#222", ls=":", lw=1, label=f"usable DRAM {fmt.si(usable, 'B/s')}")
    ax.yaxis.set_major_formatter(_GBPS)
    ax.set_ylabel("GB/s")
    ax.set_ylim(bottom=0)


def _older(tl: DramTimeline) -> TimelineView:
    """An older result's zoom: no actual traffic recorded, the NPU series was what was left for
    it, and the last time was the end."""
    masters = {name: rate[:-1] for name, rate in (tl.masters or {}).items()}
    return TimelineView(t_s=tl.t_s[:-1], end_s=tl.t_s[-1], masters=masters,
                        left_bytes_per_s=tl.npu_bytes_per_s[:-1])


def _draw_dram(fig: Figure, accel: Accelerator) -> None:
    """The whole run in bins, then a zoom on a few master periods (older results: the zoom
    only, where the NPU series was the bandwidth left for it)."""
    tl = accel.dram_timeline
    usable = tl.usable_bytes_per_s or accel.dram_bytes_per_s
    zoom = tl if tl.left_bytes_per_s is not None else _older(tl)
    views = [(tl.run, "time (s): the whole run", 1.0)] if tl.run is not None else []
    views.append((zoom, "time (ms): a few master periods, exact averages per bin", 1e3))
    for i, (view, xlabel, scale) in enumerate(views):
        ax = fig.add_subplot(len(views), 1, i + 1)
        _draw_view(ax, view, usable, scale)
        ax.set_xlabel(xlabel)  # the panel's name, where no series can run over it
        if i == 0:
            svg.legend(ax, 3)
    fig.subplots_adjust(hspace=0.45, top=0.89)


def dram_timeline(run: Run) -> Markup:
    return svg.render("dram-timeline", "DRAM bandwidth timeline",
                      lambda fig: _draw_dram(fig, run.accelerator), size=(7.5, 5.2))


def _roof(ax: Axes, peak: float, bandwidth: float, xs: np.ndarray, style: str, c: str) -> None:
    lo, hi = float(xs.min()) / 4, float(xs.max()) * 4
    ridge = peak / bandwidth
    grid = np.geomspace(min(lo, ridge / 4), max(hi, ridge * 4), 64)
    ax.plot(grid, np.minimum(peak, grid * bandwidth), style, color=c, lw=1.2)


def _layer_points(accel: Accelerator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MAC per DRAM byte, achieved MAC/s, bound) of each layer with work and time."""
    rows = [r for r in accel.layers if r.macs and r.time_s and r.dram_bytes]
    macs = np.array([r.macs for r in rows], dtype=float)
    intensity = macs / np.array([r.dram_bytes for r in rows], dtype=float)
    achieved = macs / np.array([r.time_s for r in rows], dtype=float)
    return intensity, achieved, np.array([r.bound or "" for r in rows])


def roofs(accel: Accelerator) -> tuple[float | None, float | None]:
    """(peak MAC/s, DRAM bytes/s) of the unit the layer points describe: one engine alone on the
    chip, with the bandwidth the bus masters leave it on average (older results: the chip's)."""
    if accel.engine_peak_macs_per_s:
        return accel.engine_peak_macs_per_s, accel.engine_dram_bytes_per_s
    return accel.peak_macs_per_s, accel.dram_bytes_per_s


def has_roofline(run: Run) -> bool:
    accel = run.accelerator
    if accel is None:
        return False
    peak, bandwidth = roofs(accel)
    return bool(peak and bandwidth and len(_layer_points(accel)[0]))


def _layers(ax: Axes, run: Run, i: int, single: bool) -> None:
    x, y, bound = _layer_points(run.accelerator)
    if not single:
        ax.plot(x, y, "o", ms=4, alpha=0.8, color=svg.color(i), label=run.label)
        return
    for kind, c in _BOUND_COLORS.items():
        pick = bound == kind
        if pick.any():
            ax.plot(x[pick], y[pick], "o", ms=4, alpha=0.85, color=c, label=f"{kind}-bound layer")


def _draw_roofline(fig: Figure, runs: Sequence[Run]) -> None:
    ax = fig.subplots()
    single = len(runs) == 1
    for i, run in enumerate(runs):
        if not has_roofline(run):
            continue
        accel = run.accelerator
        peak, bandwidth = roofs(accel)
        _roof(ax, peak, bandwidth, _layer_points(accel)[0], "-" if single else "--",
              "#222" if single else svg.color(i))
        _layers(ax, run, i, single)
    ax.set_xscale("log")
    ax.set_yscale("log")
    svg.log_axis(ax.xaxis, lambda v: f"{v:g}")
    svg.log_axis(ax.yaxis, lambda v: fmt.si(v))
    ax.set_xlabel("arithmetic intensity (MAC per DRAM byte)")
    ax.set_ylabel("achieved MAC/s")
    svg.legend(ax, 3 if single else 2)


def roofline(runs: Sequence[Run]) -> Markup:
    return svg.render("roofline", "Roofline of the layers", lambda fig: _draw_roofline(fig, runs),
                      size=(7.5, 3.6))
