"""The latency charts, drawn for one run or overlaid for several: CDF, latency across the run
and throughput across the run. Marked statistics (p90, p99, bound) come from result.json."""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from harness.render import fmt
from harness.render import svg
from harness.render.runs import Run

_TAIL_TICKS = (0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999)


def _bound(ax: Axes, runs: Sequence[Run], axis: str) -> None:
    """The server latency bound, once per distinct value."""
    for bound in sorted({r.bound_s for r in runs if r.bound_s}):
        line = ax.axvline if axis == "x" else ax.axhline
        line(bound, color="#c00", ls="--", lw=1, label=f"bound {fmt.seconds(bound)}")


def _mark_percentiles(ax: Axes, run: Run, i: int, single: bool) -> None:
    lat = run.record.latency_s
    for key, p in (("p90", 0.9), ("p99", 0.99)):
        value = lat.at(key)
        if not value:
            continue
        ax.plot([value], [p], "o", color=svg.color(i), ms=4)
        if single:
            ax.axvline(value, color="#555", ls=":", lw=0.8)
            ax.annotate(f"{key} {fmt.seconds(value)}", (value, p), xytext=(-5, 3), ha="right",
                        textcoords="offset points", fontsize=8)


def _tail_axis(ax: Axes, runs: Sequence[Run]) -> None:
    n = max(r.record.query_count for r in runs)
    top = max(0.999, 1 - 1 / max(n, 2))
    ax.set_yscale("logit", nonpositive="clip")
    ax.set_ylim(0.01, top)
    ax.set_yticks([t for t in _TAIL_TICKS if t <= top])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))


def _draw_cdf(fig: Figure, runs: Sequence[Run]) -> None:
    ax = fig.subplots()
    single = len(runs) == 1
    for i, run in enumerate(runs):
        style = "o-" if run.coarse_cdf else "-"
        ax.plot(run.cdf.x, run.cdf.y, style, color=svg.color(i), lw=1.4, ms=3,
                label=run.label + (" (from percentiles)" if run.coarse_cdf else ""))
        _mark_percentiles(ax, run, i, single)
    _bound(ax, runs, "x")
    ax.set_xscale("log")
    svg.widen_log(ax, "x")
    svg.log_axis(ax.xaxis, fmt.seconds)
    _tail_axis(ax, runs)
    ax.set_xlabel("latency (log scale)")
    ax.set_ylabel("fraction ≤ latency")
    svg.legend(ax, 4 if len(runs) == 1 else 2)


def latency_cdf(runs: Sequence[Run]) -> Markup:
    return svg.render("latency-cdf", "Latency CDF", lambda fig: _draw_cdf(fig, runs))


def _timeline_series(ax: Axes, run: Run, i: int, single: bool) -> None:
    t = run.timeline
    if single:
        ax.plot(t.sample.x, t.sample.y, ".", color="#999", ms=1.5, alpha=0.5, label="queries (sample)")
        ax.plot(t.mid_s, t.max_s, "-", color=svg.color(i), lw=1, label="max per bin")
        ax.plot(t.mid_s, t.mean_s, "-", color="#222", lw=1, label="mean per bin")
    else:
        ax.plot(t.mid_s, t.max_s, "-", color=svg.color(i), lw=1, label=run.label)
        ax.plot(t.mid_s, t.mean_s, "--", color=svg.color(i), lw=1)


def _draw_timeline(fig: Figure, runs: Sequence[Run]) -> None:
    ax = fig.subplots()
    for i, run in enumerate(runs):
        if run.timeline is not None:
            _timeline_series(ax, run, i, len(runs) == 1)
    _bound(ax, runs, "y")
    ax.set_yscale("log")
    _floor(ax, runs)
    svg.headroom(ax, log=True)
    svg.widen_log(ax, "y")
    svg.log_axis(ax.yaxis, fmt.seconds)
    ax.set_xlabel("scheduled time (s)")
    ax.set_ylabel("latency (log scale)")
    svg.legend(ax, 4 if len(runs) == 1 else 2)


def _floor(ax: Axes, runs: Sequence[Run]) -> None:
    """Keep the sparse fastest queries from stretching the log axis over idle decades."""
    means = [float(r.timeline.mean_s.min()) for r in runs
             if r.timeline is not None and len(r.timeline.mean_s)]
    low = min(means, default=0.0) / 30
    if low > 0:
        ax.set_ylim(bottom=low)


def latency_timeline(runs: Sequence[Run]) -> Markup:
    return svg.render("latency-timeline", "Latency across the run",
                      lambda fig: _draw_timeline(fig, runs))


def _draw_throughput(fig: Figure, runs: Sequence[Run]) -> None:
    ax = fig.subplots()
    single = len(runs) == 1
    for i, run in enumerate(runs):
        if run.throughput is None:
            continue
        s = run.throughput
        ax.plot(s.x, s.y, "-", color=svg.color(i), lw=1.2,
                label="completed samples/s" if single else run.label, drawstyle="steps-mid")
        rate = run.record.samples_per_second
        if single and rate:
            ax.axhline(rate, color="#222", ls="--", lw=0.8, label=f"run average {fmt.number(rate)}/s")
    ax.set_ylim(bottom=0)
    svg.headroom(ax, max((r.record.samples_per_second for r in runs), default=None))
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("samples per second")
    svg.legend(ax, 4 if len(runs) == 1 else 2)


def throughput(runs: Sequence[Run]) -> Markup:
    return svg.render("throughput", "Throughput across the run",
                      lambda fig: _draw_throughput(fig, runs))
