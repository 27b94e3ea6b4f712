"""Rendering the report pages (Jinja2, autoescaped) and writing them atomically."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined

from harness import __version__
from harness.record.rundir import write_file
from harness.render import accel_charts
from harness.render import charts
from harness.render import deltas
from harness.render import fmt
from harness.render import tables
from harness.render import view
from harness.render.runs import Run, load_run
from harness.record.schema import Accelerator

TITLES = {
    "verdict": "Verdict", "results": "Results", "deltas": "Deltas against the first result",
    "metric": "Headline metric", "identity": "System, workload and scenario", "settings": "Settings",
    "percentiles": "Latency percentiles", "latency-cdf": "Latency distribution",
    "latency-timeline": "Latency across the run", "throughput": "Throughput across the run",
    "energy": "Energy breakdown", "dram-timeline": "DRAM bandwidth timeline",
    "realtime": "Real-time bus masters", "layers": "Per-layer profile", "roofline": "Roofline",
}
NO_TIMELINE = ("Latency and throughput across the run are not drawn: the per-query records hold "
               "{why}.")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("harness.render", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fmt.FILTERS)
    return env


def chart_set(runs: Sequence[Run]) -> dict:
    """Every chart the runs have data for, as inline SVG (None where there is nothing to draw)."""
    accel = any(accel_charts.has_roofline(r) for r in runs)
    single = runs[0] if len(runs) == 1 else None
    return {
        "cdf": charts.latency_cdf(runs),
        "timeline": charts.latency_timeline(runs) if any(r.timeline for r in runs) else None,
        "throughput": charts.throughput(runs) if any(r.throughput for r in runs) else None,
        "energy": accel_charts.energy(runs) if any(_breakdown(r) for r in runs) else None,
        "dram": accel_charts.dram_timeline(single) if single and _dram(single) else None,
        "roofline": accel_charts.roofline(runs) if accel else None,
    }


def _breakdown(run: Run) -> dict:
    energy = run.record.energy
    return (energy.breakdown_j if energy else None) or {}


def _dram(run: Run) -> bool:
    timeline = run.accelerator.dram_timeline if run.accelerator else None
    return bool(timeline and timeline.t_s)


def sections(chart_svgs: dict, head: Sequence[str], layer_table: bool,
             realtime: bool = False) -> list[tuple[str, str]]:
    """(id, title) of the sections present, top first: the page's table of contents."""
    shown = {**chart_svgs, "layers": layer_table, "realtime": realtime}
    optional = (("latency-timeline", "timeline"), ("throughput", "throughput"), ("energy", "energy"),
                ("dram-timeline", "dram"), ("realtime", "realtime"), ("layers", "layers"),
                ("roofline", "roofline"))
    present = [*head, "latency-cdf", *(s for s, key in optional if shown.get(key))]
    return [(s, TITLES[s]) for s in present]


def accel_context(run: Run) -> dict | None:
    accel = run.accelerator
    if not accel:
        return None
    layers = list(accel.layers)
    return {"layers": [tables.layer_row(r) for r in layers], "total": tables.layer_total(layers),
            "summary": tables.accelerator_summary(accel), "columns": tables.LAYER_COLUMNS,
            "numeric": tables.LAYER_NUMERIC, "roofline_caption": _roofline_caption(accel),
            "realtime": tables.realtime_rows(accel.realtime_masters),
            "realtime_columns": tables.REALTIME_COLUMNS}


def _roofline_caption(accel: Accelerator) -> str:
    peak, bandwidth = accel_charts.roofs(accel)
    return (f"Each layer's achieved MAC/s (one batch on one engine) against its arithmetic "
            f"intensity, under one engine's roofs: {fmt.si(peak, 'MAC/s')} and "
            f"{fmt.si(bandwidth, 'B/s')} of DRAM bandwidth, what the bus masters leave an engine "
            "alone on average. Layers without DRAM traffic (infinite intensity) are not placed.")


