"""`bench profile`: per-layer figures of a workload on an accelerator system, one warm batch.

    bench profile --sut npu_v1 --workload resnet50 [--batch N] [--format table|json|csv]
                  [--set compute.array_rows=64 ...]

JSON is {"layers": [...], "total": {...}} (DESIGN.md); CSV has one row per layer and a last
row named "total"; the table is for people.
"""

from __future__ import annotations

import csv
import io
import json

import click

from harness import catalog
from harness.accel import AcceleratorModel, Profile, load_hardware
from harness.spec import parse_assignment
from harness.workloads import load_workload

COLUMNS = ("name", "op", "macs", "compute_cycles", "vector_cycles", "dram_bytes", "sram_bytes",
           "compute_time_s", "memory_time_s", "time_s", "bound", "utilization", "energy_j")


def build_profile(sut: str, workload: str, batch: int, overrides: dict | None = None) -> Profile:
    path = catalog.resolve("systems", sut)
    hardware = load_hardware(path, catalog.label(path), overrides)
    return AcceleratorModel(hardware, load_workload(workload)).profile(batch)


def render_json(profile: Profile) -> str:
    return json.dumps(profile.as_dict(), indent=2)


def render_csv(profile: Profile) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in profile.as_dict()["layers"]:
        writer.writerow([row[c] for c in COLUMNS])
    total = profile.total
    writer.writerow(["total", "", total["macs"], total["compute_cycles"], total["vector_cycles"],
                     total["dram_bytes"], total["sram_bytes"], "", "", total["time_s"],
                     total["bound"], total["utilization"], total["energy_j"]])
    return out.getvalue()


def _line(name: str, op: str, macs: float, cycles: int, dram: float, time_s: float, bound: str,
          util: float, energy_j: float) -> str:
    return (f"{name[:28]:28s} {op[:8]:8s} {macs / 1e6:10.2f} {cycles:11d} {dram / 1e3:11.1f} "
            f"{time_s * 1e6:11.1f} {bound:8s} {util * 100:6.1f} {energy_j * 1e6:11.2f}")


def render_table(profile: Profile) -> str:
    head = (f"{'layer':28s} {'op':8s} {'MMACs':>10s} {'cycles':>11s} {'DRAM kB':>11s} "
            f"{'time us':>11s} {'bound':8s} {'util%':>6s} {'energy uJ':>11s}")
    lines = [f"{profile.system} x {profile.workload}, batch {profile.batch}", head]
    for r in profile.layers:
        lines.append(_line(r.name, r.op, r.macs, r.compute_cycles, r.dram_bytes, r.time_s, r.bound,
                           r.utilization, r.energy_j))
    t = profile.total
    lines.append(_line("total", "", t["macs"], t["compute_cycles"], t["dram_bytes"], t["time_s"],
                       t["bound"], t["utilization"], t["energy_j"]))
    lines.append(f"{t['samples_per_s']:.1f} samples/s on {t['engines']} engine(s), "
                 f"{t['energy_per_sample_j'] * 1e3:.3f} mJ/sample, {t['tops_per_w']:.2f} TOPS/W, "
                 f"weights {'resident' if t['weights_resident'] else 'streamed'}")
    return "\n".join(lines)


RENDERERS = {"table": render_table, "json": render_json, "csv": render_csv}


@click.command("profile")
@click.option("--sut", required=True, help="System name or file (adapter = accelerator).")
@click.option("--workload", required=True, help="Workload name or file (.toml, .csv, .onnx).")
@click.option("--batch", default=1, show_default=True, type=click.IntRange(min=1),
              help="Samples per batch.")
@click.option("--format", "fmt", default="table", show_default=True,
              type=click.Choice(sorted(RENDERERS)), help="Output format.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a system key, e.g. --set compute.array_rows=64.")
def command(sut: str, workload: str, batch: int, fmt: str, assignments: tuple[str, ...]) -> None:
    """Per-layer MACs, cycles, DRAM bytes, time, bound and energy of one batch."""
    overrides = dict(parse_assignment(a) for a in assignments)
    click.echo(RENDERERS[fmt](build_profile(sut, workload, batch, overrides)))
