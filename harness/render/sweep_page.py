"""sweep.html: one self-contained page (inline SVG, no script, nothing fetched) with the best
configuration under the constraints, the Pareto front, each figure against each parameter that
varies, and the points that failed with their errors."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from markupsafe import Markup, escape

from harness import __version__
from harness.record.rundir import write_file
from harness.render.page import environment
from harness import figures as registry
from harness.render import sweep_charts as charts
from harness.sweep.figures import LABELS
from harness.sweep.select import Choice, describe, unknown_note
from harness.sweep.spec import Sweep

FIGURE_COLUMNS = ("samples_per_s", "p99_s", "energy_per_sample_j", "power_w", "accuracy", "valid")
SEARCHED = ("peak_qps",)   # a find-peak sweep's: shown first, when the points have them
MAX_ROWS = 200




def show(value: object, column: str = "") -> str:
    """A cell sized for reading: figures with their registry units, parameters by their names'
    units (bytes as MiB, bandwidths as GB/s)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown" if column == "accuracy" else "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return registry.by_name(column, value)


def breakable(key: str) -> Markup:
    """A dotted parameter key that may wrap after its dots and underscores (escaped)."""
    text = str(escape(key))
    return Markup(text.replace(".", ".<wbr>").replace("_", "_<wbr>"))


def heading(column: str) -> str:
    """A figure column's label and unit (the registry's); a parameter keeps its key."""
    return LABELS.get(column, column)


def render_page(sweep: Sweep, frame: pd.DataFrame, front: pd.Series, choice: Choice | None) -> str:
    """The page, from the report's template set and stylesheet (templates/sweep.html.j2)."""
    keys = charts.varying(frame, sweep.parameter_keys) or sweep.parameter_keys[:6]
    best = frame.loc[choice.index].to_dict() if choice and choice.index is not None else None
    front_rows = frame[front].sort_values("samples_per_s", ascending=False).to_dict("records")
    counts = _counts(frame)
    pending = f", {counts['pending']} not run" if counts["pending"] else ""
    subtitle = (f"{sweep.source} · mode {sweep.settings.mode} · {counts['total']} points: {counts['ok']} ok, "
                f"{counts['failed']} failed{pending} · summary in summary.csv and summary.parquet")
    return environment().get_template("sweep.html.j2").render(
        title=f"sweep {sweep.name}", heading=f"sweep {sweep.name}", subtitle=subtitle,
        version=__version__, keys=keys, figures=figure_columns(frame), show=show, heading_of=heading,
        breakable=breakable,
        rule=describe(sweep.best) if sweep.best else None, best=best, choice=choice,
        unknown_note=unknown_note(choice) if choice else None,
        front=front_rows, max_rows=MAX_ROWS, objectives=", ".join(f"{d} {c}" for c, d in sweep.objectives),
        pareto_svg=charts.pareto_chart(frame, front, choice.index if choice else None),
        parameter_svgs=[charts.parameter_chart(frame, k) for k in charts.varying(frame, sweep.parameter_keys)],
        failed=frame[frame["status"] == "failed"].to_dict("records"))


def figure_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """The tables' figure columns: a find-peak sweep's peak QPS first, then the run's figures."""
    searched = tuple(c for c in SEARCHED if c in frame and frame[c].notna().any())
    return searched + FIGURE_COLUMNS


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    status = frame["status"].value_counts()
    return {"total": len(frame), "ok": int(status.get("ok", 0)), "failed": int(status.get("failed", 0)),
            "pending": int(status.get("pending", 0))}


def write_page(path: Path, sweep: Sweep, frame: pd.DataFrame, front: pd.Series, choice: Choice | None) -> None:
    write_file(Path(path), render_page(sweep, frame, front, choice))
