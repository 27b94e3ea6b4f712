"""The accelerator model: (hardware, workload) -> per-layer profile, and per-batch service times.

    model = AcceleratorModel(hardware, workload)
    model.profile(batch=1)                 # Profile: per-layer rows + totals, no contention
    model.profile(batch=1, start_s=0.004)  # the same with the masters' contention from t = 4 ms
    model.service(batch, start_s, engine)  # Service: one engine, one batch, with contention

`service` is what the load generator calls for every batch. Each batch size gets, on first
use, a table of its phases (per layer: compute seconds and DRAM bytes) and from it an exact
ServiceTable (start phase -> duration, see timeline.py), so a call is a bisect and a multiply.
When the weights are resident, an engine's first batch (cold: weights not yet loaded) is
simulated layer by layer, later batches (warm) use the table; `reset()` forgets warm engines.
Pass the engine's index (0 .. engines-1) so each engine's first batch is the cold one.

Energy: `Service.energy_j` = the batch's dynamic energy (`dynamic_j`: mac, sram, dram) + the
busy engine's share of the static power x its duration (`static_j`). For a whole run, use
sum(dynamic_j) + hardware.energy.static_w x run duration: static power burns while idle too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import NamedTuple

from harness.accel import energy as en
from harness.accel import fusion
from harness.accel.compute import (core_cycles, executed_macs, layer_cycles, layer_gemm, skipped_share,
                                   storage_sparsity)
from harness.accel.config import Compute, Hardware
from harness.accel.mixed import check_energy, computes, conversion_ops
from harness.accel.contention import Leftover, best_effort_shares, engine_bandwidth
from harness.accel.dram_cost import npu_cost
from harness.accel.lifetimes import fused_edges
from harness.accel.memory import Placement, Traffic, place
from harness.accel.profile import Profile, Timing, build
from harness.accel.timeline import Phase, ServiceTable, simulate
from harness.workloads.model import Layer, Workload


class Service(NamedTuple):
    """One batch on one engine (immutable; a tuple because it is made ~a million times a run)."""

    duration_s: float
    energy_j: float
    dram_bytes: float
    dynamic_j: en.Dynamic     # mac, sram, dram joules
    static_j: float

    @property
    def breakdown_j(self) -> dict[str, float]:
        d = self.dynamic_j
        return {"mac": d.mac, "sram": d.sram, "dram": d.dram, "static": self.static_j}


@dataclass(frozen=True)
class BatchPlan:
    """Everything about one batch size that does not depend on when it starts."""

    batch: int
    placement: Placement
    compute_s: tuple[float, ...]      # per layer: max(array/vector time, SRAM time)
    cycles: tuple[tuple[int, int], ...]  # per layer: (array cycles, vector cycles)
    macs: tuple[int, ...]             # executed MACs per layer
    warm: tuple[Phase, ...]
    cold: tuple[Phase, ...]
    warm_energy: en.Dynamic
    cold_energy: en.Dynamic
    layer_energy: tuple[en.Dynamic, ...] = field(repr=False)
    computes: tuple[Compute, ...] = field(default=(), repr=False)  # per layer, at its precision
    conversions: tuple[int, ...] = ()  # per layer: elements per sample converted from another precision

    @cached_property  # read for every batch a run serves
    def warm_dram_bytes(self) -> float:
        return sum(ph.moved for ph in self.warm)

    @cached_property
    def cold_dram_bytes(self) -> float:
        return sum(ph.moved for ph in self.cold)


def _phase(hw: Hardware, compute_s: float, t: Traffic, cold: bool) -> Phase:
    """A layer's phase: its DRAM bytes in DRAM time, by its read/write mix (dram_cost.py)."""
    reads = t.weight_dram + t.in_dram + (t.cold_weight_dram if cold else 0.0)
    return Phase(compute_s, npu_cost(hw.memory, reads, t.out_dram), reads + t.out_dram)


def plan_batch(hw: Hardware, workload: Workload, batch: int) -> BatchPlan:
    return plan_layers(hw, workload.layers, batch)


