"""Contention from other bus masters: exact transfer times, exact service-time tables."""

import math
import random

import pytest

from harness.accel import AcceleratorModel, load_hardware
from harness.accel.contention import engine_bandwidth, water_fill
from harness.accel.timeline import Phase, ServiceTable, simulate
from harness.workloads.model import Layer, Workload

GB = 1e9


def hardware(masters=(), **memory):
    return load_hardware({
        "name": "t", "adapter": "accelerator",
        "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                    "engines": 1, "precision": "int8"},
        "memory": {"sram_bytes": 1 << 20, "dram_bytes_per_s": 10 * GB, "dram_efficiency": 1.0,
                   "mixed_efficiency": 1.0, "masters": list(masters), **memory},
        "energy": {"pj_per_mac": {"int8": 0.2}, "sram_pj_per_byte": 1.0, "dram_pj_per_byte": 20.0,
                   "static_w": 0.5}}, "t.toml")


def master(name, bytes_per_s, duty=1.0, period_s=0.001, priority="realtime"):
    return {"name": name, "bytes_per_s": bytes_per_s, "period_s": period_s, "duty": duty,
            "priority": priority}


# FC layer at batch 1: 4 MB of weights (streamed: they exceed the 1 MiB SRAM), ~4k MACs/cycle
MEMORY_BOUND = Layer("fc", "matmul", m=1, n=2000, k=2000, weights=4_000_000, in_elems=2000,
                     out_elems=2000)
# 3x3 conv: 37 kB of weights, 115 M MACs
COMPUTE_BOUND = Layer("conv", "conv", m=3136, n=64, k=576, weights=36_864, in_elems=3136 * 64,
                      out_elems=3136 * 64)


def model(layer, masters=()):
    return AcceleratorModel(hardware(masters), Workload("w", "w", layers=(layer,)))


def test_half_the_bandwidth_doubles_a_memory_bound_layer():
    alone = model(MEMORY_BOUND).service(1, 0.0)
    shared = model(MEMORY_BOUND, [master("camera", 5 * GB)]).service(1, 0.0)
    assert model(MEMORY_BOUND).profile().layers[0].bound == "memory"
    assert shared.duration_s == pytest.approx(2 * alone.duration_s, rel=1e-12)


def test_half_the_bandwidth_leaves_a_compute_bound_layer_alone():
    alone = model(COMPUTE_BOUND).service(1, 0.0)
    shared = model(COMPUTE_BOUND, [master("camera", 5 * GB)]).service(1, 0.0)
    assert model(COMPUTE_BOUND).profile().layers[0].bound == "compute"
    assert shared.duration_s == alone.duration_s


def test_duty_cycled_master_slows_a_long_layer_by_its_average_share():
    big = Layer("fc", "matmul", m=1, n=20_000, k=20_000, weights=400_000_000)
    alone = model(big).service(1, 0.0).duration_s  # 40 ms at 10 GB/s
    camera = master("camera", 4 * GB, duty=0.5, period_s=0.001)  # 8 GB/s half the time
    slowed = model(big, [camera]).service(1, 0.0).duration_s
    assert slowed == pytest.approx(alone * 10 / 6, rel=0.02)  # 6 GB/s left on average
    # exactly: 66 periods move 396 MB, then 1 MB in 0.5 ms at 2 GB/s, 3 MB in 0.3 ms at 10 GB/s
    assert slowed == pytest.approx(0.066 + 0.0005 + 0.0003, rel=1e-9)


def test_start_time_matters_for_a_short_memory_bound_layer():
    camera = master("camera", 4 * GB, duty=0.5, period_s=0.01)  # 8 of 10 GB/s for 5 ms
    m = model(MEMORY_BOUND, [camera])
    # 4 MB of weights streamed once past the 2 KB input held in one tile block (it was re-read
    # once per 512 KiB weight-buffer load before SRAM was planned: + 14,000 B), the output once
    nbytes = m.plan(1).warm_dram_bytes
    assert nbytes == 4_000_000 + 2000 + 2000
    busy = m.service(1, 0.0).duration_s       # at 2 GB/s: 2 ms, inside the active part
    idle = m.service(1, 0.006).duration_s     # at 10 GB/s: 0.4 ms
    assert busy == pytest.approx(nbytes / 2e9, rel=1e-9)
    assert idle == pytest.approx(nbytes / 10e9, rel=1e-9)
    straddle = m.service(1, 0.0045).duration_s  # 0.5 ms at 2 GB/s moves 1 MB, rest at 10 GB/s
    assert straddle == pytest.approx(0.0005 + (nbytes - 1e6) / 10e9, rel=1e-9)


