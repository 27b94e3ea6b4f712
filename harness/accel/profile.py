"""Per-layer profile rows and totals (what `bench profile` prints).

Without a start time a layer's DRAM transfer runs at the engine's share of the usable DRAM
bandwidth with no other master; with one, each layer is timed under the masters' contention
from that instant on. `bound` is "memory" when the DRAM (or SRAM) transfer takes longer than
the array and vector work, and for the whole batch when memory-bound layers take most of the
time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from harness.accel import energy as en
from harness.accel.compute import core_cycles
from harness.accel.config import Hardware
from harness.accel.contention import Leftover
from harness.accel.timeline import Phase, simulate
from harness.workloads.model import Layer

if TYPE_CHECKING:
    from harness.accel.model import BatchPlan


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
    bound: str
    utilization: float
    energy_j: float

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


def _memory_time(hw: Hardware, dram: float, lo: Leftover, start: float | None) -> float:
    if start is not None:
        return lo.finish(start, dram) - start
    return dram / (hw.memory.usable_dram_bytes_per_s * hw.memory.dram_share_per_engine)


def _layer_time(hw: Hardware, compute_s: float, dram: float, memory_s: float, lo: Leftover,
                start: float | None) -> float:
    db = hw.memory.double_buffering
    if start is not None:
        return simulate((Phase(compute_s, dram),), lo, start, db) - start
    return max(compute_s, memory_s) if db else compute_s + memory_s


def layer_row(hw: Hardware, layer: Layer, plan: BatchPlan, i: int, lo: Leftover,
              start: float | None) -> LayerRow:
    traffic = plan.placement.layers[i]
    array, vector = plan.cycles[i]
    core_s = core_cycles(array, vector) / hw.compute.clock_hz
    memory_s = _memory_time(hw, traffic.dram, lo, start)
    sram_s = traffic.sram / hw.memory.sram_bytes_per_s
    time_s = _layer_time(hw, plan.compute_s[i], traffic.dram, memory_s, lo, start)
    peak = hw.compute.peak_macs_per_s * time_s
    return LayerRow(
        name=layer.name, op=layer.op, macs=layer.macs * plan.batch, compute_cycles=array,
        vector_cycles=vector, dram_bytes=traffic.dram, sram_bytes=traffic.sram,
        compute_time_s=core_s, memory_time_s=max(memory_s, sram_s), time_s=time_s,
        bound="memory" if max(memory_s, sram_s) > core_s else "compute",
        utilization=plan.macs[i] / peak if peak > 0 else 0.0,
        energy_j=plan.layer_energy[i].total + en.static_power_w(hw) * time_s)


def totals(hw: Hardware, plan: BatchPlan, rows: list[LayerRow]) -> dict[str, Any]:
    time_s = sum(r.time_s for r in rows)
    memory_s = sum(r.time_s for r in rows if r.bound == "memory")
    parts = en.breakdown(hw, plan.warm_energy, time_s)
    energy_j = sum(parts.values())
    executed = sum(plan.macs)
    peak = hw.compute.peak_macs_per_s * time_s
    return {
        "system": hw.name, "batch": plan.batch, "engines": hw.compute.engines,
        "macs": sum(r.macs for r in rows), "executed_macs": executed,
        "compute_cycles": sum(r.compute_cycles for r in rows),
        "vector_cycles": sum(r.vector_cycles for r in rows),
        "dram_bytes": sum(r.dram_bytes for r in rows), "sram_bytes": sum(r.sram_bytes for r in rows),
        "time_s": time_s, "samples_per_s": hw.compute.engines * plan.batch / time_s if time_s else 0.0,
        "bound": "memory" if memory_s > time_s / 2 else "compute",
        "memory_bound_time_fraction": memory_s / time_s if time_s else 0.0,
        "utilization": executed / peak if peak else 0.0,
        "energy_j": energy_j, "energy_per_sample_j": energy_j / plan.batch,
        "breakdown_j": parts, "tops_per_w": en.tops_per_w(executed, energy_j),
        "weights_resident": plan.placement.resident, "weight_bytes": plan.placement.weight_bytes,
        "cold_start_dram_bytes": plan.cold_dram_bytes - plan.warm_dram_bytes,
    }