def plan_layers(hw: Hardware, layers: tuple[Layer, ...], batch: int,
                exported: tuple[bool, ...] = ()) -> BatchPlan:
    """One engine running `layers` on a batch; `exported`: outputs later engines read (DRAM)."""
    placement = place(layers, hw, batch, exported)
    cs = computes(hw.compute, layers)
    converts = conversion_ops(layers, cs)
    cycles, macs, compute_s, energies = [], [], [], []
    for layer, traffic, c, convert in zip(layers, placement.layers, cs, converts):
        gemm = layer_gemm(layer, batch, storage_sparsity(c), skipped_share(c))
        cyc = layer_cycles(c, layer, batch, gemm, convert)
        cycles.append(cyc)
        macs.append(executed_macs(gemm))
        compute_s.append(max(core_cycles(*cyc) / c.clock_hz, traffic.sram / hw.memory.sram_bytes_per_s))
        vector_ops = (layer.vector_ops + convert) * batch
        energies.append(en.dynamic(hw, macs[-1], vector_ops, traffic.sram, traffic.dram, c.precision))
    if hw.compute.fused_overlap:
        compute_s = fusion.overlap(compute_s, layers, fused_edges(layers, hw.memory.fusion), batch)
    return assemble(hw, batch, placement, compute_s, cycles, macs, energies, cs, converts)


def assemble(hw: Hardware, batch: int, placement: Placement, compute_s, cycles, macs,
             energies, computes, conversions) -> BatchPlan:
    """A BatchPlan from its per-layer parts: the warm and cold phases and energy totals."""
    warm = tuple(_phase(hw, s, t, cold=False) for s, t in zip(compute_s, placement.layers))
    cold = tuple(_phase(hw, s, t, cold=True) for s, t in zip(compute_s, placement.layers))
    cold_extra = sum(t.cold_weight_dram for t in placement.layers)
    warm_energy = sum(energies, en.ZERO)
    cold_energy = warm_energy + en.dynamic(hw, 0, 0, cold_extra, cold_extra)
    return BatchPlan(batch, placement, tuple(compute_s), tuple(cycles), tuple(macs), warm, cold,
                     warm_energy, cold_energy, tuple(energies), tuple(computes), tuple(conversions))


