"""Per-layer profile rows and totals (what `bench profile` prints).

A profile is one warm batch on one engine alone on the chip (so it gets all the DRAM bandwidth
the bus masters leave). Its layers are timed in one of three ways (`Timing`):

* "average" (the default): under the system's masters, averaged exactly over every start
  phase in the masters' hyperperiod; `time_s_best`/`time_s_worst` give the extremes and the
  totals name the start phases that give them (timeline.phase_stats);
* "start": under the masters from one instant on (`start_s`);
* "none": no masters at all (the uncontended figure).

Every row also carries `time_s_uncontended`. `bound` is "memory" when the DRAM (or SRAM)
transfer takes longer than the array and vector work (the transfer timed at the engine's
average bandwidth in "average" mode), and for the whole batch when memory-bound layers take
most of the time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.accel import energy as en
from harness.accel import fusion
from harness.accel.compute import (core_cycles, dataflow_for, layer_gemm, skipped_share, sparsity_note,
                                   storage_sparsity)
from harness.accel.config import Compute, Hardware
from harness.accel.contention import Leftover
from harness.accel.lifetimes import fused_edges
from harness.accel.memory import Placement, Traffic
from harness.accel.timeline import Phase, PhaseStats, phase_stats, simulate
from harness.workloads.model import Layer

if TYPE_CHECKING:
    from harness.accel.model import BatchPlan

MODES = ("average", "start", "none")


@dataclass(frozen=True)
class Timing:
    """How a profile times its layers: `mode` in MODES, `start_s` for "start"."""

    mode: str = "average"
    start_s: float | None = None

    @classmethod
    def of(cls, start_s: float | None, masters: bool) -> Timing:
        if not masters:
            return cls("none")
        return cls("average") if start_s is None else cls("start", start_s)


@dataclass(frozen=True)
class Timed:
    """A batch's layer times under one Timing: per layer and in total."""

    layers: tuple[PhaseStats, ...]
    total: PhaseStats
    memory_s: tuple[float, ...]     # each layer's DRAM transfer alone at the timing's bandwidth


def _fixed(seconds: float, start: float) -> PhaseStats:
    return PhaseStats(seconds, seconds, seconds, start, start)


def time_phases(phases: tuple[Phase, ...], lo: Leftover, double_buffering: bool,
                timing: Timing) -> Timed:
    """Each phase's seconds under `timing` (lo: the bandwidth of an engine alone)."""
    if timing.mode == "average" and not lo.constant:
        per, total = phase_stats(phases, lo, double_buffering)
        mean_rate = lo.mean_bytes_per_s
        return Timed(tuple(per), total, tuple(ph.dram_bytes / mean_rate for ph in phases))
    t0 = timing.start_s if timing.mode == "start" else 0.0
    t, per, memory = t0, [], []
    for ph in phases:
        end = simulate((ph,), lo, t, double_buffering)
        per.append(_fixed(end - t, t0))
        memory.append(lo.finish(t, ph.dram_bytes) - t)
        t = end
    return Timed(tuple(per), _fixed(t - t0, t0), tuple(memory))


@dataclass(frozen=True)
class LayerRow:
    name: str
    op: str
    macs: int
    compute_cycles: int
    vector_cycles: int
    dram_bytes: float
    sram_bytes: float
    compute_time_s: float
    memory_time_s: float
    time_s: float
    time_s_uncontended: float
    time_s_best: float
    time_s_worst: float
    bound: str
    utilization: float              # its MACs over the array's peak for its time (a fused group's)
    energy_j: float
    weight_dram_bytes: float = 0.0
    input_dram_bytes: float = 0.0
    output_dram_bytes: float = 0.0
    weights_resident: bool = False  # this layer's weights stay in SRAM across batches
    output_spilled: bool = False    # its output went to DRAM for lack of SRAM (memory.py)
    tiling: str = "untiled"         # "untiled" | "weights_outer" | "inputs_outer" (tiling.py)
    refetch_bytes: float = 0.0      # DRAM bytes read again because of tiling
    sram_peak_bytes: float = 0.0    # SRAM in use while it runs: arena + resident weights + buffer
    dataflow: str = ""              # the array's dataflow for this layer ("" on the vector unit)
    precision: str = ""             # the layer's precision (its own, or compute.precision)
    converted_elems: int = 0        # input elements requantized from another precision (mixed.py)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Profile:
    system: str
    workload: str
    batch: int
    layers: tuple[LayerRow, ...]
    total: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"layers": [row.as_dict() for row in self.layers], "total": dict(self.total)}


