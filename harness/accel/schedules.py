"""One batch over several engines: `compute.schedule` (what each schedule costs: README).

* "independent" (the default): each engine serves its own batches (model.plan_batch); a batch
  never uses more than one engine.
* "pipeline": the layers are cut into contiguous groups, one per engine (stage s on engine s);
  each engine's SRAM holds only its stage's weights and activations (memory.place per stage).
  A tensor read across a cut is written to DRAM by its producer and read back by its readers.
  The cuts minimise the slowest stage's time (without masters) at `batching.max_batch`, and
  are the same for every batch size (a compiler places the weights once): found by bisecting
  each cut between the stage times before it (rising) and after it (falling). A batch's
  latency is the sum of its stages; a new batch may enter every slowest-stage time.
* "split_batch": every engine runs every layer on its share of the batch's samples (as even as
  possible; a batch smaller than the engines leaves some idle). Weights are replicated: each
  engine keeps its own resident copy and streams the rest itself.
* "split_spatial": every engine runs a slice of every layer. An image layer ([C, H, W] output
  with at least one row per engine) is split by output rows; a conv's slice reads the input
  rows its window covers, (rows - 1) x stride + filter_h less padding, so the rows beyond the
  producer's own slice on that engine (the halo) move through DRAM (the neighbour writes them,
  the reader reads them back: both counted in the reading layer); weights are replicated.
  Pooling and element-wise slices read their share of the input (a pooling window's halo is
  not counted). Any other layer is split by output features
  (weights partitioned, each engine reads the whole input). Where consecutive layers split
  differently, or after a feature split, the producer writes its output to DRAM and the
  readers read what they need.

The split schedules are layer-synchronous: a layer ends when its slowest slice does. The run
sees the engines as one: per layer, the slowest engine's compute and every engine's DRAM bytes
(`Stage` rows keep each engine's own). Moving all engines' bytes through one requester of the
fluid DRAM model is exact while they request together and `dram_share_per_engine` = 1 (the
sharing is work-conserving); with a cap below 1 the group is capped at min(1, engines x cap),
an approximation listed in the profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Callable

from harness.accel import energy as en
from harness.accel import fusion
from harness.accel import lifetimes as lt
from harness.accel.config import Hardware
from harness.accel.contention import engine_bandwidth
from harness.accel.memory import Placement, Traffic
from harness.accel.model import BatchPlan, assemble, plan_layers
from harness.accel.timeline import simulate
from harness.errors import config_error
from harness.workloads.model import Layer, Workload

SPLITS = ("split_batch", "split_spatial")


@dataclass(frozen=True)
class Stage:
    """What one engine runs of a batch: layers first..last (pipeline) or a slice of all."""

    engine: int
    first: int
    last: int
    plan: BatchPlan


@dataclass(frozen=True)
class SchedulePlan:
    name: str
    batch: int
    stages: tuple[Stage, ...]
    merged: BatchPlan              # the whole batch as the profile and the run see it
    notes: tuple[str, ...] = ()    # approximations and layers not split


def quiet_time(hw: Hardware, plan: BatchPlan) -> float:
    """A plan's seconds on an engine alone, without masters."""
    lo = engine_bandwidth(replace(hw.memory, masters=()))
    return simulate(plan.warm, lo, 0.0, hw.memory.double_buffering)


# ---------------------------------------------------------------- pipeline


def last_readers(layers: tuple[Layer, ...]) -> list[int]:
    """Per layer, the index of the last layer reading its output (-1: none)."""
    last = [-1] * len(layers)
    for reader, srcs in enumerate(lt.producers(layers)):
        for p in srcs:
            if p is not None:
                last[p] = max(last[p], reader)
    return last


def stage_plan(hw: Hardware, layers: tuple[Layer, ...], first: int, end: int, batch: int) -> BatchPlan:
    """Layers first..end-1 on one engine; outputs read at or after `end` go to DRAM."""
    last = last_readers(layers)
    exported = tuple(last[i] >= end for i in range(first, end))
    return plan_layers(hw, layers[first:end], batch, exported)


