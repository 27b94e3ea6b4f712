"""`bench run`: one run (or a find-peak search) of a scenario against a SUT."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli import formats
from harness.cli.progress import real_time_progress, wanted
from harness.record.rundir import (NotWritten, check_out_dir, claim, claim_fresh, release, target,
                            write_run)
from harness.measure.runner import RunOutput, RunRequest, execute, prepare
from harness.measure.settings import SERVER_SCENARIOS
from harness.record.schema import FindPeak, RealtimeMaster, RunRecord, Tokens, from_dict, to_dict

if TYPE_CHECKING:
    from harness.measure.peak import Probe


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:.3f} ms"


def _figure(value: float | None, scale: float = 1.0) -> str:
    """A figure to three decimals in the unit the caller names; n/a when it is unknown."""
    return "n/a" if value is None else f"{value * scale:.3f}"


def headline(record: RunRecord) -> list[str]:
    metric, lat = record.metric, record.latency_s
    value = _ms(metric.value) if metric.unit == "s" else f"{metric.value:.2f} {metric.unit}"
    lines = [f"  {metric.name}: {value}",
             f"  latency p50 {_ms(lat.p50)}  p90 {_ms(lat.p90)}  p99 {_ms(lat.p99)}  max {_ms(lat.max)}",
             f"  {record.query_count} queries, {record.sample_count} samples in {record.duration_s:.3f} s"]
    if record.bound_s is not None:
        lines[1] += f"  (bound {record.bound_s * 1e3:g} ms)"
    if record.tokens:
        lines += token_lines(record.tokens)
    lag = record.issue_lag_s
    if record.time_mode == "real" and lag:
        lines.append(f"  issue lag p50 {lag.p50 * 1e6:.0f} us  p99 {lag.p99 * 1e6:.0f} us  "
                     f"max {lag.max * 1e6:.0f} us (actual minus scheduled issue time)")
    energy = record.energy
    if energy and (energy.joules_per_sample, energy.average_power_w) != (None, None):
        lines.append(f"  energy {_figure(energy.joules_per_sample, 1e3)} mJ/sample, "
                     f"average power {_figure(energy.average_power_w)} W")
    return lines + realtime_lines(record.accelerator.realtime_masters if record.accelerator else ())


def realtime_lines(outcomes: tuple[RealtimeMaster, ...]) -> list[str]:
    """Realtime bus masters with a FIFO: their worst-case margin, or the deadline they miss."""
    parts = []
    for o in outcomes:
        if o.margin_bytes is None:
            continue
        if o.deadline_miss:
            what = "underflows" if o.direction == "read" else "overflows"
            parts.append(f"{o.name} FIFO {what} by {-o.margin_bytes:.0f} B at t = {o.at_s:.6g} s "
                         f"(DEADLINE MISS)")
        else:
            parts.append(f"{o.name} {o.margin_s * 1e6:.2f} us")
    return [f"  real-time FIFO margins: {', '.join(parts)}"] if parts else []


def token_lines(tokens: Tokens) -> list[str]:
    """Output tokens and rate; TTFT and TPOT percentiles (with the limits where they apply)."""
    lines = [f"  {tokens.output_tokens} output tokens, {tokens.tokens_per_second:.2f} tokens/s"]
    if tokens.joules_per_token is not None:
        lines[0] += f", {tokens.joules_per_token * 1e3:.3f} mJ/token"
    for key, label in (("ttft_s", "TTFT"), ("tpot_s", "TPOT")):
        t = getattr(tokens, key)
        if t is not None:
            limit = getattr(tokens.limits, key) if tokens.limits else None
            line = f"  {label} p50 {_ms(t.p50)}  p90 {_ms(t.p90)}  p99 {_ms(t.p99)}  max {_ms(t.max)}"
            lines.append(line + (f"  (limit {limit * 1e3:g} ms)" if limit is not None else ""))
    return lines


SUMMARY_KEYS = ("scenario", "valid", "invalid_reasons", "metric", "samples_per_second", "query_count",
                "sample_count", "failed_queries", "duration_s", "latency_s", "tokens", "energy",
                "find_peak", "interrupted")


def summary(out: Path, record: RunRecord) -> dict:
    """What `--format json` prints: where the result is and its headline figures."""
    data = to_dict(record)
    return {"out": str(out), "system": record.sut.name, "workload": record.workload.name,
            **{k: data.get(k) for k in SUMMARY_KEYS}}


def render(out: Path, record: RunRecord) -> None:
    click.echo(str(out))
    click.echo("VALID" if record.valid else "INVALID")
    for reason in record.invalid_reasons:
        click.echo(f"  - {reason}")
    for line in headline(record):
        click.echo(line)
    if record.find_peak:
        click.echo(peak_line(record.find_peak))


def _print_probe(probe: Probe) -> None:
    if not probe.full_length:
        click.echo(f"  short {probe.target_qps:12.3f} QPS  {'under' if probe.predicts_valid else 'over':7}  "
                   f"p99 {_ms(probe.p99_s)}  ({probe.reasons[0]})", err=True)
        return
    verdict = "VALID  " if probe.valid else "INVALID"
    why = f"  ({probe.reasons[0]})" if probe.reasons else ""
    click.echo(f"  probe {probe.target_qps:12.3f} QPS  {verdict}  p99 {_ms(probe.p99_s)}{why}", err=True)


def peak_line(found: FindPeak) -> str:
    """The QPS find-peak chose, and why the search stopped there."""
    full = [p for p in found.probes if p.get("full_length", True)]
    short = len(found.probes) - len(full)
    runs = f"{len(full)} full-length probe{'s' * (len(full) != 1)}" + (
        f" (after {short} short run{'s' * (short != 1)})" if short else "")
    if not any(p["valid"] for p in full):
        return f"  find-peak: no VALID target QPS ({runs}; the lowest, {min(p['target_qps'] for p in full):.3f} QPS, failed)"
    above = [p["target_qps"] for p in full if not p["valid"] and p["target_qps"] > found.peak_qps]
    limit = f"; {min(above):.3f} QPS was INVALID" if above else ""
    return f"  find-peak: peak {found.peak_qps:.3f} QPS, the highest VALID of {runs}{limit}"


def _measure(prepared, find_peak: bool) -> RunOutput:
    if find_peak:
        from harness.measure import peak   # the search's code, for the runs that search
        return peak.peak_run(prepared, _print_probe)
    watch = real_time_progress if wanted(prepared.adapter.time_mode) else None
    return execute(prepared, watch=watch)


def _import_report_meanwhile() -> None:
    """Import the report's code (matplotlib: about half a second) on another thread while the
    run measures: a compiled run releases the GIL. A failed import is left to the real one in
    `_write`, which reports it."""
    def load() -> None:
        try:
            importlib.import_module("harness.render.page")
        except ImportError:
            pass
    threading.Thread(target=load, name="import-report", daemon=True).start()


def _write(out: Path, record: RunRecord, run: RunOutput) -> NotWritten | None:
    """Write the run; what could not be written (said after the figures), if anything."""
    try:
        write_run(out, record, run.records)
    except NotWritten as exc:
        return exc
    return None


def _report(out: Path) -> None:
    """Measure, then render: the page is drawn from the files just written."""
    from harness.render.page import report_beside
    report_beside(out)


@click.command("run")
@click.option("--scenario", required=True, help="single-stream | multi-stream | server | offline | interactive")
@click.option("--sut", required=True, help="A system name from systems/ or a system file.")
@click.option("--workload", default="resnet50", show_default=True, help="A workload name or file.")
@click.option("--target-qps", type=float, help="Server: Poisson rate; offline/streams: sizing hint.")
@click.option("--duration", type=float, help="Minimum duration in seconds (MLPerf: 600).")
@click.option("--min-queries", type=int, help="Minimum query count.")
@click.option("--seed", type=int, help="Master seed: derive every random stream from it "
              "(default: MLPerf's official seeds from the scenario files).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a test setting (MLPerf name) or a dotted SUT/workload key.")
@click.option("--find-peak", is_flag=True, help="Server: search for the highest VALID target QPS.")
@click.option("--out", type=click.Path(path_type=Path), help="Output directory (default under reports/).")
@click.option("--no-report", is_flag=True, help="Do not write report.html.")
@click.option("--force", is_flag=True, help="Replace a result already in --out (atomically).")
@click.option("--allow-unmodeled", is_flag=True,
              help="Run an ONNX workload whose operators bench cannot cost, as vector work "
                   "(listed in the profile's unmodeled_layers).")
@formats.option()
def command(scenario, sut, workload, target_qps, duration, min_queries, seed, sets, find_peak,
            out, no_report, force, allow_unmodeled, fmt) -> None:
    """Run a scenario against a system under test and write a judged result."""
    request = RunRequest(scenario, sut, workload, target_qps, duration, min_queries, seed, tuple(sets),
                         allow_unmodeled)
    prepared = prepare(request)
    if find_peak and prepared.scenario not in SERVER_SCENARIOS:
        raise click.UsageError("--find-peak applies to the server and interactive scenarios only")
    if out:
        claim(target(out))
    else:
        out = claim_fresh(prepared.system.name, prepared.workload.name, prepared.scenario)
    where = target(out)
    try:
        check_out_dir(where, force)
        if not no_report:
            _import_report_meanwhile()
        run = _measure(prepared, find_peak)
        record = from_dict(run.result, "the run's result")   # checked against the schema once
        partial = _write(where, record, run)
        del run   # the records are on disk: the report reads them back, with their memory freed
        if not (no_report or partial):
            _report(where)
    finally:
        release(where)
    if fmt == formats.JSON:
        formats.emit(summary(out, record))
    else:
        render(out, record)
    if partial:
        raise partial
    if record.interrupted:
        raise click.exceptions.Exit(130)  # the partial result is written; still a Ctrl-C exit
