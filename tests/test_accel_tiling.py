"""Tiling a layer whose weights and input both stream from DRAM: refetch counts by hand.

The reasoning is ZigZag's temporal mapping of a GEMM (M x K) @ (K x N) onto a two-level memory
(DRAM above an on-chip block of `buffer / 2` bytes), which SCALE-Sim's DRAM model shares for a
finite SRAM: the operand held on chip is read from DRAM once; the other is read once per block
of it (its loop sits inside the block loop). With K kept whole, each output is written once.
"""

import pytest

from harness.accel import AcceleratorModel, load_hardware
from harness.accel.memory import place
from harness.accel.tiling import tile
from harness.workloads.model import Layer, Workload

KIB = 1024


def hardware(sram_bytes, resident=True):
    return load_hardware({
        "name": "t", "adapter": "accelerator",
        "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                    "engines": 1, "precision": "int8"},
        "memory": {"sram_bytes": sram_bytes, "dram_bytes_per_s": 10e9, "dram_efficiency": 1.0,
                   "weights_resident": resident},
        "energy": {"pj_per_mac": {"int8": 0.2}, "sram_pj_per_byte": 1.0,
                   "dram_pj_per_byte": 20.0, "static_w": 0.5}}, "t.toml")


def fc(m, k, n):
    return Layer("fc", "matmul", m=m, n=n, k=k, weights=k * n, in_elems=m * k, out_elems=m * n)


@pytest.mark.parametrize("w,i,buffer,expected", [
    # 4 MiB of weights, 128 KiB of input, 64 KiB buffer (32 KiB blocks): weights outer would
    # re-read the input 128 times (4 MiB + 128 x 128 KiB = 20 MiB); inputs outer re-reads the
    # weights 4 times (128 KiB + 4 x 4 MiB): cheaper
    (4 * 1024 * KIB, 128 * KIB, 64 * KIB, (4 * 4 * 1024 * KIB, 128 * KIB, 2)),
    # 64 KiB of weights, 1 MiB of input: 2 weight blocks, the input read twice (2 MiB + 64 KiB)
    # beats 32 input blocks each re-reading the weights (1 MiB + 32 x 64 KiB = 3 MiB)
    (64 * KIB, 1024 * KIB, 64 * KIB, (64 * KIB, 2 * 1024 * KIB, 1)),
    # both fit a block: read once, untiled
    (16 * KIB, 16 * KIB, 64 * KIB, (16 * KIB, 16 * KIB, 0)),
    # resident weights (0 streamed) or input on chip (0 read): nothing re-read
    (0, 1024 * KIB, 64 * KIB, (0, 1024 * KIB, 0)),
    (4 * 1024 * KIB, 0, 64 * KIB, (4 * 1024 * KIB, 0, 0)),
])
def test_the_cheaper_loop_order_and_its_refetches(w, i, buffer, expected):
    got = tile(float(w), float(i), float(buffer))
    assert (float(got[0]), float(got[1]), int(got[2])) == expected


def test_a_fully_connected_layer_larger_than_sram_is_tiled_inputs_outer():
    """64 KiB of SRAM, nothing resident fits: the planner's best buffer is the whole 64 KiB,
    so the layer costs exactly the first hand-computed case plus its 128 KiB output."""
    layer = fc(64, 2048, 2048)
    p = place((layer,), hardware(64 * KIB), 1)
    t = p.layers[0]
    assert p.buffer_bytes == 64 * KIB and not t.resident
    assert (t.order, t.weight_dram, t.in_dram, t.out_dram) == (
        "inputs_outer", 4 * 4 * 1024 * KIB, 128 * KIB, 128 * KIB)
    assert t.refetch == 3 * 4 * 1024 * KIB


def test_a_layer_with_a_large_input_and_small_weights_is_tiled_weights_outer():
    layer = fc(4096, 256, 256)
    t = place((layer,), hardware(64 * KIB), 1).layers[0]
    assert (t.order, t.weight_dram, t.in_dram, t.refetch) == (
        "weights_outer", 64 * KIB, 2 * 1024 * KIB, 1024 * KIB)
    # with room for the weights beside a 64 KiB buffer they stay resident: nothing is re-read
    roomy = place((layer,), hardware(128 * KIB), 1).layers[0]
    assert (roomy.resident, roomy.order, roomy.in_dram, roomy.refetch) == (
        True, "untiled", 1024 * KIB, 0.0)


def test_the_profile_reports_tiling_and_spills_per_layer():
    profile = AcceleratorModel(hardware(64 * KIB), Workload("w", "w", layers=(fc(64, 2048, 2048),))).profile(1)
    row = profile.layers[0].as_dict()
    assert (row["tiling"], row["refetch_bytes"], row["weights_resident"]) == (
        "inputs_outer", 3 * 4 * 1024 * KIB, False)
    assert row["dram_bytes"] == row["weight_dram_bytes"] + row["input_dram_bytes"] + row["output_dram_bytes"]
    total = profile.total
    assert total["tiled_layers"] == ["fc"] and total["sram_peak_bytes"] <= 64 * KIB
    assert total["refetch_bytes"] == 3 * 4 * 1024 * KIB


@pytest.mark.parametrize("w,i,double,expected", [
    # a 50 KiB input fits one block of 64 - 4 KiB: nothing to prefetch, the weights are read once
    (2304 * KIB, 50 * KIB, True, (2304 * KIB, 50 * KIB, 0)),
    # a 70 KiB input does not: blocks of half the buffer with double buffering (3 passes) ...
    (2304 * KIB, 70 * KIB, True, (3 * 2304 * KIB, 70 * KIB, 2)),
    # ... or of the buffer less the reserve without it (2 passes)
    (2304 * KIB, 70 * KIB, False, (2 * 2304 * KIB, 70 * KIB, 2)),
])
def test_one_block_takes_the_buffer_less_the_reserve(w, i, double, expected):
    got = tile(float(w), float(i), 64.0 * KIB, 4.0 * KIB, double)
    assert (float(got[0]), float(got[1]), int(got[2])) == expected
