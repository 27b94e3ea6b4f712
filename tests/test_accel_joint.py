"""Engines sharing one DRAM at every instant (harness.accel.joint): exact cases by hand, agreement
with the single-engine ServiceTable, and the timeline's invariants."""

import random

import numpy as np
import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.accel.joint import JointDram, fluid_phases
from harness.accel.timeline import Phase
from harness.accel.traffic import _left, best_effort_bytes_until, npu_bytes_until, segments
from harness.workloads import load_workload
from harness.workloads.model import Layer, Workload

GB = 1e9


def hardware(engines=2, masters=(), double_buffering=True, **memory):
    return load_hardware({
        "name": "t", "adapter": "accelerator",
        "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                    "engines": engines, "precision": "int8"},
        "memory": {"sram_bytes": 1 << 20, "dram_bytes_per_s": 10 * GB, "dram_efficiency": 1.0,
                   "mixed_efficiency": 1.0,  # sharing alone: writes cost what reads do
                   "double_buffering": double_buffering, "masters": list(masters), **memory},
        "energy": {"pj_per_mac": {"int8": 0.2}, "sram_pj_per_byte": 1.0, "dram_pj_per_byte": 20.0,
                   "static_w": 0.5},
        "batching": {"max_batch": 2}}, "t.toml")


def master(name, bytes_per_s, duty=1.0, period_s=0.001, priority="realtime"):
    return {"name": name, "bytes_per_s": bytes_per_s, "period_s": period_s, "duty": duty,
            "priority": priority}


# 4 MB of streamed weights, ~4k MACs: memory-bound at any bandwidth
MEMORY_BOUND = Layer("fc", "matmul", m=1, n=2000, k=2000, weights=4_000_000, in_elems=2000,
                     out_elems=2000)
COMPUTE_BOUND = Layer("conv", "conv", m=3136, n=64, k=576, weights=36_864, in_elems=3136 * 64,
                      out_elems=3136 * 64)


def joint(layers, **kw):
    model = AcceleratorModel(hardware(**kw), Workload("w", "w", layers=tuple(layers)))
    return JointDram(model), model


def with_phases(dram, plans):
    """Replace the plans' phases with hand-written ones (plan i: a list of (compute_s, bytes))."""
    c, d, first = [], [], [0]
    for phases in plans:
        c.extend(p[0] for p in phases)
        d.extend(p[1] for p in phases)
        first.append(len(c))
    dram.phases = (np.array(c, dtype=float), np.array(d, dtype=float), np.array(first),
                   np.ones(len(c)))
    return dram


def test_a_memory_bound_layer_alone_gets_the_whole_leftover():
    dram, model = joint([MEMORY_BOUND], masters=[master("camera", 4 * GB)])
    nbytes = model.plan(1).warm_dram_bytes
    engine, end = dram.begin(0, 0, 0.0)
    assert (engine, end) == (0, pytest.approx(nbytes / (6 * GB), rel=1e-12))


def test_two_identical_memory_bound_batches_together_take_twice_as_long():
    dram, _ = joint([MEMORY_BOUND], masters=[master("camera", 4 * GB, duty=0.5)])
    alone = dram.begin(0, 0, 0.0)[1]
    dram.end(0, alone)
    t0 = 0.01  # a whole number of camera periods later: the same contention pattern
    dram.begin(0, 0, t0)
    engine, end = dram.begin(1, 0, t0)
    assert engine == 0 and end - t0 == pytest.approx(2 * alone, rel=1e-12)  # both move the same bytes each step
    assert dram.end(0, end) == (1, end)


def test_a_compute_bound_layer_is_unchanged_by_masters_and_by_the_other_engine():
    quiet, model = joint([COMPUTE_BOUND])
    alone = quiet.begin(0, 0, 0.0)[1]
    busy, _ = joint([COMPUTE_BOUND], masters=[master("camera", 2 * GB)])  # 4 GB/s each:
    busy.begin(0, 0, 0.0)                          # 401 kB in 0.1 ms < 0.116 ms of compute
    assert busy.begin(1, 0, 0.0)[1] == alone == pytest.approx(model.plan(1).compute_s[0])