def _no_timeline(run: Run) -> str:
    if run.rows is None:
        return NO_TIMELINE.format(why="nothing: queries.parquet is missing")
    if run.scenario == "offline" and run.throughput is not None:
        return ("Latency across the run is not drawn: offline issues every sample at once, in a "
                "single query; the distribution and throughput above are per sample.")
    why = "a single query (offline issues every sample at once)" if run.scenario == "offline" \
        else f"{run.rows} queries"
    return NO_TIMELINE.format(why=why)


def _cdf_caption(run: Run) -> str:
    if run.scenario == "offline" and not run.coarse_cdf:
        return ("Fraction of samples completed by each time from the start (offline: one query of "
                "every sample), on log axes; p90 and p99 marked.")
    if run.coarse_cdf:
        return ("Latency distribution drawn through result.json's percentiles (the per-query records "
                "hold no per-sample latencies), on a log axis.")
    return ("Fraction of queries at or under each latency, on log axes (the vertical axis stretches "
            "the tail); p90 and p99 marked" + (", the dashed line is the bound." if run.bound_s else "."))


def single_context(run: Run) -> dict:
    result, svgs = run.record, chart_set([run])
    accel = accel_context(run)
    return {
        "title": f"bench report: {run.label}", "heading": f"{run.label}",
        "subtitle": f"bench report — {'VALID' if result.valid else 'INVALID'} — "
                    f"run of {result.created_utc or '?'}",
        "version": __version__, "result": result, "titles": TITLES, "charts": svgs, "accel": accel,
        "sections": sections(svgs, ("verdict", "metric", "identity", "settings", "percentiles"),
                             bool(accel and accel["layers"]), bool(accel and accel["realtime"])),
        "verdict": view.verdict(result), "headline": view.headline(result),
        "identity": view.identity(result), "fingerprints": list((result.fingerprints or {}).items()),
        "settings": view.settings(result), "percentiles": tables.percentile_rows(result),
        "early_stopping_lines": list((result.early_stopping.lines if result.early_stopping else None) or []),
        "energy_rows": tables.energy_rows(result.energy),
        "power_rows": tables.power_rows(result.energy),
        "cdf_caption": _cdf_caption(run), "no_timeline": _no_timeline(run),
    }


def multi_context(runs: Sequence[Run]) -> dict:
    results = [r.record for r in runs]
    svgs = chart_set(runs)
    return {
        "title": f"bench report: {len(runs)} results", "heading": f"{len(runs)} results side by side",
        "subtitle": "bench report — deltas against " + runs[0].label, "version": __version__,
        "titles": TITLES, "charts": svgs, "runs": runs,
        "sections": sections(svgs, ("results", "verdict", "deltas"), False),
        "verdicts": [view.verdict(r) for r in results], "identity": view.identity_columns(results),
        "deltas": deltas.rows(results), "unlike": deltas.unlike(results),
    }


def render_runs(runs: Sequence[Run]) -> str:
    env = environment()
    if len(runs) == 1:
        return env.get_template("single.html.j2").render(single_context(runs[0]))
    return env.get_template("multi.html.j2").render(multi_context(runs))


def write_report(run_dirs: Sequence[Path], out_file: Path) -> Path:
    """One page for one result or several (overlaid, with deltas against the first)."""
    indexed = len(run_dirs) > 1
    runs = [load_run(Path(d), i if indexed else None) for i, d in enumerate(run_dirs)]
    write_file(Path(out_file), render_runs(runs))
    return Path(out_file)


def report_beside(run_dir: Path) -> None:
    """report.html in a run directory already written (the step after the measurement, the same
    code as `bench report DIR`). A page that fails to render never costs the result: the
    failure is said on stderr and `bench report DIR` retries."""
    try:
        write_report([Path(run_dir)], Path(run_dir) / "report.html")
    except Exception as exc:  # noqa: BLE001 - reported; the result is complete
        print(f"bench: warning: report.html not written ({type(exc).__name__}: {exc}); "
              "the result is complete - retry with `bench report`", file=sys.stderr)


def write_run_report(run_dir: Path, out_file: Path) -> None:
    """The single-result page of `run_dir` (the hook `bench run` calls)."""
    write_report([Path(run_dir)], Path(out_file))
