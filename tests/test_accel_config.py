"""Hardware files: strict loading, every problem reported at once, cross-field rules."""

import copy
import math

import pytest

from harness.accel.config import load_hardware
from harness.errors import ConfigError

BASE = {
    "name": "t", "adapter": "accelerator",
    "compute": {"array_rows": 32, "array_cols": 32, "dataflow": "ws", "clock_hz": 1e9,
                "engines": 1, "precision": "int8"},
    "memory": {"sram_bytes": 4194304, "dram_bytes_per_s": 25.6e9, "dram_efficiency": 1.0},
    "energy": {"pj_per_mac": {"int8": 0.2, "fp16": 1.0}, "sram_pj_per_byte": 1.0,
               "dram_pj_per_byte": 20.0, "static_w": 0.5},
}


def spec(**tables):
    data = copy.deepcopy(BASE)
    for table, values in tables.items():
        data.setdefault(table, {}).update(values)
    return data


def problems(data, **kw):
    with pytest.raises(ConfigError) as err:
        load_hardware(data, "sys.toml", **kw)
    return [str(p) for p in err.value.problems]


def master(name, bytes_per_s, duty=1.0, period_s=0.01, priority="realtime"):
    return {"name": name, "bytes_per_s": bytes_per_s, "period_s": period_s, "duty": duty,
            "priority": priority}


def test_minimal_design_keys_load_with_documented_defaults():
    hw = load_hardware(spec(), "sys.toml")
    assert hw.compute.sparsity == (1, 1) and hw.compute.vector_lanes == 32
    assert hw.compute.rate == 1.0 and hw.compute.element_bytes == 1.0
    assert hw.memory.double_buffering and hw.memory.fusion and hw.memory.weights_resident
    assert hw.memory.sram_bytes_per_s == math.inf and hw.memory.masters == ()
    assert hw.memory.dram_share_per_engine == 1.0
    assert (hw.batching.max_batch, hw.batching.timeout_s) == (1, 0.0)


def test_engines_are_not_capped_by_default():
    hw = load_hardware(spec(compute={"engines": 4}), "sys.toml")
    assert hw.memory.dram_share_per_engine == 1.0  # a cap, not a static split: see joint.py


def test_every_problem_is_reported_with_file_key_value_and_rule():
    data = spec(compute={"array_rows": 0, "dataflow": "rs", "clock_hz": "fast", "colour": "red"},
                memory={"dram_efficiency": 1.5})
    del data["memory"]["sram_bytes"]
    found = problems(data)
    assert "sys.toml: compute.array_rows = 0: must be a number from 1 to 65536" in found
    assert "sys.toml: compute.dataflow = 'rs': must be one of ws, os, is, auto" in found
    assert "sys.toml: compute.clock_hz = 'fast': must be a number" in found
    assert any(p.startswith("sys.toml: compute.colour = 'red': unknown key") for p in found)
    assert "sys.toml: memory.dram_efficiency = 1.5: must be in (0, 1]" in found
    assert "sys.toml: memory.sram_bytes: required key is missing" in found
    assert len(found) == 6


def test_missing_tables_and_wrong_adapter():
    found = problems({"name": "x", "adapter": "synthetic"})
    assert "sys.toml: adapter = 'synthetic': must be one of accelerator" in found
    assert "sys.toml: compute: required table is missing" in found
    assert "sys.toml: energy: required table is missing" in found


@pytest.mark.parametrize("table,key,value,rule", [
    ("compute", "precision", "int2", "must be one of int4, int8, int16, fp8_e4m3, fp8_e5m2, bf16, fp16, tf32, fp32"),
    ("compute", "sparsity", "4:2", 'must be "N:M"'),
    ("compute", "engines", 0, "must be a number from 1 to 1024"),
    ("memory", "dram_bytes_per_s", -1.0, "must be a number from 1000 to 1e+14 B/s"),
    ("memory", "double_buffering", "yes", "must be true or false"),
    ("energy", "static_w", -0.1, "must be a finite number >= 0"),
    ("batching", "max_batch", 0, "must be a number from 1 to 4096"),
    ("batching", "timeout_s", -1.0, "must be a number from 0 to 3600 s"),
])
def test_bad_values(table, key, value, rule):
    found = problems(spec(**{table: {key: value}}))
    assert len(found) == 1 and f"{table}.{key} = {value!r}: {rule}" in found[0]


def test_energy_must_cover_the_precision():
    found = problems(spec(compute={"precision": "bf16"}))
    assert found == ["sys.toml: energy.pj_per_mac = {'int8': 0.2, 'fp16': 1.0}: must give the "
                     "energy of compute.precision = 'bf16'"]


def test_unknown_precision_in_a_table_is_an_unknown_key():
    found = problems(spec(energy={"pj_per_mac": {"int8": 0.2, "int3": 0.1}}))
    assert len(found) == 1 and "energy.pj_per_mac.int3 = 0.1: unknown key" in found[0]


