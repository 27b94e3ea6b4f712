"""Matplotlib figures to inline SVG, without pyplot: every chart is its own `Figure` on an Agg
canvas, drawn inside an rc_context, so no state leaks from one chart to the next (or into the
caller's matplotlib)."""

from __future__ import annotations

import io
import math
import re
from typing import Callable

import matplotlib
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

# Text as <text> (small, selectable, escaped by matplotlib), ids reproducible, no mathtext: a
# user string containing "$" is drawn as typed.
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "bench-report",
    "text.parse_math": False,
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
}
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


class LogLabels(Formatter):
    """Tick labels for a log axis without mathtext (which `text.parse_math` turns off): every
    decade, and the 2s and 5s between them when the axis spans less than two decades."""

    def __init__(self, text: Callable[[float], str], minor: bool = False):
        self.text, self.minor = text, minor

    def __call__(self, x: float, pos: int | None = None) -> str:
        if x <= 0:
            return ""
        if not self.minor:
            return self.text(x)
        lo, hi = sorted(self.axis.get_view_interval())
        mantissa = round(x / 10 ** math.floor(math.log10(x)), 6)
        return self.text(x) if lo > 0 and hi / lo < 100 and mantissa in (2.0, 5.0) else ""


def log_axis(axis: Axis, text: Callable[[float], str]) -> None:
    axis.set_major_formatter(LogLabels(text))
    axis.set_minor_formatter(LogLabels(text, minor=True))


MIN_LOG_SPAN = 6.25   # a log axis spans at least this factor: two of its 1-2-5 ticks are labelled
HEADROOM = 1.12       # a linear axis reaches this far above the data (a flat line is not the frame)


def widen_log(ax: Axes, axis: str) -> None:
    """A log axis around data that vary by less than MIN_LOG_SPAN (a deterministic run's equal
    latencies, float noise apart) widened about their centre, so its ticks are labelled."""
    get, set_ = (ax.get_xlim, ax.set_xlim) if axis == "x" else (ax.get_ylim, ax.set_ylim)
    lo, hi = get()
    if lo > 0 and hi > 0 and hi / lo < MIN_LOG_SPAN:
        centre, half = math.sqrt(lo * hi), math.sqrt(MIN_LOG_SPAN)
        set_(centre / half, centre * half)


def headroom(ax: Axes, top: float | None = None, log: bool = False) -> None:
    """Room above the highest data point (or `top`): a third of a decade on a log axis."""
    high = max((v for v in (ax.dataLim.y1, top) if v is not None and math.isfinite(v)), default=0.0)
    if high > 0:
        ax.set_ylim(top=high * (2.0 if log else HEADROOM))


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def legend(ax: Axes, ncols: int = 4) -> None:
    """Above the plot, out of the data's way."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.01),
                  ncols=min(ncols, len(handles)), borderaxespad=0.2)


def render(chart_id: str, label: str, draw: Callable[[Figure], None],
           size: tuple[float, float] = (7.5, 3.0)) -> Markup:
    """Draw a chart with `draw(fig)` and return it as an <svg> element ready to inline."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=size)  # fixed margins: a layout engine would draw everything twice
        fig.subplots_adjust(left=0.11, right=0.96, bottom=0.16, top=0.86)
        FigureCanvasAgg(fig)
        draw(fig)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return Markup(scope(buf.getvalue(), chart_id, label))


def scope(svg: str, chart_id: str, label: str) -> str:
    """Drop the XML prolog and RDF metadata, prefix every id (several charts share one HTML document) and label
    the root element for assistive technology and tests."""
    svg = _METADATA.sub("", _PROLOG.sub("", svg, count=1), count=1)  # RDF with external URLs
    svg = _ID.sub(lambda m: f'id="{chart_id}-{m.group(1)}"', svg)
    svg = _REF.sub(lambda m: f"{m.group(1)}{chart_id}-{m.group(2)}", svg)
    attrs = f'<svg class="chart" data-chart="{chart_id}" role="img" aria-label="{_attr(label)}"'
    return svg.replace("<svg", attrs, 1)


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;")
            .replace("<", "&lt;").replace(">", "&gt;"))
