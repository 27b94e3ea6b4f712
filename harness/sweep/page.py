"""sweep.html: one self-contained page (inline SVG, no script, nothing fetched) with the best
configuration under the constraints, the Pareto front, each figure against each parameter that
varies, and the points that failed with their errors."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment
from markupsafe import Markup

from harness import __version__
from harness.output import write_file
from harness import figures as registry
from harness.sweep import charts
from harness.sweep.figures import LABELS
from harness.sweep.select import Choice, describe
from harness.sweep.spec import Sweep

FIGURE_COLUMNS = ("samples_per_s", "p99_s", "energy_per_sample_j", "power_w", "valid")
MAX_ROWS = 200

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>sweep {{ sweep.name }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: 0 auto; padding: 1.5rem 2rem; max-width: 1180px; }
h2 { font-size: 1.15rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #d9dce0; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border-bottom: 1px solid #d9dce0; padding: .2rem .7rem .2rem 0; text-align: left; vertical-align: top; }
th { color: #5f6368; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #5f6368; font-size: .85rem; }
.failed td { color: #c62828; }
.scroll { overflow-x: auto; max-width: 100%; }
code { overflow-wrap: anywhere; }
svg.chart { display: block; width: 100%; max-width: 900px; height: auto; }
</style></head><body>
<h1>sweep {{ sweep.name }}</h1>
<p class="note">{{ sweep.source }} · mode {{ sweep.settings.mode }} · {{ counts.total }} points:
{{ counts.ok }} ok, {{ counts.failed }} failed{% if counts.pending %}, {{ counts.pending }} not run{% endif %} ·
summary in <code>summary.csv</code> and <code>summary.parquet</code> · bench {{ version }}</p>

<h2 id="best">Best configuration</h2>
{% if not rule %}<p class="note">The sweep file states no [best] rule.</p>
{% elif best is none %}<p>No point meets the constraints: {{ rule }} ({{ choice.considered }} points considered).</p>
{% else %}<p>{{ rule }}: <b>{{ best.point }}</b> ({{ choice.feasible }} of {{ choice.considered }} points meet the constraints)</p>
{{ table([best]) }}{% endif %}

<h2 id="pareto">Pareto front</h2>
<p class="note">Objectives: {{ objectives }}. {{ front|length }} points are not dominated.</p>
{{ pareto_svg }}
{% if front %}{{ table(front[:max_rows]) }}{% endif %}

{% if parameter_svgs %}<h2 id="parameters">Figures against parameters</h2>
<p class="note">Every finished point; the line joins the median at each value.</p>
{% for chart in parameter_svgs %}<figure>{{ chart }}</figure>{% endfor %}{% endif %}

{% if failed %}<h2 id="failed">Failed points</h2>
<table><tr><th>point</th><th>error</th></tr>
{% for r in failed[:max_rows] %}<tr class="failed"><td><code>{{ r.point }}</code></td><td>{{ r.error }}</td></tr>{% endfor %}
</table>{% endif %}
</body></html>
"""

TABLE = """<div class="scroll"><table><tr><th>point</th>{% for k in keys %}<th>{{ k }}</th>{% endfor %}{% for f in figures %}<th>{{ heading(f) }}</th>{% endfor %}</tr>
{% for r in rows %}<tr><td><a href="{{ r.path }}/"><code>{{ r.point }}</code></a></td>{% for k in keys %}<td>{{ show(r[k], k) }}</td>{% endfor %}{% for f in figures %}<td class="num">{{ show(r[f], f) }}</td>{% endfor %}</tr>
{% endfor %}</table></div>"""


def show(value: object, column: str = "") -> str:
    """A cell sized for reading: figures with their registry units, parameters by their names'
    units (bytes as MiB, bandwidths as GB/s)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return registry.by_name(column, value)


def heading(column: str) -> str:
    """A figure column's label and unit (the registry's); a parameter keeps its key."""
    return LABELS.get(column, column)


def render_page(sweep: Sweep, frame: pd.DataFrame, front: pd.Series, choice: Choice | None) -> str:
    env = Environment(autoescape=True)
    keys = charts.varying(frame, sweep.parameter_keys) or sweep.parameter_keys[:6]
    render_table = _table_renderer(env, keys)
    best = frame.loc[choice.index].to_dict() if choice and choice.index is not None else None
    front_rows = frame[front].sort_values("samples_per_s", ascending=False).to_dict("records")
    return env.from_string(TEMPLATE).render(
        sweep=sweep, version=__version__, counts=_counts(frame), table=render_table,
        rule=describe(sweep.best) if sweep.best else None, best=best, choice=choice,
        front=front_rows, max_rows=MAX_ROWS, objectives=", ".join(f"{d} {c}" for c, d in sweep.objectives),
        pareto_svg=charts.pareto_chart(frame, front, choice.index if choice else None),
        parameter_svgs=[charts.parameter_chart(frame, k) for k in charts.varying(frame, sweep.parameter_keys)],
        failed=frame[frame["status"] == "failed"].to_dict("records"))


def _table_renderer(env: Environment, keys: list[str]):
    template = env.from_string(TABLE)
    return lambda rows: Markup(template.render(rows=rows, keys=keys, figures=FIGURE_COLUMNS, show=show,
                                                  heading=heading))


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    status = frame["status"].value_counts()
    return {"total": len(frame), "ok": int(status.get("ok", 0)), "failed": int(status.get("failed", 0)),
            "pending": int(status.get("pending", 0))}


def write_page(path: Path, sweep: Sweep, frame: pd.DataFrame, front: pd.Series, choice: Choice | None) -> None:
    write_file(Path(path), render_page(sweep, frame, front, choice))