def test_an_engine_that_finishes_early_hands_its_share_over_at_that_instant():
    # 10 GB/s, no master. A moves 1 MB, B 3 MB, both from 0, no compute: 5 GB/s each until A
    # is done at 0.2 ms (B has moved 1 MB), then B alone at 10 GB/s for 2 MB: 0.4 ms (a static
    # half each would end B at 0.6 ms).
    dram = with_phases(joint([MEMORY_BOUND])[0], [[(0.0, 1e6)], [(0.0, 3e6)]])
    assert dram.begin(0, 0, 0.0) == (0, pytest.approx(1e-4, rel=1e-12))
    engine, end = dram.begin(1, 1, 0.0)
    assert (engine, end) == (0, pytest.approx(2e-4, rel=1e-12))
    assert dram.end(0, end) == (1, pytest.approx(4e-4, rel=1e-12))


def test_a_later_start_slows_a_running_transfer_from_that_instant():
    # A moves 4 MB from 0 alone at 10 GB/s; B starts at 0.1 ms with 4 MB: A has 3 MB left,
    # both at 5 GB/s; A ends at 0.1 + 0.6 ms, then B's last 1 MB at 10 GB/s: 0.8 ms.
    dram = with_phases(joint([MEMORY_BOUND])[0], [[(0.0, 4e6)]])
    assert dram.begin(0, 0, 0.0) == (0, pytest.approx(4e-4))
    engine, end = dram.begin(1, 0, 1e-4)
    assert (engine, end) == (0, pytest.approx(7e-4, rel=1e-12))
    assert dram.end(0, end) == (1, pytest.approx(8e-4, rel=1e-12))


def test_compute_overlaps_the_transfer_only_with_double_buffering():
    phases = [[(3e-4, 1e6), (1e-4, 2e6)]]  # 0.1 ms and 0.2 ms of transfer alone at 10 GB/s
    db = with_phases(joint([MEMORY_BOUND])[0], phases)
    assert db.begin(0, 0, 0.0)[1] == pytest.approx(3e-4 + 2e-4)
    serial = with_phases(joint([MEMORY_BOUND], double_buffering=False)[0], phases)
    assert serial.begin(0, 0, 0.0)[1] == pytest.approx(1e-4 + 3e-4 + 2e-4 + 1e-4)


@pytest.mark.parametrize("double_buffering", [True, False])
def test_one_busy_engine_agrees_with_the_service_table(double_buffering):
    layers = [COMPUTE_BOUND, MEMORY_BOUND, COMPUTE_BOUND]
    masters = [master("camera", 1.7 * GB, duty=0.9, period_s=1 / 30),
               master("display", 2 * GB, duty=0.96, period_s=1 / 60),
               master("isp", 0.6 * GB, duty=0.3, period_s=0.0025),
               master("gpu", 1 * GB, duty=0.5, period_s=0.004, priority="best_effort")]
    # weights streamed: no batch is a cold start, each is the warm table's
    dram, model = joint(layers, masters=masters, double_buffering=double_buffering,
                        weights_resident=False)
    rng, now = random.Random(3), 0.0
    for _ in range(300):
        batch, engine = rng.randint(1, 2), rng.randint(0, 1)
        now += rng.uniform(0, 0.05)
        _, end = dram.begin(engine, dram.plan_id(engine, batch), now)
        table = model.table(batch).duration(now)
        assert end - now == pytest.approx(table, rel=1e-9)
        dram.end(engine, end)
        now = end


def drive(dram, rng, steps):
    """Random starts on idle engines, each end taken when the simulation says; the last instant."""
    busy, after, now = set(), None, 0.0
    for _ in range(steps):
        start_at = now + rng.uniform(0, 4e-4)
        if after and after[1] <= start_at:
            now = after[1]
            busy.discard(after[0])
            after = dram.end(after[0], now)
            continue
        now = start_at
        idle = [e for e in (0, 1) if e not in busy]
        if idle:
            busy.add(idle[0])
            after = dram.begin(idle[0], dram.plan_id(idle[0], rng.randint(1, 2)), now)
    return now


