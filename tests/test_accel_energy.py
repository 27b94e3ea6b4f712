"""Energy per batch: breakdown, scaling with the per-byte costs, precision."""

import pytest

from harness.accel import AcceleratorModel, load_hardware
from harness.workloads.model import Layer, Workload


def hardware(compute=None, energy=None, **memory):
    return load_hardware({
        "name": "t", "adapter": "accelerator",
        "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                    "engines": 1, "precision": "int8", **(compute or {})},
        "memory": {"sram_bytes": 1 << 20, "dram_bytes_per_s": 10e9, "dram_efficiency": 0.8,
                   **memory},
        "energy": {"pj_per_mac": {"int8": 0.2, "fp16": 1.0}, "sram_pj_per_byte": 1.0,
                   "dram_pj_per_byte": 20.0, "static_w": 0.5, **(energy or {})}}, "t.toml")


LAYERS = (
    Layer("conv", "conv", m=3136, n=64, k=576, weights=36_864, in_elems=200_704,
          out_elems=200_704, vector_ops=200_704),
    Layer("pool", "pool", in_elems=200_704, out_elems=2048, vector_ops=200_704, fused=True),
    Layer("fc", "matmul", m=1, n=1000, k=2048, weights=2_049_000, in_elems=2048, out_elems=1000),
)
WORKLOAD = Workload("w", "w", layers=LAYERS)
CONV_ONLY = Workload("c", "c", layers=LAYERS[:1])


def test_breakdown_sums_to_total():
    m = AcceleratorModel(hardware(), WORKLOAD)
    m.service(2, 0.0)             # the cold start, loading the conv's resident weights
    s = m.service(2, 1.0)
    assert sum(s.breakdown_j.values()) == pytest.approx(s.energy_j, rel=1e-12)
    assert set(s.breakdown_j) == {"mac", "sram", "dram", "static"}
    p = m.profile(2)
    assert sum(p.total["breakdown_j"].values()) == pytest.approx(p.total["energy_j"], rel=1e-12)
    assert sum(r.energy_j for r in p.layers) == pytest.approx(p.total["energy_j"], rel=1e-12)
    assert p.total["energy_j"] == pytest.approx(s.energy_j, rel=1e-12)  # no masters: same batch


def test_components_follow_the_tables():
    m = AcceleratorModel(hardware(), WORKLOAD)
    s = m.service(1, 0.0)
    macs = sum(m.plan(1).macs) + 2 * 200_704  # vector ops are charged as MACs
    assert s.breakdown_j["mac"] == pytest.approx(macs * 0.2e-12)
    assert s.breakdown_j["dram"] == pytest.approx(s.dram_bytes * 20e-12)
    assert s.breakdown_j["static"] == pytest.approx(0.5 * s.duration_s)


def test_doubling_dram_energy_per_byte_doubles_the_dram_part_only():
    base = AcceleratorModel(hardware(), WORKLOAD).service(1, 0.0).breakdown_j
    double = AcceleratorModel(hardware(energy={"dram_pj_per_byte": 40.0}), WORKLOAD)
    doubled = double.service(1, 0.0).breakdown_j
    assert doubled["dram"] == pytest.approx(2 * base["dram"], rel=1e-12)
    for part in ("mac", "sram", "static"):
        assert doubled[part] == pytest.approx(base[part], rel=1e-12)


def test_fp16_moves_twice_the_bytes_at_half_the_throughput_of_int8():
    int8 = AcceleratorModel(hardware(), CONV_ONLY).profile()
    fp16 = AcceleratorModel(hardware({"precision": "fp16"}), CONV_ONLY).profile()
    assert fp16.total["dram_bytes"] == 2 * int8.total["dram_bytes"]
    assert fp16.total["sram_bytes"] == 2 * int8.total["sram_bytes"]
    assert int8.total["bound"] == fp16.total["bound"] == "compute"
    assert fp16.total["compute_cycles"] == 2 * int8.total["compute_cycles"]
    assert int8.total["samples_per_s"] == pytest.approx(2 * fp16.total["samples_per_s"], rel=1e-12)
    assert fp16.total["breakdown_j"]["mac"] > 4.9 * int8.total["breakdown_j"]["mac"]


def test_int4_doubles_int8_throughput():
    int4 = load_hardware({**_raw(), "energy": {**_raw()["energy"], "pj_per_mac": {"int4": 0.05}}},
                         "t", overrides={"compute.precision": "int4"})
    int8 = AcceleratorModel(hardware(), CONV_ONLY).profile().total
    fast = AcceleratorModel(int4, CONV_ONLY).profile().total
    assert fast["compute_cycles"] * 2 == int8["compute_cycles"]
    assert fast["dram_bytes"] * 2 == int8["dram_bytes"]


def _raw():
    return {"name": "t", "adapter": "accelerator",
            "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                        "engines": 1, "precision": "int8"},
            "memory": {"sram_bytes": 1 << 20, "dram_bytes_per_s": 10e9, "dram_efficiency": 0.8},
            "energy": {"pj_per_mac": {"int8": 0.2}, "sram_pj_per_byte": 1.0,
                       "dram_pj_per_byte": 20.0, "static_w": 0.5}}


def test_tops_per_w_is_operations_per_joule():
    t = AcceleratorModel(hardware(), WORKLOAD).profile().total
    assert t["tops_per_w"] == pytest.approx(2 * t["executed_macs"] / t["energy_j"] / 1e12)


def test_static_energy_is_split_between_engines():
    one = AcceleratorModel(hardware(), CONV_ONLY).service(1, 0.0)
    two = AcceleratorModel(hardware({"engines": 2}, dram_share_per_engine=1.0), CONV_ONLY)
    s = two.service(1, 0.0)
    assert s.duration_s == one.duration_s
    assert s.breakdown_j["static"] == pytest.approx(one.breakdown_j["static"] / 2)
