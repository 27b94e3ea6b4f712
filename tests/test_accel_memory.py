"""What stays on chip: resident weights, activation spills, fusion, double buffering, sparsity."""

import pytest

from harness.accel import AcceleratorModel, load_hardware
from harness.accel.memory import place, weight_bytes
from harness.workloads.model import Layer, Workload

MB = 1 << 20


def hardware(compute=None, **memory):
    return load_hardware({
        "name": "t", "adapter": "accelerator",
        "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                    "engines": 2, "precision": "int8", **(compute or {})},
        "memory": {"sram_bytes": 4 * MB, "dram_bytes_per_s": 10e9, "dram_efficiency": 1.0,
                   "dram_share_per_engine": 1.0, **memory},
        "energy": {"pj_per_mac": {"int8": 0.2, "fp16": 1.0}, "sram_pj_per_byte": 1.0,
                   "dram_pj_per_byte": 20.0, "static_w": 0.5}}, "t.toml")


def conv(name, hw_px, cin, cout, fused=False, inputs=()):
    px = hw_px * hw_px
    return Layer(name, "conv", m=px, n=cout, k=9 * cin, weights=9 * cin * cout,
                 in_elems=px * cin, out_elems=px * cout, fused=fused, inputs=inputs)


SMALL = Workload("small", "small", layers=(conv("a", 14, 64, 64), conv("b", 14, 64, 64)))


def test_resident_weights_load_once_per_engine():
    m = AcceleratorModel(hardware(), SMALL)
    weights = 2 * 9 * 64 * 64
    cold = m.service(1, 0.0, engine=0)
    warm = m.service(1, 1.0, engine=0)
    assert m.plan(1).placement.resident
    assert cold.dram_bytes - warm.dram_bytes == weights
    assert m.service(1, 2.0, engine=1).dram_bytes == cold.dram_bytes  # engine 1 starts cold
    assert m.service(1, 3.0, engine=1).dram_bytes == warm.dram_bytes
    m.reset()
    assert m.service(1, 4.0, engine=0).dram_bytes == cold.dram_bytes
    assert cold.duration_s >= warm.duration_s


def test_weights_stay_resident_layer_by_layer_as_far_as_they_fit():
    """64 KiB: a's output (12,544 B arena) + a 4 KiB tile buffer + one layer's 36,864 B of
    weights fit, both layers' 73,728 B do not: a (the first of two equal sizes) stays, b streams."""
    m = AcceleratorModel(hardware(sram_bytes=64 * 1024), SMALL)
    p = m.plan(1).placement
    assert [(t.resident, t.weight_dram) for t in p.layers] == [(True, 0.0), (False, 36864.0)]
    assert (p.resident_bytes, p.arena_bytes, p.buffer_bytes) == (36864.0, 12544.0, 4096.0)
    assert [t.dram for t in p.layers] == [12544.0, 36864.0 + 12544.0]  # input in, b's w + output
    first, second = m.service(1, 0.0), m.service(1, 1.0)
    assert first.dram_bytes - second.dram_bytes == 36864.0   # a cold start loads a's weights
    assert p.sram_peak == 12544 + 4096 + 36864 <= 64 * 1024


def test_weights_stream_every_batch_when_no_layer_fits():
    m = AcceleratorModel(hardware(sram_bytes=32 * 1024), SMALL)
    first, second = m.service(1, 0.0), m.service(1, 1.0)
    assert not m.plan(1).placement.resident
    assert first.dram_bytes == second.dram_bytes
    assert all(t.weight_dram == 9 * 64 * 64 for t in m.plan(1).placement.layers)


def test_weights_resident_can_be_switched_off():
    m = AcceleratorModel(hardware(weights_resident=False), SMALL)
    assert not m.plan(1).placement.resident


def test_activations_spill_when_the_arena_cannot_hold_them():
    big = Workload("big", "big", layers=(conv("a", 112, 64, 64), conv("b", 112, 64, 64)))
    acts = 112 * 112 * 64  # 802,816 B per tensor at int8
    fits = place(big.layers, hardware(), 1)
    assert [t.in_dram for t in fits.layers] == [acts, 0]       # workload input, then on chip
    assert [t.out_dram for t in fits.layers] == [0, acts]       # only the workload output leaves
    spills = place(big.layers, hardware(sram_bytes=512 * 1024), 1)  # a's output alone > SRAM
    assert [t.in_dram for t in spills.layers] == [acts, acts]
    assert [t.out_dram for t in spills.layers] == [acts, acts]
    assert [t.spilled for t in spills.layers] == [True, False]  # b's output is a result, not a spill
    assert spills.spilled == ("a",)
    assert spills.resident_bytes == 2 * 9 * 64 * 64              # weights still resident


def test_fused_layers_keep_the_intermediate_on_chip():
    fused = Workload("f", "f", layers=(conv("a", 112, 64, 64), conv("b", 112, 64, 64, fused=True)))
    acts = 112 * 112 * 64
    on = place(fused.layers, hardware(sram_bytes=512 * 1024), 1)
    assert [(t.in_dram, t.out_dram) for t in on.layers] == [(acts, 0), (0, acts)]
    off = place(fused.layers, hardware(sram_bytes=512 * 1024, fusion=False), 1)
    assert [(t.in_dram, t.out_dram) for t in off.layers] == [(acts, acts), (acts, acts)]