def test_realtime_masters_exceeding_dram_on_average_are_rejected_by_name():
    data = spec(memory={"dram_efficiency": 0.5,
                        "masters": [master("camera", 8e9), master("display", 6e9)]})
    found = problems(data)
    assert any("memory.masters = ['camera', 'display']: realtime masters need 1.4e+10 B/s on "
               "average (writes at write_cost, reads at read_cost), more than the usable DRAM "
               "bandwidth 1.28e+10 B/s" in p for p in found)


def test_a_camera_that_fits_as_reads_is_rejected_when_its_writes_cost_turnarounds():
    camera = {**master("camera", 10e9), "direction": "write"}
    load_hardware(spec(memory={"dram_efficiency": 0.5, "masters": [camera], "write_cost": 1.0}),
                  "sys.toml")  # 10 of the usable 12.8 GB/s
    found = problems(spec(memory={"dram_efficiency": 0.5, "masters": [camera], "write_cost": 1.3}))
    assert any("realtime masters need 1.3e+10 B/s on average" in p for p in found)


def test_dram_cost_keys_are_checked_by_name():
    found = problems(spec(memory={"write_cost": 9.0, "mixed_efficiency": 1.5}))
    assert any("memory.write_cost = 9.0: must be a number from 0.5 to 4" in p for p in found)
    assert any("memory.mixed_efficiency = 1.5" in p for p in found)
    found = problems(spec(memory={"dram_efficiency": 0.8, "mixed_efficiency": 0.9}))
    assert any("memory.mixed_efficiency = 0.9: must be <= memory.dram_efficiency = 0.8" in p
               for p in found)
    gpu = {**master("gpu", 1e9), "priority": "best_effort", "fifo_bytes": 4096}
    found = problems(spec(memory={"masters": [gpu]}))
    assert any("memory.masters[0].fifo_bytes = 4096.0: only a realtime master" in p for p in found)
    found = problems(spec(memory={"masters": [{**master("cam", 1e9), "direction": "sideways"}]}))
    assert any("direction = 'sideways'" in p for p in found)


def test_realtime_peak_at_an_instant_is_rejected():
    # 6.4 GB/s average each, but both active at 4x that during the first quarter period
    data = spec(memory={"masters": [master("camera", 6.4e9, duty=0.25, period_s=0.02),
                                     master("isp", 1e9, duty=0.5, period_s=0.01)]})
    found = problems(data)
    assert len(found) == 1
    assert "realtime masters active together at t = 0 s need 2.76e+10 B/s" in found[0]
    assert "['camera', 'isp']" in found[0]


def test_best_effort_masters_are_not_bound_by_the_realtime_rule():
    hw = load_hardware(spec(memory={"masters": [master("gpu", 30e9, priority="best_effort")]}), "s")
    assert hw.memory.masters[0].priority == "best_effort"


def test_master_problems_name_their_index_and_duplicates():
    found = problems(spec(memory={"masters": [master("a", 1e9, duty=0.0),
                                              {"name": "b", "bytes_per_s": 1e9}]}))
    assert "sys.toml: memory.masters[0].duty = 0.0: must be in (0, 1]" in found
    assert "sys.toml: memory.masters[1].period_s: required key is missing" in found
    found = problems(spec(memory={"masters": [master("a", 1e9), master("a", 1e9)]}))
    assert found == ["sys.toml: memory.masters[1].name = 'a': duplicate master name"]


def test_incommensurate_periods_are_rejected():
    found = problems(spec(memory={"masters": [master("a", 1e9, 0.5, period_s=0.0123457),
                                              master("b", 1e9, 0.5, period_s=0.0170001)]}))
    assert len(found) == 1 and "common multiple <= 60 s" in found[0]


def test_overrides_are_reported_as_set_keys():
    found = problems(spec(), overrides={"compute.array_cols": -3})
    assert found == ["--set compute.array_cols=-3: compute.array_cols = -3: must be a number from 1 to 65536"]
    hw = load_hardware(spec(), "sys.toml", overrides={"compute.precision": "fp16"})
    assert hw.compute.precision == "fp16" and hw.compute.element_bytes == 2.0


def test_precision_tables_merge_over_defaults():
    hw = load_hardware(spec(compute={"macs_per_pe_cycle": {"fp16": 1.0}}), "s")
    assert dict(hw.compute.macs_per_pe_cycle) == {"int4": 2.0, "int8": 1.0, "int16": 0.5, "fp8_e4m3": 1.0,
                                                   "fp8_e5m2": 1.0, "bf16": 0.5, "fp16": 1.0, "tf32": 0.25,
                                                   "fp32": 0.25}


def test_hardware_is_frozen():
    hw = load_hardware(spec(), "s")
    with pytest.raises(AttributeError):
        hw.compute.array_rows = 7


def test_describe_is_plain_data_that_loads_back():
    import json
    data = spec(compute={"sparsity": "2:4"},
                memory={"masters": [master("cam", 1e9, duty=0.5, period_s=0.02)]})
    hw = load_hardware(data, "s")
    plain = json.loads(json.dumps(hw.describe()))
    assert load_hardware(plain, "s") == hw
    assert plain["compute"]["sparsity"] == "2:4" and "sram_bytes_per_s" not in plain["memory"]