def test_leftover_integration_is_exact():
    lo = engine_bandwidth(hardware([master("a", 3 * GB, duty=0.6, period_s=0.003),
                                    master("b", 1 * GB, duty=0.25, period_s=0.002)]).memory)
    assert lo.period_s == pytest.approx(0.006)
    assert lo.mean_bytes_per_s == pytest.approx(6 * GB)
    for t, nbytes in [(0.0, 1e6), (0.0011, 5e7), (12.3456, 3e3), (0.0059999, 1e9)]:
        end = lo.finish(t, nbytes)
        assert lo.cumulative(end) - lo.cumulative(t) == pytest.approx(nbytes, rel=1e-9)


PHASES = tuple(Phase(c, d) for c, d in [(1e-4, 2e5), (3e-4, 0), (2e-5, 9e5), (5e-4, 4e6),
                                        (1e-6, 1e5), (2e-4, 3e6)])


@pytest.mark.parametrize("double_buffering", [True, False])
def test_service_table_equals_exact_simulation(double_buffering):
    hw = hardware([master("camera", 1.7 * GB, duty=0.9, period_s=1 / 30),
                   master("display", 2 * GB, duty=0.96, period_s=1 / 60),
                   master("isp", 0.6 * GB, duty=0.3, period_s=0.0025)])
    lo = engine_bandwidth(hw.memory)
    table = ServiceTable(PHASES, lo, double_buffering)
    rng = random.Random(7)
    for _ in range(500):
        start = rng.uniform(0, 10)
        exact = simulate(PHASES, lo, start, double_buffering) - start
        assert table.duration(start) == pytest.approx(exact, rel=1e-9, abs=1e-15)


def test_service_table_is_a_constant_without_duty_cycled_masters():
    lo = engine_bandwidth(hardware([master("camera", 2 * GB)]).memory)
    table = ServiceTable(PHASES, lo, True)
    assert table.constant == pytest.approx(simulate(PHASES, lo, 0.0, True))


@pytest.mark.parametrize("capacity,demands,greedy,cap,npu,grants", [
    (10, [], 1, math.inf, 10, []),
    (10, [2], 1, math.inf, 8, [2]),
    (10, [8], 1, math.inf, 5, [5]),
    (12, [2, 8, 8], 1, math.inf, 10 / 3, [2, 10 / 3, 10 / 3]),
    (10, [0, 3], 1, math.inf, 7, [0, 3]),
    (10, [3], 2, math.inf, 3.5, [3]),        # two engines and a master asking 3 of 10
    (10, [8], 2, math.inf, 10 / 3, [10 / 3]),
    (10, [8], 1, 2.0, 2, [8]),               # a capped engine leaves the rest to the master
    (10, [], 3, 2.0, 2, []),                 # three capped engines leave 4 unused
])
def test_water_fill(capacity, demands, greedy, cap, npu, grants):
    level, granted = water_fill(capacity, demands, greedy, cap)
    assert level == pytest.approx(npu) and granted == pytest.approx(grants)


def test_starving_best_effort_master_is_reported():
    hw = hardware([master("camera", 4 * GB),
                   master("gpu", 6 * GB, priority="best_effort"),
                   master("dsp", 1 * GB, priority="best_effort")])
    m = AcceleratorModel(hw, Workload("w", "w", layers=(MEMORY_BOUND,)))
    starving = m.starving_masters()
    assert [s["name"] for s in starving] == ["gpu"]
    assert starving[0]["served_bytes_per_s"] == pytest.approx(2.5 * GB)  # (6 - 1) / 2
    assert m.leftover.mean_bytes_per_s == pytest.approx(2.5 * GB)


def test_profile_with_a_start_time_times_layers_under_contention():
    camera = master("camera", 2 * GB, duty=0.5, period_s=0.01)  # 4 of 10 GB/s while active
    m = AcceleratorModel(hardware([camera]), Workload("w", "w", layers=(COMPUTE_BOUND,
                                                                       MEMORY_BOUND)))
    quiet = m.profile(1, masters=False)
    busy = m.profile(1, start_s=0.0)
    assert busy.total["time_s"] == pytest.approx(m.service(1, 0.0).duration_s, rel=1e-12)
    assert busy.layers[0].time_s == quiet.layers[0].time_s       # compute-bound: unchanged
    assert busy.layers[1].time_s == pytest.approx(quiet.layers[1].time_s * 10 / 6, rel=1e-9)


def test_engines_share_the_leftover_and_best_effort_masters_take_their_part():
    hw = hardware([master("camera", 2 * GB), master("gpu", 1 * GB, priority="best_effort")],
                  dram_share_per_engine=0.5)
    alone = engine_bandwidth(hw.memory)      # capped at half of the 8 GB/s the camera leaves
    assert alone.constant and alone.mean_bytes_per_s == pytest.approx(4 * GB)
    two = engine_bandwidth(hw.memory, 2)     # the gpu's 1 GB/s, then (8 - 1) / 2 each
    assert two.mean_bytes_per_s == pytest.approx(3.5 * GB)
    three = engine_bandwidth(hw.memory, 3)   # max-min: 8 / 4 each, the gpu asks for less
    assert three.mean_bytes_per_s == pytest.approx(7 * GB / 3)
