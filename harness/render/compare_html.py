"""Self-contained HTML for `bench compare --format html`: the rows as a table and, per workload,
a Pareto chart of latency against throughput with energy efficiency as colour. The charts are
inline SVG from matplotlib; no script, stylesheet or font is fetched from anywhere."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from harness import __version__
from harness.render import fmt
from harness.render import svg
from harness.render.page import environment
from harness.render import compare_text as render
from harness.analyse.compare import UNOFFICIAL
from harness.sweep.select import pareto_mask

NUMERIC_COLUMNS = {5, 8, 9, 10}


def render_html(rows: list[dict]) -> str:
    """The page, from the report's template set and stylesheet (templates/compare.html.j2)."""
    table = [{"cells": render.cells(r),
              "css": "invalid" if not r["valid"] else ("nc" if not r["comparable"] else "")}
             for r in rows]
    charts = [{"workload": w, "svg": Markup(svg)} for w, svg in pareto_charts(rows)]
    return environment().get_template("compare.html.j2").render(
        title="bench compare", heading="bench compare", subtitle=f"{len(rows)} results",
        version=__version__, rows=rows, table=table, headers=render.HEADERS,
        numeric=NUMERIC_COLUMNS, charts=charts, unofficial=UNOFFICIAL,
        notes=render.footnote(rows).splitlines()[1:])


def chart_points(rows: list[dict]) -> dict[str, list[dict]]:
    """Per workload, the rows that have both a throughput and a request latency."""
    by_workload: dict[str, list[dict]] = {}
    for r in rows:
        if r["samples_per_second"] and r["latency_ms"]:
            by_workload.setdefault(r["workload"], []).append(r)
    return by_workload


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points no other beats in both throughput (higher) and latency (lower): the sweep's
    Pareto rule (harness.sweep.select.pareto_mask), sorted by throughput."""
    frame = pd.DataFrame(points, columns=["x", "y"], dtype=float).assign(status="ok")
    mask = pareto_mask(frame, (("x", "max"), ("y", "min")))
    return sorted(set(map(tuple, frame.loc[mask, ["x", "y"]].to_numpy().tolist())))


def pareto_charts(rows: list[dict]) -> list[tuple[str, str]]:
    return [(w, _chart_svg(i, w, points)) for i, (w, points) in enumerate(sorted(chart_points(rows).items()))]


def _chart_svg(index: int, workload: str, points: list[dict]) -> str:
    """One workload's chart through the report's SVG path: ids scoped per chart (several share
    the page), system names drawn as typed (no mathtext), log ticks as plain numbers."""
    def draw(fig) -> None:
        fig.subplots_adjust(left=0.12, right=0.9, bottom=0.13, top=0.9)
        _draw(fig.subplots(), fig, points)

    return svg.render(f"pareto-{index}", f"{workload}: latency against throughput", draw, size=(7.5, 4.5))


MARKERS = {"single-stream": "o", "multi-stream": "s", "server": "^", "interactive": "v"}


def _draw(ax, fig, points: list[dict]) -> None:
    from matplotlib.colors import Normalize

    eff = [e for p in points if (e := (p["energy"] or {}).get("samples_per_joule"))]
    norm = Normalize(min(eff) * 0.9, max(eff) * 1.1) if eff else None
    mappable = None
    for scenario, marker in MARKERS.items():
        group = [p for p in points if p["scenario"] == scenario]
        mappable = _scatter(ax, group, marker, norm) or mappable
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, label="samples per joule (unofficial)")
    front = pareto_front([(p["samples_per_second"], p["latency_ms"]) for p in points])
    ax.plot([p[0] for p in front], [p[1] for p in front], "k--", linewidth=1, label="Pareto frontier")
    for p in points:
        ax.annotate(p["system"], (p["samples_per_second"], p["latency_ms"]),
                    fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    svg.log_axis(ax.xaxis, fmt.number)
    svg.log_axis(ax.yaxis, lambda ms: fmt.number(ms, 3))
    ax.margins(0.15)
    ax.set_xlabel("throughput (samples/s)")
    ax.set_ylabel("latency (ms): early-stopping estimate, server p99")
    svg.legend(ax, 5)


def _scatter(ax, group: list[dict], marker: str, norm):
    if not group:
        return None
    xs = [p["samples_per_second"] for p in group]
    ys = [p["latency_ms"] for p in group]
    eff = [(p["energy"] or {}).get("samples_per_joule") for p in group]
    label = group[0]["scenario"]
    if not any(eff):
        ax.scatter(xs, ys, s=60, marker=marker, facecolors="none", edgecolors="grey", label=label)
        return None
    colours = [e if e else float("nan") for e in eff]
    return ax.scatter(xs, ys, s=80, marker=marker, c=colours, cmap="viridis", norm=norm,
                      plotnonfinite=True, edgecolors="grey", label=label)
