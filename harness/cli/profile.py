"""`bench profile`: per-layer figures of a workload on an accelerator system, one warm batch.

    bench profile --sut npu_v1 --workload resnet50 [--batch N] [--format table|json|csv]
                  [--start-s T | --no-masters] [--set compute.array_rows=64 ...]

Layers are timed under the system's bus masters, averaged over every start phase of their
hyperperiod (best and worst phase alongside); `--start-s T` times them from one instant,
`--no-masters` without the masters. Every format carries the uncontended time too.
JSON is {"layers": [...], "total": {...}} (DESIGN.md); CSV has one row per layer and a last
row named "total"; the table is for people.
"""

from __future__ import annotations

from harness.record.build import json_text

import csv
import io

import click

from harness import catalog
from harness.accel import AcceleratorModel, Profile, load_hardware
from harness.errors import config_error
from harness.measure.runner import route_sets
from harness.workloads import load_workload

COLUMNS = ("name", "op", "macs", "compute_cycles", "vector_cycles", "dram_bytes", "sram_bytes",
           "compute_time_s", "memory_time_s", "time_s", "time_s_uncontended", "time_s_best",
           "time_s_worst", "bound", "utilization", "energy_j", "dataflow", "precision")
TOTAL_COLUMNS = {"name": "total", "op": "", "compute_time_s": "", "memory_time_s": "", "dataflow": "",
                 "precision": ""}


def build_profile(sut: str, workload: str, batch: int, overrides: dict | None = None,
                  start_s: float | None = None, masters: bool = True,
                  workload_overrides: dict | None = None, allow_unmodeled: bool = False) -> Profile:
    path = catalog.resolve("systems", sut)
    hardware = load_hardware(path, catalog.label(path), overrides)
    loaded = load_workload(workload, workload_overrides or None, allow_unmodeled=allow_unmodeled)
    return AcceleratorModel(hardware, loaded).profile(batch, start_s, masters)


def route(assignments: tuple[str, ...], sut: str) -> tuple[dict, dict]:
    """--set as bench run routes it (system keys, masters.NAME.FIELD, workload.KEY); a test
    setting has nothing to act on in a profile."""
    test, system, workload = route_sets(assignments, sut)
    if test:
        key = next(iter(test))
        raise config_error("--set", key, test[key], "a test setting applies to bench run only "
                           "(a profile generates no load)")
    return system, workload


def render_json(profile: Profile) -> str:
    return json_text(profile.as_dict())


def render_csv(profile: Profile) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in profile.as_dict()["layers"]:
        writer.writerow([row[c] for c in COLUMNS])
    total = {**profile.total, **profile.total["contention"], **TOTAL_COLUMNS}
    writer.writerow([total[c] for c in COLUMNS])
    return out.getvalue()


def _line(name: str, op: str, precision: str, macs: float, cycles: int, dram: float, time_s: float,
          quiet_s: float, bound: str, util: float, energy_j: float) -> str:
    return (f"{name[:28]:28s} {op[:8]:8s} {precision[:8]:8s} {macs / 1e6:10.2f} {cycles:11d} {dram / 1e3:11.1f} "
            f"{time_s * 1e6:11.1f} {quiet_s * 1e6:11.1f} {bound:8s} {util * 100:6.1f} "
            f"{energy_j * 1e6:11.2f}")


def _contention_line(c: dict) -> str:
    if c["mode"] == "none":
        return "timed without bus masters (--no-masters)"
    if c["mode"] == "start":
        return f"timed under the bus masters from t = {c['start_s']:g} s"
    if c["hyperperiod_s"] is None:
        return "bus masters take a constant share: every start phase gives the same time"
    return (f"timed under the bus masters, averaged over start phases in their "
            f"{c['hyperperiod_s'] * 1e3:.3f} ms hyperperiod: best {c['time_s_best'] * 1e6:.1f} us "
            f"(start {c['best_start_s'] * 1e3:.3f} ms), worst {c['time_s_worst'] * 1e6:.1f} us "
            f"(start {c['worst_start_s'] * 1e3:.3f} ms)")


def _residency(total: dict) -> str:
    resident, streamed = total.get("resident_weight_bytes"), total.get("streamed_weight_bytes")
    if resident is None or streamed is None:
        return "resident" if total["weights_resident"] else "streamed"
    if streamed < 1.0:   # bytes (float sums of stored weight bytes)
        return "resident"
    return "partly resident" if resident >= 1.0 else "streamed"