def test_residual_inputs_come_from_their_producers():
    layers = (conv("a", 112, 64, 64), conv("b", 112, 64, 64),
              Layer("add", "eltwise", in_elems=2 * 112 * 112 * 64, out_elems=112 * 112 * 64,
                    vector_ops=112 * 112 * 64, fused=True, inputs=("b", "a")))
    acts = 112 * 112 * 64
    spills = place(layers, hardware(sram_bytes=512 * 1024), 1)   # a's output alone > SRAM
    assert spills.layers[2].in_dram == acts  # b's output is fused in, a's comes back from DRAM
    held = place(layers, hardware(sram_bytes=MB), 1)               # room for a's output
    assert [t.dram for t in held.layers] == [acts, 0, acts]


def test_a_skip_tensor_is_held_on_chip_until_its_last_reader():
    """a feeds b and, much later, the add: a's tensor lives over steps 0..3 and takes arena
    space beside b's and c's; with room for it nothing but the input and result touch DRAM."""
    px = 14 * 14 * 64
    layers = (conv("a", 14, 64, 64), conv("b", 14, 64, 64), conv("c", 14, 64, 64),
              Layer("add", "eltwise", in_elems=2 * px, out_elems=px, vector_ops=px,
                    inputs=("c", "a")))
    p = place(layers, hardware(), 1)
    assert [t.dram for t in p.layers] == [px, 0, 0, px]
    assert p.arena_bytes == 3 * px          # a, then b and c (live together at step 2)
    assert [t.sram_peak - p.resident_bytes for t in p.layers] == [
        px + 4096, 2 * px, 3 * px, 3 * px + 4096]   # arena high-water + the buffer in use


def test_double_buffering_overlaps_transfer_and_compute():
    one = Workload("fc", "fc", layers=(Layer("fc", "matmul", m=64, n=2048, k=2048,
                                             weights=2048 * 2048, in_elems=2048, out_elems=2048),))
    overlap = AcceleratorModel(hardware(sram_bytes=MB), one).profile().layers[0]
    serial = AcceleratorModel(hardware(sram_bytes=MB, double_buffering=False), one).profile()
    compute, memory = overlap.compute_time_s, overlap.memory_time_s
    assert overlap.time_s == pytest.approx(max(compute, memory))
    assert serial.layers[0].time_s == pytest.approx(compute + memory)


def test_sparsity_shrinks_weights_and_keeps_indices():
    layer = conv("a", 14, 64, 64)
    dense = weight_bytes(layer, hardware())
    sparse = weight_bytes(layer, hardware({"sparsity": "2:4"}))
    assert sparse == pytest.approx(dense / 2 * (1 + 2 / 8))  # 2-bit index per kept int8 weight
    m = AcceleratorModel(hardware({"sparsity": "2:4"}), SMALL).profile().total
    d = AcceleratorModel(hardware(), SMALL).profile().total
    assert m["executed_macs"] == d["executed_macs"] // 2 and m["macs"] == d["macs"]


def test_larger_batches_move_more_activations_but_share_weights():
    m = AcceleratorModel(hardware(sram_bytes=32 * 1024), SMALL)
    one, four = m.plan(1).placement, m.plan(4).placement
    assert [t.weight_dram for t in four.layers] == [t.weight_dram for t in one.layers]
    assert one.layers[0].order == "untiled"
    assert four.layers[0].order == "weights_outer"      # 4 x 12,544 B of input, 36,864 of weights
    assert four.layers[0].in_dram - four.layers[0].refetch == 4 * one.layers[0].in_dram


@pytest.mark.parametrize("ratio,stored", [("2:4", 0.625), ("1:2", 0.5625), ("3:4", 0.9375)])
def test_sparse_weights_that_shrink_are_stored_sparse(ratio, stored):
    """N/M of the weights plus a ceil(log2 M)-bit index each, at int8."""
    layer = conv("a", 14, 64, 64)
    assert weight_bytes(layer, hardware({"sparsity": ratio})) == 9 * 64 * 64 * stored


@pytest.mark.parametrize("ratio", ["9:10", "7:8", "15:16"])
def test_sparsity_whose_indices_outweigh_the_saving_falls_back_to_dense(ratio):
    """9:10 at int8 would store 0.9 x (1 + 4/8) = 1.35x the dense bytes: stored dense, nothing
    skipped, and the profile says so."""
    layer = conv("a", 14, 64, 64)
    assert weight_bytes(layer, hardware({"sparsity": ratio})) == 9 * 64 * 64
    sparse = AcceleratorModel(hardware({"sparsity": ratio}), SMALL).profile().total
    dense = AcceleratorModel(hardware(), SMALL).profile().total
    assert sparse["executed_macs"] == dense["executed_macs"]
    assert sparse["dram_bytes"] == dense["dram_bytes"]
    assert sparse["sparsity_stored"].startswith(f"dense: {ratio} with its")


def test_a_wide_precision_makes_more_ratios_pay():
    """At fp16 a 4-bit index on 2-byte weights: 7:8 stores 7/8 x (2 + 3/8) / 2 = 1.039x, 3:4
    stores 3/4 x 2.25 / 2 = 0.84x."""
    assert AcceleratorModel(hardware({"sparsity": "3:4", "precision": "fp16"}), SMALL).profile(
        ).total["sparsity_stored"] == "3:4"
    assert AcceleratorModel(hardware({"sparsity": "7:8", "precision": "fp16"}), SMALL).profile(
        ).total["sparsity_stored"].startswith("dense")