def test_the_npu_never_takes_more_than_the_masters_leave():
    masters = [master("camera", 3 * GB, duty=0.5, period_s=0.003),
               master("gpu", 2 * GB, duty=0.5, period_s=0.002, priority="best_effort")]
    dram, model = joint([COMPUTE_BOUND, MEMORY_BOUND], masters=masters)
    now = drive(dram, random.Random(5), 400)
    _, counts, _ = segments(dram)
    assert counts.max() == 2  # both engines did move data at once
    edges = np.linspace(0.0, now, 20_001)
    width = np.diff(edges)
    npu = np.diff(npu_bytes_until(dram, edges)) / width
    gpu = np.diff(best_effort_bytes_until(dram, 0, edges)) / width
    left = np.diff(_left(dram).cumulative_many(edges)) / width
    assert npu.max() > 0.5 * left.max() and np.all(npu + gpu <= left * (1 + 1e-9))



def test_a_warm_resnet50_batch_steps_ten_phases_not_seventy_two():
    model = AcceleratorModel(load_hardware(catalog.resolve("systems", "npu_v2"), "npu_v2"),
                             load_workload("resnet50"))
    c, d, first, _ = JointDram(model).phases
    warm = model.plan(1).warm
    assert (len(warm), first[1] - first[0]) == (72, 10)
    assert not np.any((d[1:first[1]] <= 0) & (d[:first[1] - 1] <= 0))   # no two compute-only in a row
    assert c[:first[1]].sum() == pytest.approx(sum(p.compute_s for p in warm), rel=1e-12)


@pytest.mark.parametrize("double_buffering", [True, False])
def test_compute_only_layers_in_a_row_are_one_phase_with_the_same_batch_ends(double_buffering):
    layers = [(1e-4, 1e6), (5e-5, 0.0), (7e-5, 0.0), (3e-5, 0.0), (1e-4, 2e6), (2e-5, 0.0),
              (4e-5, 0.0), (6e-5, 3e5), (1e-5, 0.0)]
    merged = fluid_phases([Phase(c, d) for c, d in layers])
    assert [d for _, d, _ in merged] == [1e6, 0.0, 2e6, 0.0, 3e5, 0.0]
    masters = [master("camera", 1.7 * GB, duty=0.9, period_s=1 / 30),
               master("gpu", 1 * GB, duty=0.5, period_s=0.004, priority="best_effort")]
    ends = []
    for plan in (layers, [(c, d) for c, d, _ in merged]):
        dram = with_phases(joint([MEMORY_BOUND], masters=masters, double_buffering=double_buffering)[0],
                           [plan, plan])
        ends.append(_drive(dram, seed=5))   # the same starts on two engines sharing the DRAM
    assert len(ends[0]) == len(ends[1]) > 40
    assert [e for e, _ in ends[0]] == [e for e, _ in ends[1]]
    assert [t for _, t in ends[0]] == pytest.approx([t for _, t in ends[1]], rel=1e-12)


def _drive(dram, seed):
    """Batches of one sample started at random instants on whichever of two engines is free,
    as the serving pool drives the DRAM: (engine, end) of every batch, in order."""
    rng, now, upcoming, busy, ends = random.Random(seed), 0.0, None, set(), []
    for _ in range(100):
        start = now + rng.uniform(0, 1e-3)   # batches of about 1 ms: often both engines busy
        while upcoming is not None and upcoming[1] <= start:
            engine, now = upcoming
            busy.discard(engine)
            ends.append(upcoming)
            upcoming = dram.end(engine, now)
        now = start
        free = [e for e in (0, 1) if e not in busy]
        if free:
            busy.add(free[0])
            upcoming = dram.begin(free[0], dram.plan_id(free[0], 1), now)
    return ends