class AcceleratorModel:
    """An NPU running one workload. Not thread-safe: it caches per-batch tables."""

    def __init__(self, hardware: Hardware, workload: Workload):
        from harness.accel import schedules

        check_energy(hardware, workload)
        self.physical = hardware                       # what the plans are made for
        self.schedule = hardware.compute.schedule
        self.hardware = schedules.serving_hardware(hardware)  # what serves: split engines act as one
        self.workload = workload
        self.cuts = schedules.pipeline_cuts(hardware, workload) if self.schedule == "pipeline" else ()
        self._schedules: dict[int, schedules.SchedulePlan] = {}
        self.leftover: Leftover = engine_bandwidth(hardware.memory)
        self._plans: dict[int, BatchPlan] = {}
        self._tables: dict[int, ServiceTable] = {}
        self._entries: dict[int, tuple] = {}
        self._warm: set[int] = set()
        self._static_w = en.static_power_w(hardware)

    @property
    def engines(self) -> int:
        return self.hardware.compute.engines

    @property
    def max_batch(self) -> int:
        return self.hardware.batching.max_batch

    @property
    def timeout_s(self) -> float:
        return self.hardware.batching.timeout_s

    def plan(self, batch: int) -> BatchPlan:
        """One batch as one engine (or the split engines acting as one) runs it; a pipeline's
        stages in turn (its latency)."""
        if batch not in self._plans:
            if batch < 1:
                raise ValueError(f"batch must be >= 1, got {batch}")
            if self.schedule == "independent":
                self._plans[batch] = plan_batch(self.hardware, self.workload, batch)
            else:
                self._plans[batch] = self.scheduled(batch).merged
        return self._plans[batch]

    def scheduled(self, batch: int):
        """The schedule's plan of one batch (schedules.SchedulePlan; not for "independent")."""
        if batch not in self._schedules:
            from harness.accel.schedules import plan_schedule

            self._schedules[batch] = plan_schedule(self.physical, self.workload, batch, self.cuts)
        return self._schedules[batch]

    def run_plans(self) -> list[BatchPlan]:
        """What the engines run, in plan order: per batch size 1..max_batch its plan, or a
        pipeline's stages of it (plan_index finds one)."""
        if self.schedule != "pipeline":
            return [self.plan(b) for b in range(1, self.max_batch + 1)]
        return [s.plan for b in range(1, self.max_batch + 1) for s in self.scheduled(b).stages]

    def plan_index(self, engine: int, samples: int) -> int:
        """Which of run_plans a batch of `samples` on `engine` runs."""
        if self.schedule != "pipeline":
            return samples - 1
        return (samples - 1) * len(self.cuts) + engine

    def table(self, batch: int) -> ServiceTable:
        if batch not in self._tables:
            self._tables[batch] = ServiceTable(self.plan(batch).warm, self.leftover,
                                               self.hardware.memory.double_buffering)
        return self._tables[batch]

    def reset(self) -> None:
        """Forget which engines hold the weights (a new run starts cold)."""
        self._warm.clear()

    def duration_s(self, batch: int, start_s: float) -> float:
        """Warm service time only: the fastest path for callers that need just the time."""
        return self.table(batch).duration(start_s)

    def _entry(self, batch: int) -> tuple:
        plan = self.plan(batch)
        entry = (self.table(batch), plan.warm_energy, plan.warm_energy.total, plan.warm_dram_bytes,
                 plan.placement.resident)
        self._entries[batch] = entry
        return entry

    def service(self, batch: int, start_s: float, engine: int = 0) -> Service:
        """One warm or cold batch of `batch` samples on `engine`, starting at `start_s`."""
        entry = self._entries.get(batch) or self._entry(batch)
        table, dyn, dyn_total, dram, resident = entry
        if resident and engine not in self._warm:
            return self._cold(batch, start_s, engine)
        duration = table.duration(start_s)
        static = self._static_w * duration
        return Service(duration, dyn_total + static, dram, dyn, static)

    def _cold(self, batch: int, start_s: float, engine: int) -> Service:
        """The first batch on an engine also loads the resident weights (simulated exactly)."""
        plan = self.plan(batch)
        self._warm.add(engine)
        end = simulate(plan.cold, self.leftover, start_s, self.hardware.memory.double_buffering)
        static = self._static_w * (end - start_s)
        return Service(end - start_s, plan.cold_energy.total + static, plan.cold_dram_bytes,
                       plan.cold_energy, static)

    def saturation_samples_per_s(self) -> float:
        """Samples/s no run can exceed: every engine busy with warm batches at its fastest start
        phase (an engine sharing the DRAM is never faster than alone), and the engines' DRAM
        traffic within the most bandwidth the masters ever leave them; at the best batch size
        for each bound."""
        hw, sizes = self.hardware, range(1, self.max_batch + 1)
        compute = max(self.engines * b / self.table(b).fastest_s() for b in sizes)
        dram_s = max(n * engine_bandwidth(hw.memory, n).mean_bytes_per_s for n in range(1, self.engines + 1))
        moved = {b: sum(ph.dram_bytes for ph in self.plan(b).warm) for b in sizes}
        dram = max(dram_s * b / moved[b] if moved[b] > 0 else math.inf for b in sizes)
        return min(compute, dram)

    def starving_masters(self) -> list[dict]:
        """Best-effort masters that get less DRAM bandwidth than they ask for."""
        return [{"name": s.name, "demanded_bytes_per_s": s.demanded_bytes_per_s,
                 "served_bytes_per_s": s.served_bytes_per_s,
                 "min_served_fraction": s.min_served_fraction}
                for s in best_effort_shares(self.hardware.memory) if s.starving]

    def profile(self, batch: int = 1, start_s: float | None = None, masters: bool = True) -> Profile:
        """Per-layer figures of one warm batch on one engine alone: under the masters averaged
        over every start phase (default), from `start_s` on, or with no masters at all."""
        quiet = engine_bandwidth(replace(self.hardware.memory, masters=()))
        profile = build(self.physical, self.workload.name, self.workload.layers, self.plan(batch),
                        self.leftover, quiet, Timing.of(start_s, masters))
        if self.schedule == "independent":
            return profile
        from harness.accel.schedules import with_schedule

        return with_schedule(profile, self.physical, self.scheduled(batch), self.leftover)
