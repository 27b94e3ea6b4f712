"""SCALE-Sim topology CSV import (harness.workloads.scalesim_csv).

The reference case is /work/shared/reference/scalesim-case/resnet50_subset.csv (copied to
tests/data/workloads/); its per-layer GEMM sizes and MACs are those of the SCALE-Sim reference
run in accelerator-modeling.md s.1.8.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.workloads import load_workload

SUBSET = str(Path(__file__).parent / "data" / "workloads" / "resnet50_subset.csv")
HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"


def write(tmp_path, rows, header=HEADER):
    path = tmp_path / "topo.csv"
    path.write_text(header + rows)
    return str(path)


def test_resnet50_subset_matches_the_reference_run():
    w = load_workload(SUBSET)
    assert w.name == "resnet50_subset" and w.input_shape == (3, 229, 229)
    rows = [(l.name, l.m, l.n, l.k, l.macs) for l in w.layers]
    assert rows == [("conv1_pad", 12544, 64, 147, 118_013_952),
                    ("res2a_branch2b_3x3_pad", 3136, 64, 576, 115_605_504),
                    ("res2a_branch2c_1x1", 3136, 256, 64, 51_380_224),
                    ("fc1000", 1, 1000, 2048, 2_048_000)]
    assert w.layers[0].conv == (229, 229, 7, 7, 3, 64, 2)
    assert w.layers[0].out_shape == (64, 112, 112) and w.layers[0].weights == 7 * 7 * 3 * 64
    assert w.layers[1].inputs == ("conv1_pad",)


def test_same_layers_as_the_toml_graph():
    """The pre-padded CSV rows describe the same GEMMs as resnet50.toml's layers."""
    toml = {l.name: l for l in load_workload("resnet50").layers}
    csv = {l.name: l for l in load_workload(SUBSET).layers}
    for a, b in (("conv1_pad", "conv1"), ("res2a_branch2b_3x3_pad", "stage2.1.conv2"),
                 ("fc1000", "fc")):
        assert (csv[a].m, csv[a].n, csv[a].k, csv[a].macs) == (toml[b].m, toml[b].n, toml[b].k, toml[b].macs)
    assert csv["conv1_pad"].conv == toml["conv1"].conv


def test_ceil_output_size_and_depthwise(tmp_path):
    w = load_workload(write(tmp_path, "conv1, 230, 230, 7, 7, 3, 64, 2,\n"
                                      "conv_DP, 10, 10, 3, 3, 32, 1, 1, 1:1,\n"))
    conv, dw = w.layers
    assert conv.out_shape == (64, 113, 113)          # ceil((230 - 7 + 2) / 2): no padding
    assert (dw.m, dw.n, dw.k, dw.groups, dw.weights) == (64, 1, 9, 32, 288)
    assert dw.conv == (10, 10, 3, 3, 1, 1, 1) and dw.out_shape == (32, 8, 8)


def test_gemm_form(tmp_path):
    w = load_workload(write(tmp_path, "qkv, 384, 2304, 768,\n", header="Layer, M, N, K,\n"))
    (layer,) = w.layers
    assert (layer.op, layer.m, layer.n, layer.k, layer.weights) == ("matmul", 384, 2304, 768, 768 * 2304)
    assert layer.conv == (384, 768, 1, 768, 1, 2304, 1)


def test_identity_from_overrides(tmp_path):
    w = load_workload(SUBSET, {"name": "subset", "benchmark": "resnet50"})
    assert (w.name, w.benchmark) == ("subset", "resnet50")
    with pytest.raises(ConfigError, match=r"--set input=\[3, 8, 8\]: input = \[3, 8, 8\]: unknown key"):
        load_workload(SUBSET, {"input": [3, 8, 8]})


@pytest.mark.parametrize("row, where, value, rule", [
    ("conv1, 229, 229, 7, 7, 3, 64, 2\n", "row 2", "conv1, 229, 229, 7, 7, 3, 64, 2", "trailing comma"),
    ("conv1, 229, 229, 7, 7, 3, 64,\n", "row 2", "conv1, 229, 229, 7, 7, 3, 64,", "expected 8 fields"),
    ("conv1, 229, x, 7, 7, 3, 64, 2,\n", "row 2, IFMAP Width", "'x'", "positive integer"),
    ("conv1, 229, 229, 7, 7, 3, 0, 2,\n", "row 2, Num Filter", "'0'", "positive integer"),
    ("conv1, 5, 229, 7, 7, 3, 64, 2,\n", "row 2, Filter Height", "7", "larger than the IFMAP (5)"),
    ("conv1, 229, 229, 7, 7, 3, 64, 2, 2:4,\n", "row 2, sparsity", "'2:4'", "dense 1:1"),
])
def test_malformed_rows_name_file_row_and_column(tmp_path, row, where, value, rule):
    with pytest.raises(ConfigError) as info:
        load_workload(write(tmp_path, row))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'topo.csv'}: {where} = ")
    assert value in message and rule in message


def test_every_bad_row_reported(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_workload(write(tmp_path, "a, 0, 9, 3, 3, 3, 8, 1,\nb, 9, 9, 3, 3, 3, 8, 1,\nc, 9, 9, 3, 3, 3, 8, -1,\n"))
    assert [line.split(" = ")[0].split(": ")[1] for line in info.value.lines()] == [
        "row 2, IFMAP Height", "row 4, Strides"]


def test_header_only(tmp_path):
    with pytest.raises(ConfigError, match="no layer rows"):
        load_workload(write(tmp_path, ""))
