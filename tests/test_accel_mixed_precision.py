"""Mixed precision: a workload's [precision] table gives layers their own precision; each such
layer is costed at it (bytes, MACs per cycle, pJ per MAC, residency), a reader at another
precision pays a conversion on the vector unit, and the variant's accuracy is its own."""

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from clirun import bench
from harness.accel import AcceleratorModel, load_hardware
from harness.errors import ConfigError
from harness.sweep.figures import accuracy
from harness.workloads import load_workload

PJ = 1e-12
SYSTEM = {"name": "t8", "adapter": "accelerator",
          "compute": {"array_rows": 8, "array_cols": 8, "dataflow": "ws", "clock_hz": 1e9, "engines": 1,
                      "precision": "int8"},
          "memory": {"sram_bytes": 1 << 20, "dram_bytes_per_s": 1e10, "dram_efficiency": 1.0,
                     "weights_resident": False},
          "energy": {"pj_per_mac": {"int8": 0.2, "int4": 0.05}, "sram_pj_per_byte": 1.0,
                     "dram_pj_per_byte": 10.0, "static_w": 0.0}}
# a: 16 -> 32 channels, b: 32 -> 32 (3x3, same padding, 8x8), c: 2048 -> 10 fully connected
WORKLOAD = '''name = "three"
input = [16, 8, 8]
layers = [
  { op = "conv", name = "a", filters = 32, kernel = 3 },
  { op = "conv", name = "b", filters = 32, kernel = 3 },
  { op = "fc", name = "c", features = 10 },
]
'''


@pytest.fixture
def three(tmp_path):
    path = tmp_path / "three.toml"
    path.write_text(WORKLOAD)
    return path


def _plan(path, overrides=None, system=None):
    model = AcceleratorModel(load_hardware(system or SYSTEM), load_workload(str(path), overrides))
    return model.profile(1, masters=False), model.plan(1)