def layer_row(hw: Hardware, layer: Layer, plan: BatchPlan, i: int, timed: Timed,
              quiet: Timed) -> LayerRow:
    """Layer i's row: `timed` under the profile's Timing, `quiet` with no masters."""
    traffic, c = plan.placement.layers[i], plan.computes[i]
    array, vector = plan.cycles[i]
    core_s = core_cycles(array, vector) / c.clock_hz
    memory_s = max(timed.memory_s[i], traffic.sram / hw.memory.sram_bytes_per_s)
    stats = timed.layers[i]
    peak = c.peak_macs_per_s * stats.mean_s
    return LayerRow(
        name=layer.name, op=layer.op, macs=layer.macs * plan.batch, compute_cycles=array,
        vector_cycles=vector, dram_bytes=traffic.dram, sram_bytes=traffic.sram,
        compute_time_s=core_s, memory_time_s=memory_s, time_s=stats.mean_s,
        time_s_uncontended=quiet.layers[i].mean_s, time_s_best=stats.best_s,
        time_s_worst=stats.worst_s, bound="memory" if memory_s > core_s else "compute",
        utilization=plan.macs[i] / peak if peak > 0 else 0.0,
        energy_j=plan.layer_energy[i].total + en.static_power_w(hw) * stats.mean_s,
        dataflow=_dataflow(c, layer, plan.batch, array), precision=c.precision,
        converted_elems=plan.conversions[i] * plan.batch, **_memory_fields(traffic))


def group_utilization(rows: list[LayerRow], plan: BatchPlan, fused: list[bool]) -> list[LayerRow]:
    """A fused group's layers run interleaved, tile by tile, over the whole group's time
    (fusion.py), so each one's utilization is its MACs over the array's peak for that time; the
    group's rows share its time in proportion, which would show an array layer faster than the
    array (up to 197 % on npu_v1 x resnet50_1440). Summed over a group, they give the array's."""
    out = list(rows)
    for first, last in fusion.groups(fused):
        group_s = sum(r.time_s for r in rows[first:last + 1])
        for i in range(first, last + 1):
            peak = plan.computes[i].peak_macs_per_s * group_s
            out[i] = replace(rows[i], utilization=plan.macs[i] / peak if peak > 0 else 0.0)
    return out


def _dataflow(c: Compute, layer: Layer, batch: int, array_cycles: int) -> str:
    if not array_cycles:
        return ""
    return dataflow_for(c, layer_gemm(layer, batch, storage_sparsity(c), skipped_share(c)))


def _memory_fields(t: Traffic) -> dict[str, Any]:
    return {"weight_dram_bytes": t.weight_dram, "input_dram_bytes": t.in_dram,
            "output_dram_bytes": t.out_dram, "weights_resident": t.resident,
            "output_spilled": t.spilled, "tiling": t.order, "refetch_bytes": t.refetch,
            "sram_peak_bytes": t.sram_peak}


def memory_totals(hw: Hardware, p: Placement) -> dict[str, Any]:
    """The SRAM plan in a profile's totals: what stays on chip, what spilled, what was tiled."""
    return {"sram_bytes_per_engine": hw.memory.sram_bytes, "sram_peak_bytes": p.sram_peak,
            "resident_weight_bytes": p.resident_bytes,
            "streamed_weight_bytes": p.weight_bytes - p.resident_bytes,
            "activation_arena_bytes": p.arena_bytes, "tile_buffer_bytes": p.buffer_bytes,
            "spilled_layers": list(p.spilled),
            "tiled_layers": [n for n, t in zip(p.names, p.layers) if t.order != "untiled"],
            "refetch_bytes": sum(t.refetch for t in p.layers),
            "sparsity_stored": sparsity_note(hw.compute)}


