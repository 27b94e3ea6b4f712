"""On-chip memory allocation: tensor lifetimes, the static offset plan, and DRAM bytes that never
rise as SRAM grows (every shipped workload, a dense sweep of sizes, and random graphs)."""

import math

import pytest
import numpy as np

from harness import catalog
from harness.accel import load_hardware
from harness.accel import lifetimes as lt
from harness.accel.memory import place
from harness.workloads import load_workload
from harness.workloads.model import Layer

KIB, MIB = 1024, 1 << 20


def test_lifetimes_run_from_producer_to_last_memory_reader():
    layers = (Layer("a", "conv", out_elems=100), Layer("b", "conv", out_elems=50),
              Layer("c", "conv", out_elems=50, fused=True),
              Layer("d", "eltwise", out_elems=50, inputs=("c", "a")))
    srcs = lt.producers(layers)
    fused = lt.fused_edges(layers, fusion=True)
    reads = lt.readers(srcs, fused)
    assert reads == [[1, 3], [], [3], []]        # b -> c is fused: b's output needs no memory
    assert lt.tensors([100, 50, 50, 50], reads) == [lt.Tensor(0, 100, 0, 3), lt.Tensor(2, 50, 2, 3)]
    assert lt.readers(srcs, lt.fused_edges(layers, fusion=False))[1] == [2]


def test_disjoint_lifetimes_share_addresses_and_overlapping_ones_do_not():
    """A chain x0 -> x1 -> x2 -> x3 with a skip from x0 to the last step."""
    live = [lt.Tensor(0, 100, 0, 3), lt.Tensor(1, 60, 1, 2), lt.Tensor(2, 60, 2, 3),
            lt.Tensor(3, 30, 3, 4)]
    placed = lt.allocate(live)
    assert [t.offset for t in placed] == [0, 100, 160, 100]   # x3 reuses x1's space
    assert max(t.end for t in placed) == 220                   # peak: x0 + x1 + x2 at step 2
    assert lt.high_water(placed, 220, 5) == [100, 160, 220, 220, 130]
    assert lt.high_water(placed, 160, 5) == [100, 160, 160, 130, 130]  # x2 spilled


def test_a_hole_left_by_a_dead_tensor_is_reused_first_fit():
    live = [lt.Tensor(0, 50, 0, 1), lt.Tensor(1, 80, 0, 3), lt.Tensor(2, 40, 2, 3)]
    placed = lt.allocate(live)
    assert [t.offset for t in placed] == [80, 0, 80]


SYSTEMS = ("npu_v1", "npu_v2")
SIZES = [int(64 * KIB * 2 ** (k / 4)) for k in range(0, 4 * 10 + 1)]   # 64 KiB .. 64 MiB


@pytest.mark.parametrize("workload", catalog.names("workloads"))
@pytest.mark.parametrize("batch", [1, 8])
def test_dram_bytes_never_rise_as_sram_grows(workload, batch):
    layers = load_workload(workload).layers
    for system in SYSTEMS:
        hw = load_hardware(catalog.resolve("systems", system), system)
        last = math.inf
        for size in SIZES:
            p = place(layers, _with_sram(hw, size), batch)
            dram = sum(t.dram for t in p.layers)
            assert dram <= last, (system, size)
            assert p.sram_peak <= size
            last = dram


def _with_sram(hw, size):
    from dataclasses import replace
    return replace(hw, memory=replace(hw.memory, sram_bytes=size))


def test_resnet50_on_one_npu_v2_engine_keeps_what_fits():
    """The issue's figures: all-or-nothing gave 25.71 MB at 10 and 24 MiB, 0.15 MB at 28 MiB."""
    layers = load_workload("resnet50").layers
    hw = load_hardware(catalog.resolve("systems", "npu_v2"), "npu_v2")
    dram = {mib: sum(t.dram for t in place(layers, _with_sram(hw, mib * MIB), 1).layers)
            for mib in (10, 16, 24, 28)}
    assert dram == {10: 17230288.0, 16: 11382736.0, 24: 2511848.0, 28: 151528.0}


def random_graph(rng):
    """A random chain with skips: sizes, weights and fused flags."""
    layers = []
    for i in range(int(rng.integers(2, 10))):
        skip = int(rng.integers(0, i - 1)) if i > 1 and rng.random() < 0.5 else None
        inputs = (layers[i - 1].name, layers[skip].name) if skip is not None else ()
        layers.append(Layer(f"l{i}", "conv", m=4, n=4, k=4, weights=int(rng.integers(0, 40_000)),
                            in_elems=1000, out_elems=int(rng.integers(1, 60_000)),
                            fused=bool(rng.random() < 0.3) and skip is None and i > 0,
                            inputs=inputs))
    return tuple(layers)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_never_move_more_dram_with_more_sram(seed):
    rng = np.random.default_rng(seed)
    layers, batch = random_graph(rng), int(rng.integers(1, 5))
    hw = load_hardware(catalog.resolve("systems", "npu_v1"), "npu_v1")
    last = math.inf
    for size in range(8 * KIB, 512 * KIB, 4 * KIB):
        p = place(layers, _with_sram(hw, size), batch)
        dram = sum(t.dram for t in p.layers)
        assert dram <= last and p.sram_peak <= size, size
        last = dram