def render_table(profile: Profile) -> str:
    head = (f"{'layer':28s} {'op':8s} {'prec':8s} {'MMACs':>10s} {'cycles':>11s} {'DRAM kB':>11s} "
            f"{'time us':>11s} {'quiet us':>11s} {'bound':8s} {'util%':>6s} {'energy uJ':>11s}")
    lines = [f"{profile.system} x {profile.workload}, batch {profile.batch}", head]
    for r in profile.layers:
        lines.append(_line(r.name, r.op, r.precision, r.macs, r.compute_cycles, r.dram_bytes, r.time_s,
                           r.time_s_uncontended, r.bound, r.utilization, r.energy_j))
    t = profile.total
    c = t["contention"]
    lines.append(_line("total", "", _mix(t), t["macs"], t["compute_cycles"], t["dram_bytes"], t["time_s"],
                       c["time_s_uncontended"], t["bound"], t["utilization"], t["energy_j"]))
    lines.append(_contention_line(c) + ("" if c["mode"] == "none" else "; 'quiet': without them"))
    lines.append(f"{t['samples_per_s']:.1f} samples/s on {t['engines']} engine(s), "
                 f"{t['energy_per_sample_j'] * 1e3:.3f} mJ/sample, {_tops_per_w(t['tops_per_w'])}, "
                 f"weights {_residency(t)}")
    lines.append(_sram_line(t))
    if "schedule" in t:
        lines.extend(_schedule_lines(t["schedule"]))
    if t["unmodeled_layers"]:
        lines.append("not modelled (costed as vector work only): " + ", ".join(
            f"{u['name']} ({u['op']})" for u in t["unmodeled_layers"]))
    return "\n".join(lines)


def _tops_per_w(value: float | None) -> str:
    return "TOPS/W n/a (no energy modelled)" if value is None else f"{value:.2f} TOPS/W"


def _mix(t: dict) -> str:
    """The total row's precision: the one precision, or "mixed"."""
    kinds = list(t.get("layer_precisions") or {})
    return kinds[0] if len(kinds) == 1 else "mixed"


def _sram_line(t: dict) -> str:
    spilled, tiled = t["spilled_layers"], t["tiled_layers"]
    return (f"SRAM peak {t['sram_peak_bytes'] / 1e6:.2f} of {t['sram_bytes_per_engine'] / 1e6:.2f} MB: "
            f"{t['resident_weight_bytes'] / 1e6:.2f} MB of weights resident, "
            f"{t['streamed_weight_bytes'] / 1e6:.2f} MB streamed; {len(spilled)} layer output(s) "
            f"spilled{' (' + ', '.join(spilled[:5]) + ('...' if len(spilled) > 5 else '') + ')' if spilled else ''}, "
            f"{len(tiled)} layer(s) tiled; weights stored {t['sparsity_stored']}")


def _schedule_lines(s: dict) -> list[str]:
    """compute.schedule: each engine's part, then latency and the interval between batches."""
    lines = [f"schedule {s['name']} over {s['engines']} engines:"]
    for st in s["stages"]:
        lines.append(f"  engine {st['engine']}: {st['first_layer']} .. {st['last_layer']} "
                     f"({st['layers']} layers) {st['time_s'] * 1e6:.1f} us {st['time_kind']}, "
                     f"DRAM {st['dram_bytes'] / 1e6:.2f} MB, weights {st['resident_weight_bytes'] / 1e6:.2f} MB "
                     f"resident + {st['streamed_weight_bytes'] / 1e6:.2f} MB streamed, SRAM peak "
                     f"{st['sram_peak_bytes'] / 1e6:.2f} of {st['sram_bytes'] / 1e6:.2f} MB")
    lines.append(f"  latency {s['latency_s'] * 1e6:.1f} us; a batch every {s['interval_s'] * 1e6:.1f} us "
                 f"({s['interval_bound']}): {s['samples_per_s']:.1f} samples/s; "
                 f"DRAM {s['dram_bytes_per_sample'] / 1e6:.3f} MB/sample")
    lines.extend(f"  note: {n}" for n in s["notes"])
    return lines


RENDERERS = {"table": render_table, "json": render_json, "csv": render_csv}


@click.command("profile")
@click.option("--sut", required=True, help="System name or file (adapter = accelerator).")
@click.option("--workload", required=True, help="Workload name or file (.toml, .csv, .onnx).")
@click.option("--batch", default=1, show_default=True, type=click.IntRange(min=1),
              help="Samples per batch.")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(sorted(RENDERERS)), help="Output format.")
@click.option("--start-s", type=click.FloatRange(min=0, max=1e6), default=None, metavar="T",
              help="Time the layers under the bus masters from this instant (seconds).")
@click.option("--no-masters", is_flag=True, help="Time the layers without the bus masters.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a system key (compute.array_rows=64), a bus master (masters.camera.frame_rate_hz=60) or a workload key (workload.KEY=...).")
@click.option("--allow-unmodeled", is_flag=True,
              help="Profile ONNX operators bench cannot cost as vector work, listed in the totals.")
def command(sut: str, workload: str, batch: int, fmt: str, start_s: float | None,
            no_masters: bool, assignments: tuple[str, ...], allow_unmodeled: bool) -> None:
    """Per-layer MACs, cycles, DRAM bytes, time, bound and energy of one batch."""
    if start_s is not None and no_masters:
        raise click.UsageError("--start-s and --no-masters exclude each other")
    system, workload_keys = route(assignments, sut)
    profile = build_profile(sut, workload, batch, system, start_s, not no_masters, workload_keys,
                            allow_unmodeled)
    click.echo(RENDERERS[fmt](profile))