def test_int4_on_one_layer_exact_bytes_cycles_energy(three):
    profile, plan = _plan(three, {"precision.b": "int4"})
    a, b, c = profile.layers
    assert [r.precision for r in profile.layers] == ["int8", "int4", "int8"]
    # b at int4: (32*9*32 weights + 32 biases) x 0.5 B; 144 WS folds of 2*8+8+64-2 = 86 cycles,
    # two int4 MACs per PE per cycle; it converts a's 2048 int8 outputs on 8 lanes
    assert b.weight_dram_bytes == (32 * 9 * 32 + 32) * 0.5 == 4624
    assert (b.compute_cycles, b.vector_cycles, b.converted_elems) == (144 * 86 // 2, 2048 // 8, 2048)
    assert plan.layer_energy[1].mac == pytest.approx((589824 + 2048) * 0.05 * PJ, rel=1e-12)
    assert plan.layer_energy[1].dram == pytest.approx(4624 * 10 * PJ, rel=1e-12)
    # c reads b's int4 output (2048 elements) and converts it back to int8 at int8's pJ
    assert (c.weight_dram_bytes, c.vector_cycles, c.converted_elems) == (2048 * 10 + 10, 256, 2048)
    assert plan.layer_energy[2].mac == pytest.approx((20480 + 2048) * 0.2 * PJ, rel=1e-12)
    # a is untouched: its input arrives at its own precision
    assert (a.weight_dram_bytes, a.input_dram_bytes, a.compute_cycles, a.converted_elems) == (4640, 1024, 6192, 0)


def test_int4_for_one_layer_changes_only_that_layer_and_its_reader(three):
    uniform, _ = _plan(three)
    mixed, _ = _plan(three, {"precision.b": "int4"})
    assert uniform.layers[0] == mixed.layers[0]
    before, after = uniform.layers[1].as_dict(), mixed.layers[1].as_dict()
    assert after["compute_cycles"] * 2 == before["compute_cycles"] == 12384
    assert after["weight_dram_bytes"] * 2 == before["weight_dram_bytes"] == 9248
    assert after["energy_j"] < before["energy_j"]
    same = ("macs", "compute_cycles", "weight_dram_bytes", "input_dram_bytes", "output_dram_bytes",
            "sram_bytes", "dataflow", "precision", "weights_resident", "tiling")
    old, new = uniform.layers[2].as_dict(), mixed.layers[2].as_dict()
    assert {k: new[k] for k in same} == {k: old[k] for k in same}
    # its reader pays the conversion (nothing is free): 2048 elements on 8 lanes
    assert (new["vector_cycles"] - old["vector_cycles"], new["converted_elems"]) == (256, 2048)
    assert mixed.total["layer_precisions"] == {"int8": 2, "int4": 1}


def test_smaller_weights_stay_resident(three):
    system = json.loads(json.dumps(SYSTEM))
    system["memory"].update(weights_resident=True, sram_bytes=16000)
    uniform, _ = _plan(three, system=system)
    mixed, _ = _plan(three, {"precision.b": "int4"}, system=system)
    assert [r.weights_resident for r in uniform.layers] == [True, False, False]
    assert [r.weights_resident for r in mixed.layers] == [True, True, False]
    assert (uniform.total["dram_bytes"], mixed.total["dram_bytes"]) == (30772, 23572)


def test_block_names_and_the_longest_key_win():
    w = load_workload("resnet50", {"precision.stage4": "int4", "precision.stage4.3.conv3": "int8"})
    mine = w.precisions
    assert mine["stage4.1.conv1"] == mine["stage4.3.add"] == "int4" and mine["stage4.3.conv3"] == "int8"
    assert not any(name.startswith("stage3") for name in mine) and len(mine) == 25


@pytest.mark.parametrize("assignment,message", [
    ("precision.b=int9", "--set precision.b='int9': precision.b = 'int9': must be one of int4, int8"),
    ("precision.zz=int4", "--set precision.zz='int4': precision.zz = 'int4': names no layer or block use"),
    ("precision=int4", "precision = 'int4': must be a table"),
])
def test_bad_assignments_are_one_line_errors(capsys, three, assignment, message):
    code, out, err = bench(capsys, "profile", "--sut", "npu_v1", "--workload", three, "--set",
                           f"workload.{assignment}")
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_bad_precision_in_the_file_names_the_file(capsys, tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(WORKLOAD + '[precision]\nb = "int3"\n')
    code, _, err = bench(capsys, "profile", "--sut", "npu_v1", "--workload", path)
    assert code == 2 and f"{path}: precision.b = 'int3': must be one of" in err
    assert len(err.strip().splitlines()) == 1


def test_a_precision_without_energy_per_mac_is_refused(capsys, three):
    code, _, err = bench(capsys, "profile", "--sut", "npu_v1", "--workload", three,
                         "--set", "workload.precision.c=int16")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "energy.pj_per_mac" in err and "must give the energy of precision 'int16'" in err
    assert "layer c" in err


def test_profile_shows_each_layers_precision(capsys, three):
    code, out, _ = bench(capsys, "profile", "--sut", "npu_v1", "--workload", three, "--no-masters",
                         "--set", "workload.precision.b=int4")
    assert code == 0
    rows = {line.split()[0]: line[38:46].strip() for line in out.splitlines()[2:6]}   # the "prec" column
    assert rows == {"a": "int8", "b": "int4", "c": "int8", "total": "mixed"}
    code, out, _ = bench(capsys, "profile", "--sut", "npu_v1", "--workload", three, "--format", "csv",
                         "--set", "workload.precision.b=int4")
    assert [line.split(",")[-1] for line in out.strip().splitlines()] == ["precision", "int8", "int4", "int8", ""]


def test_run_takes_the_assignment(capsys, tmp_path, three):
    out = tmp_path / "r"
    code, _, err = bench(capsys, "run", "--scenario", "single-stream", "--sut", "npu_v1", "--workload", three,
                         "--duration", "0.05", "--min-queries", "10", "--set", "workload.precision.b=int4",
                         "--out", out, "--no-report")
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    assert result["workload"]["precision"] == {"b": "int4"}


def test_a_sweep_over_one_layers_precision(capsys, tmp_path, three):
    three.write_text(WORKLOAD + ACCURACY)
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'[sweep]\nmode = "profile"\n[grid]\nsystem = ["npu_v1"]\nworkload = ["{three}"]\n'
                     '"workload.precision.b" = ["int8", "int4"]\n')
    code, out, err = bench(capsys, "sweep", sweep, "--out", tmp_path / "o", "--quiet", "--format", "json")
    assert code == 0, err
    points = sorted((tmp_path / "o" / "points").glob("*/profile.json"))
    cycles = {}
    for path in points:
        layers = json.loads(path.read_text())["layers"]
        cycles[layers[1]["precision"]] = layers[1]["compute_cycles"]
    assert cycles["int8"] == 2 * cycles["int4"] > 0
    summary = pd.read_parquet(tmp_path / "o" / "summary.parquet")
    assert sorted(summary["accuracy"]) == [0.69, 0.70]   # each point's own declared variant


ACCURACY = '''
[[accuracy]]
precision = "int8"
value = 0.70
metric = "top-1"
source = "made up for a test"

[[accuracy]]
precision = "int8"
layers = { b = "int4" }
value = 0.69
metric = "top-1"
source = "made up for a test"
'''


def test_accuracy_keys_on_the_per_layer_assignment(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(WORKLOAD + ACCURACY)
    def found(overrides, precision="int8"):
        w = load_workload(str(path), overrides)
        return accuracy(precision, "1:1", w.accuracy, w.precisions)
    assert found({}) == 0.70
    assert found({"precision.b": "int4"}) == 0.69
    assert found({"precision.b": "int8"}) == 0.70        # the same variant, however written
    assert found({"precision.a": "int4"}) is None        # not declared: unknown, never the uniform figure
    assert found({"precision.b": "int4"}, "int4") is None


def test_an_accuracy_layer_naming_nothing_is_refused(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(WORKLOAD + ACCURACY.replace('b = "int4"', 'q = "int4"'))
    with pytest.raises(ConfigError, match=r"accuracy\[1\].layers.q = 'int4': names no layer"):
        load_workload(str(path))


README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_block(marker: str, kind: str) -> str:
    return README.read_text().split(marker, 1)[1].split(f"```{kind}\n", 1)[1].split("```", 1)[0]


def test_readme_precision_table(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text('extends = "resnet50"\nname = "w"\n' + _readme_block("<!-- mixed-precision -->", "toml"))
    mine = load_workload(str(path)).precisions
    assert mine["stage4.1.conv1"] == "int8" and mine["stage4.2.conv1"] == mine["stage4.1.add"] == "int4"
    assert not any(name.startswith(("stage3", "stage5")) for name in mine)


def test_readme_commands(capsys):
    lines = [line for line in _readme_block("<!-- mixed-precision-commands -->", "sh").splitlines() if line.strip()]
    assert len(lines) == 3
    for line in lines:
        command, _, comment = line.partition("#")
        expected = int(m.group(1)) if (m := re.search(r"exit (\d+)", comment)) else 0
        argv = shlex.split(command)
        code, out, err = bench(capsys, *argv[1:])
        assert code == expected, f"{line}\n{err}"
        assert expected == 0 or len(err.strip().splitlines()) == 1
    code, out, _ = bench(capsys, *shlex.split(lines[0])[1:], "--no-masters", "--format", "json")
    total = json.loads(out)["total"]
    assert total["layer_precisions"] == {"int8": 34, "int4": 38} and total["dram_bytes"] == 151528
    assert round(total["time_s"] * 1e3, 3) == 0.634