def _precision_counts(plan: BatchPlan) -> dict[str, int]:
    """How many layers run at each precision (one entry unless the workload mixes them)."""
    counts: dict[str, int] = {}
    for c in plan.computes:
        counts[c.precision] = counts.get(c.precision, 0) + 1
    return counts


def _contention(timing: Timing, lo: Leftover, timed: Timed, quiet: Timed) -> dict[str, Any]:
    t = timed.total
    return {"mode": timing.mode, "start_s": timing.start_s,
            "hyperperiod_s": None if lo.constant else lo.period_s,
            "time_s_uncontended": quiet.total.mean_s, "time_s_best": t.best_s,
            "time_s_worst": t.worst_s, "best_start_s": t.best_start_s,
            "worst_start_s": t.worst_start_s}


def totals(hw: Hardware, plan: BatchPlan, rows: list[LayerRow],
           layers: tuple[Layer, ...]) -> dict[str, Any]:
    time_s = sum(r.time_s for r in rows)
    memory_s = sum(r.time_s for r in rows if r.bound == "memory")
    parts = en.breakdown(hw, plan.warm_energy, time_s)
    energy_j = sum(parts.values())
    executed = sum(plan.macs)
    # PE-cycles used over PE-cycles available: each layer's MACs at its own precision's rate
    pe_cycles = sum(m / c.rate for m, c in zip(plan.macs, plan.computes))
    peak = hw.compute.array_rows * hw.compute.array_cols * hw.compute.clock_hz * time_s
    return {
        "system": hw.name, "batch": plan.batch, "engines": hw.compute.engines,
        "macs": sum(r.macs for r in rows), "executed_macs": executed,
        "compute_cycles": sum(r.compute_cycles for r in rows),
        "vector_cycles": sum(r.vector_cycles for r in rows),
        "dram_bytes": sum(r.dram_bytes for r in rows), "sram_bytes": sum(r.sram_bytes for r in rows),
        "time_s": time_s, "samples_per_s": hw.compute.engines * plan.batch / time_s if time_s else 0.0,
        "bound": "memory" if memory_s > time_s / 2 else "compute",
        "memory_bound_time_fraction": memory_s / time_s if time_s else 0.0,
        "utilization": pe_cycles / peak if peak else 0.0,
        "energy_j": energy_j, "energy_per_sample_j": energy_j / plan.batch,
        "breakdown_j": parts, "tops_per_w": en.tops_per_w(sum(r.macs for r in rows), energy_j),
        "weights_resident": plan.placement.resident, "weight_bytes": plan.placement.weight_bytes,
        "cold_start_dram_bytes": plan.cold_dram_bytes - plan.warm_dram_bytes,
        **memory_totals(hw, plan.placement),
        "layer_precisions": _precision_counts(plan),
        "unmodeled_layers": [{"name": layer.name, "op": layer.unmodeled,
                              "approximation": "its output elements of vector work, no MACs"}
                             for layer in layers if layer.op == "other"],
    }


def build(hw: Hardware, workload_name: str, layers: tuple[Layer, ...], plan: BatchPlan,
          lo: Leftover, quiet_lo: Leftover, timing: Timing) -> Profile:
    """The profile of one warm batch (`plan`) on an engine alone: lo with the masters,
    quiet_lo without them."""
    db = hw.memory.double_buffering
    quiet = time_phases(plan.warm, quiet_lo, db, Timing("none"))
    timed = quiet if timing.mode == "none" else time_phases(plan.warm, lo, db, timing)
    rows = [layer_row(hw, layer, plan, i, timed, quiet) for i, layer in enumerate(layers)]
    if hw.compute.fused_overlap:
        rows = group_utilization(rows, plan, fused_edges(layers, hw.memory.fusion))
    total = totals(hw, plan, rows, layers)
    total["contention"] = _contention(timing, quiet_lo if timing.mode == "none" else lo, timed, quiet)
    return Profile(system=hw.name, workload=workload_name, batch=plan.batch, layers=tuple(rows),
                   total=total)