def partition(cost: Callable[[int, int], float], n: int, k: int) -> tuple[int, ...]:
    """Start indices of k contiguous non-empty groups of n layers that minimise the slowest
    group's cost(i, j) (layers i..j-1), bisecting each cut (exact when a group's cost rises
    with its layers; both neighbours of the crossing are compared)."""
    @cache
    def best(groups: int, end: int) -> tuple[float, tuple[int, ...]]:
        if groups == 1:
            return cost(0, end), (0,)
        lo, hi = groups - 1, end - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if best(groups - 1, mid)[0] < cost(mid, end):
                lo = mid + 1
            else:
                hi = mid
        options = [i for i in (lo - 1, lo) if groups - 1 <= i <= end - 1]
        return min((max(best(groups - 1, i)[0], cost(i, end)), best(groups - 1, i)[1] + (i,))
                   for i in options)

    return best(k, n)[1]


def pipeline_cuts(hw: Hardware, workload: Workload) -> tuple[int, ...]:
    layers, k = workload.layers, hw.compute.engines
    if len(layers) < k:
        raise config_error(hw.source, "compute.schedule", "pipeline",
                           f"needs at least one layer per engine: {workload.name} has "
                           f"{len(layers)} layer(s) for {k} engines")
    if hw.compute.pipeline_cuts:
        return stated_cuts(hw, workload)
    batch = hw.batching.max_batch
    times: dict[tuple[int, int], float] = {}

    def cost(i: int, j: int) -> float:
        if (i, j) not in times:
            times[i, j] = quiet_time(hw, stage_plan(hw, layers, i, j, batch))
        return times[i, j]

    return partition(cost, len(layers), k)


def stated_cuts(hw: Hardware, workload: Workload) -> tuple[int, ...]:
    """compute.pipeline_cuts as layer indices: engines - 1 names, in layer order."""
    names, k = hw.compute.pipeline_cuts, hw.compute.engines
    index = {layer.name: i for i, layer in enumerate(workload.layers)}
    found = [index.get(n, -1) for n in names]
    if len(names) != k - 1 or -1 in found or found != sorted(set(found)) or 0 in found:
        raise config_error(hw.source, "compute.pipeline_cuts", list(names),
                           f"must name {k - 1} layer(s) of {workload.name}, in layer order, the first "
                           f"layer of stages 2..{k} (not the first layer)")
    return (0, *found)


def pipeline(hw: Hardware, workload: Workload, batch: int, cuts: tuple[int, ...]) -> SchedulePlan:
    layers = workload.layers
    ends = cuts[1:] + (len(layers),)
    stages = tuple(Stage(e, i, j - 1, stage_plan(hw, layers, i, j, batch))
                   for e, (i, j) in enumerate(zip(cuts, ends)))
    how = ("cuts stated by compute.pipeline_cuts" if hw.compute.pipeline_cuts else
           f"cuts balance the stage times at batch {hw.batching.max_batch} (batching.max_batch)")
    return SchedulePlan("pipeline", batch, stages, in_turn(hw, batch, [s.plan for s in stages]), (how,))


def in_turn(hw: Hardware, batch: int, plans: list[BatchPlan]) -> BatchPlan:
    """Plans run one after another, concatenated layer by layer."""
    def cat(field: str) -> list:
        return [x for p in plans for x in getattr(p, field)]

    placement = Placement(
        weight_bytes=sum(p.placement.weight_bytes for p in plans),
        resident_bytes=sum(p.placement.resident_bytes for p in plans),
        arena_bytes=max(p.placement.arena_bytes for p in plans),
        buffer_bytes=max(p.placement.buffer_bytes for p in plans),
        layers=tuple(t for p in plans for t in p.placement.layers),
        names=tuple(n for p in plans for n in p.placement.names))
    return assemble(hw, batch, placement, cat("compute_s"), cat("cycles"), cat("macs"),
                    cat("layer_energy"), cat("computes"), cat("conversions"))


# ---------------------------------------------------------------- split schedules


def shares(total: int, k: int) -> list[int]:
    """`total` split over k engines as evenly as possible (the first ones take the extra)."""
    return [total // k + (e < total % k) for e in range(k)]


def side_by_side(hw: Hardware, batch: int, plans: list[BatchPlan]) -> BatchPlan:
    """Plans run at once, layer by layer: the slowest engine's time, every engine's bytes."""
    count = len(plans[0].compute_s)
    compute_s = [max(p.compute_s[i] for p in plans) for i in range(count)]
    cycles = [tuple(max(p.cycles[i][c] for p in plans) for c in (0, 1)) for i in range(count)]
    macs = [sum(p.macs[i] for p in plans) for i in range(count)]
    energies = [sum((p.layer_energy[i] for p in plans[1:]), plans[0].layer_energy[i])
                for i in range(count)]
    rows = tuple(_traffic_sum([p.placement.layers[i] for p in plans]) for i in range(count))
    placement = Placement(
        weight_bytes=sum(p.placement.weight_bytes for p in plans),
        resident_bytes=sum(p.placement.resident_bytes for p in plans),
        arena_bytes=max(p.placement.arena_bytes for p in plans),
        buffer_bytes=max(p.placement.buffer_bytes for p in plans),
        layers=rows, names=plans[0].placement.names)
    return assemble(hw, batch, placement, compute_s, cycles, macs, energies, plans[0].computes,
                    plans[0].conversions)


def _traffic_sum(rows: list[Traffic]) -> Traffic:
    tiled = [t.order for t in rows if t.order != "untiled"]
    return Traffic(weight_dram=sum(t.weight_dram for t in rows), in_dram=sum(t.in_dram for t in rows),
                   out_dram=sum(t.out_dram for t in rows), sram=sum(t.sram for t in rows),
                   cold_weight_dram=sum(t.cold_weight_dram for t in rows),
                   resident=all(t.resident for t in rows), spilled=any(t.spilled for t in rows),
                   order=tiled[0] if tiled else "untiled", refetch=sum(t.refetch for t in rows),
                   sram_peak=max(t.sram_peak for t in rows))


def split_batch(hw: Hardware, workload: Workload, batch: int) -> SchedulePlan:
    counts = [b for b in shares(batch, hw.compute.engines) if b > 0]
    plans = [plan_layers(hw, workload.layers, b) for b in counts]
    stages = tuple(Stage(e, 0, len(workload.layers) - 1, p) for e, p in enumerate(plans))
    notes = () if len(counts) == hw.compute.engines else (
        f"batch {batch} < {hw.compute.engines} engines: {hw.compute.engines - len(counts)} idle",)
    return SchedulePlan("split_batch", batch, stages, side_by_side(hw, batch, plans), notes)


def split_spatial(hw: Hardware, workload: Workload, batch: int) -> SchedulePlan:
    k, layers = hw.compute.engines, workload.layers
    modes = [_mode(layer, k) for layer in layers]
    plans, halos = [], []
    for e in range(k):
        sliced, halo = zip(*(_slice(layers, modes, i, e, k) for i in range(len(layers))))
        plan = plan_layers(hw, tuple(sliced), batch, _exported(layers, modes))
        halos.append([h * batch * hw.compute.element_bytes for h in halo])
        plans.append(_with_halo(hw, plan, halos[-1]))
    stages = tuple(Stage(e, 0, len(layers) - 1, p) for e, p in enumerate(plans))
    by_features = [layer.name for layer, m in zip(layers, modes) if m == "features"]
    notes = (f"split by output features (weights partitioned): {', '.join(by_features)}",) if by_features else ()
    return SchedulePlan("split_spatial", batch, stages, side_by_side(hw, batch, plans), notes)


def _mode(layer: Layer, k: int) -> str:
    image = len(layer.out_shape) == 3 and layer.op != "matmul"
    return "rows" if image and fusion.rows(layer) >= k else "features"


def _gathers(layers: tuple[Layer, ...], modes: list[str], i: int) -> bool:
    """Whether layer i reads its inputs from DRAM: a producer split differently, or by features."""
    srcs = lt.producers(layers)[i]
    return any(p is not None and (modes[p] != modes[i] or modes[p] == "features") for p in srcs)


def _exported(layers: tuple[Layer, ...], modes: list[str]) -> tuple[bool, ...]:
    out = [False] * len(layers)
    for i in range(len(layers)):
        if _gathers(layers, modes, i):
            for p in lt.producers(layers)[i]:
                if p is not None:
                    out[p] = True
    return tuple(out)


def _slice(layers: tuple[Layer, ...], modes: list[str], i: int, e: int, k: int) -> tuple[Layer, float]:
    """Engine e's slice of layer i and the halo elements it reads from its neighbours."""
    layer, gathers = layers[i], _gathers(layers, modes, i)
    inputs = layer.inputs or ((layers[i - 1].name,) if i else ("",))
    if gathers:
        inputs = tuple("" for _ in inputs)  # read from DRAM, as the workload input is
    layer = replace(layer, inputs=inputs, fused=layer.fused and not gathers)
    if modes[i] == "features":
        return _by_features(layer, e, k), 0.0
    first = lt.producers(layers)[i][0]
    producer = layers[first] if first is not None else None
    return _by_rows(layer, e, k, producer, halo_from_chip=not gathers)


def _part(value: int, share: int, whole: int) -> int:
    return value * share // whole


def _row_range(rows: int, k: int, e: int) -> tuple[int, int]:
    """Engine e's output rows [first, end)."""
    share = shares(rows, k)
    return sum(share[:e]), sum(share[:e + 1])


def _by_features(layer: Layer, e: int, k: int) -> Layer:
    n = layer.n if layer.n > 0 else layer.out_elems
    share = shares(n, k)[e]
    return replace(layer, n=_part(layer.n, share, n), weights=_part(layer.weights, share, n),
                   out_elems=_part(layer.out_elems, share, n), vector_ops=_part(layer.vector_ops, share, n),
                   in_elems=layer.in_elems if layer.weights or layer.n else _part(layer.in_elems, share, n))


def _by_rows(layer: Layer, e: int, k: int, producer: Layer | None,
             halo_from_chip: bool) -> tuple[Layer, float]:
    rows = fusion.rows(layer)
    r0, r1 = _row_range(rows, k, e)
    in_elems, conv, halo = math.ceil(layer.in_elems * (r1 - r0) / rows), layer.conv, 0.0
    if conv and producer is not None and len(producer.out_shape) == 3:
        # ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride (padded ifmap)
        channels, height, width = producer.out_shape
        stride, pad = conv[6], max(0, (conv[0] - height) // 2)
        lo, hi = max(0, r0 * stride - pad), min(height, (r1 - 1) * stride - pad + conv[2])
        in_elems = (hi - lo) * channels * width
        conv = ((r1 - 1 - r0) * stride + conv[2], *conv[1:])
        if halo_from_chip:  # the producer's rows on this engine are on chip; the rest are not
            p0, p1 = _row_range(height, k, e)
            halo = float((hi - lo - max(0, min(hi, p1) - max(lo, p0))) * channels * width)
    shape = (layer.out_shape[0], r1 - r0, layer.out_shape[2])
    sliced = replace(layer, m=_part(layer.m, r1 - r0, rows), out_elems=_part(layer.out_elems, r1 - r0, rows),
                     vector_ops=_part(layer.vector_ops, r1 - r0, rows), in_elems=in_elems, conv=conv,
                     out_shape=shape)
    return sliced, halo


def _with_halo(hw: Hardware, plan: BatchPlan, halo_bytes: list[float]) -> BatchPlan:
    """Halo rows written by a neighbour and read back: both in the reading layer's bytes."""
    if not any(halo_bytes):
        return plan
    rows = tuple(replace(t, in_dram=t.in_dram + h, out_dram=t.out_dram + h, sram=t.sram + 2 * h)
                 for t, h in zip(plan.placement.layers, halo_bytes))
    energies = [e + en.dynamic(hw, 0, 0, 2 * h, 2 * h) for e, h in zip(plan.layer_energy, halo_bytes)]
    return assemble(hw, plan.batch, replace(plan.placement, layers=rows), plan.compute_s,
                    plan.cycles, plan.macs, energies, plan.computes, plan.conversions)


# ---------------------------------------------------------------- entry point


def plan_schedule(hw: Hardware, workload: Workload, batch: int,
                  cuts: tuple[int, ...] | None = None) -> SchedulePlan:
    """The schedule's plan of one batch (`cuts`: a pipeline's, pipeline_cuts by default)."""
    name = hw.compute.schedule
    if name == "pipeline":
        return pipeline(hw, workload, batch, cuts or pipeline_cuts(hw, workload))
    if name == "split_batch":
        return split_batch(hw, workload, batch)
    if name == "split_spatial":
        return split_spatial(hw, workload, batch)
    raise ValueError(f"no multi-engine plan for schedule {name!r}")


def serving_hardware(hw: Hardware) -> Hardware:
    """The hardware the run serves on: split engines act as one engine with all their static
    power (they idle and wake together) and the DRAM share of them all."""
    if hw.compute.schedule not in SPLITS:
        return hw
    k, m, e = hw.compute.engines, hw.memory, hw.energy
    return replace(hw, compute=replace(hw.compute, engines=1),
                   memory=replace(m, dram_share_per_engine=min(1.0, k * m.dram_share_per_engine)),
                   energy=replace(e, engine_static_w=k * e.engine_static_w, wakeup_j=k * e.wakeup_j))


# ---------------------------------------------------------------- the profile's schedule section


def with_schedule(profile, hw: Hardware, splan: SchedulePlan, lo):
    """The profile of a scheduled batch, its totals carrying the schedule (`schedule` key);
    lo: one engine's bandwidth under the masters."""
    rows, total = profile.layers, dict(profile.total)
    if splan.name in SPLITS:
        rows = tuple(replace(r, utilization=r.utilization / hw.compute.engines) for r in rows)
        total["utilization"] /= hw.compute.engines
    section = _section(hw, splan, rows, total, lo)
    total["engines"] = hw.compute.engines
    total["samples_per_s"] = section["samples_per_s"]
    total["schedule"] = section
    return replace(profile, layers=rows, total=total)


def _section(hw: Hardware, splan: SchedulePlan, rows, total: dict, lo) -> dict:
    stages, latency = [], total["time_s"]
    at = 0
    for s in splan.stages:
        count = s.last - s.first + 1
        time_s = (sum(r.time_s for r in rows[at:at + count]) if splan.name == "pipeline"
                  else quiet_time(hw, s.plan))
        at += count if splan.name == "pipeline" else 0
        stages.append(_stage_row(hw, splan, s, time_s))
    dram_s = total["dram_bytes"] / lo.mean_bytes_per_s
    if splan.name == "pipeline":
        slowest = max(st["time_s"] for st in stages)
        interval, bound = max(slowest, dram_s), "slowest stage" if slowest >= dram_s else "DRAM"
    else:
        interval, bound = latency, "whole batch"
    return {"name": splan.name, "engines": hw.compute.engines, "stages": stages,
            "latency_s": latency, "interval_s": interval, "interval_bound": bound,
            "samples_per_s": splan.batch / interval if interval > 0 else 0.0,
            "dram_bytes_per_sample": total["dram_bytes"] / splan.batch,
            "dram_time_s": dram_s, "notes": list(splan.notes) + _approximations(hw, splan)}


def _stage_row(hw: Hardware, splan: SchedulePlan, s: Stage, time_s: float) -> dict:
    p = s.plan.placement
    return {"engine": s.engine, "first_layer": p.names[0], "last_layer": p.names[-1],
            "layers": len(p.names), "time_s": time_s,
            "time_kind": "under the masters, alone" if splan.name == "pipeline" else "uncontended",
            "dram_bytes": sum(t.dram for t in p.layers), "resident_weight_bytes": p.resident_bytes,
            "streamed_weight_bytes": p.weight_bytes - p.resident_bytes, "sram_peak_bytes": p.sram_peak,
            "sram_bytes": hw.memory.sram_bytes}


def _approximations(hw: Hardware, splan: SchedulePlan) -> list[str]:
    notes = []
    if splan.name == "pipeline":
        notes.append("stage times each with the DRAM alone; the interval is at least the batch's "
                     "DRAM bytes at the NPU's mean bandwidth (bench run simulates the sharing)")
    elif hw.memory.dram_share_per_engine < 1.0:
        notes.append(f"the split engines share one DRAM cap of min(1, engines x "
                     f"{hw.memory.dram_share_per_engine:g}) (exact at a cap of 1)")
    return notes
