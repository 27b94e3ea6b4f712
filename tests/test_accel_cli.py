"""`bench profile`: formats, catalog and file inputs, one-line errors with exit status 2."""

import csv
import io
import json

import pytest

from harness.cli.main import main

REQUIRED = {"name", "macs", "compute_cycles", "dram_bytes", "time_s", "bound", "energy_j",
            "utilization"}


def run(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        main(["profile", *argv])
        raise SystemExit(0)
    out = capsys.readouterr()
    return done.value.code or 0, out.out, out.err


def test_json_is_layers_and_total(capsys):
    code, out, _ = run(capsys, "--sut", "npu_v1", "--workload", "tiny", "--format", "json")
    data = json.loads(out)
    assert code == 0 and set(data) == {"layers", "total"}
    assert all(REQUIRED <= set(row) for row in data["layers"])
    assert len(data["layers"]) == 6 and data["total"]["batch"] == 1
    assert data["total"]["macs"] == sum(row["macs"] for row in data["layers"])


def test_csv_has_a_row_per_layer_and_a_total(capsys):
    code, out, _ = run(capsys, "--sut", "npu_v2", "--workload", "tiny", "--format", "csv",
                       "--batch", "4")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 7 and rows[-1]["name"] == "total"
    assert REQUIRED <= set(rows[0])


def test_table_names_the_system_and_totals(capsys):
    code, out, _ = run(capsys, "--sut", "npu_v1", "--workload", "tiny")
    assert code == 0 and out.startswith("npu_v1 x tiny, batch 1")
    assert "\ntotal " in out and "TOPS/W" in out


def test_scalesim_topology_is_a_workload(capsys, tmp_path):
    topo = tmp_path / "topo.csv"
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                    "Channels, Num Filter, Strides,\nconv, 58, 58, 3, 3, 64, 64, 1,\n")
    code, out, _ = run(capsys, "--sut", "npu_v1", "--workload", str(topo), "--format", "json",
                       "--set", "compute.array_rows=32", "--set", "compute.array_cols=32")
    assert code == 0
    assert json.loads(out)["layers"][0]["compute_cycles"] == 116280  # SCALE-Sim 116,279 + 1


def test_overrides_change_the_hardware(capsys):
    _, base, _ = run(capsys, "--sut", "npu_v1", "--workload", "tiny", "--format", "json")
    _, fp16, _ = run(capsys, "--sut", "npu_v1", "--workload", "tiny", "--format", "json",
                     "--set", "compute.precision=fp16")
    assert json.loads(fp16)["total"]["compute_cycles"] > json.loads(base)["total"]["compute_cycles"]


@pytest.mark.parametrize("argv,message", [
    (["--sut", "nope", "--workload", "tiny"], "--sut = 'nope': unknown system"),
    (["--sut", "npu_v1", "--workload", "tiny", "--set", "memory.sram_bytes=0"],
     "memory.sram_bytes = 0: must be a number from 1 to 1.09951e+12 B"),
    (["--sut", "npu_v1", "--workload", "tiny", "--batch", "0"], "--batch"),
    (["--sut", "npu_v1", "--workload", "tiny", "--format", "xml"], "--format"),
    (["--sut", "npu_v1", "--workload", "tiny", "--set", "compute"], "expected KEY=VALUE"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_system_of_another_adapter_is_refused(capsys, tmp_path):
    path = tmp_path / "syn.toml"
    path.write_text('name = "syn"\nadapter = "synthetic"\n[service]\nmean_s = 0.001\n')
    code, _, err = run(capsys, "--sut", str(path), "--workload", "tiny")
    assert code == 2 and "adapter = 'synthetic': must be one of accelerator" in err


def test_profile_is_contended_by_default_and_every_format_carries_both_figures(capsys):
    args = ("--sut", "npu_v2", "--workload", "resnet50_1440")
    _, out, _ = run(capsys, *args, "--format", "json")
    busy = json.loads(out)
    c = busy["total"]["contention"]
    assert c["mode"] == "average" and c["hyperperiod_s"] == pytest.approx(1 / 30)
    assert c["time_s_best"] <= busy["total"]["time_s"] <= c["time_s_worst"]
    assert busy["total"]["time_s"] > c["time_s_uncontended"]
    _, out, _ = run(capsys, *args, "--format", "json", "--no-masters")
    quiet = json.loads(out)
    assert quiet["total"]["time_s"] == pytest.approx(c["time_s_uncontended"], rel=1e-12)
    assert [r["time_s_uncontended"] for r in busy["layers"]] == pytest.approx(
        [r["time_s"] for r in quiet["layers"]], rel=1e-12)
    _, out, _ = run(capsys, *args, "--format", "csv")
    total = list(csv.DictReader(io.StringIO(out)))[-1]
    assert float(total["time_s"]) == pytest.approx(busy["total"]["time_s"], rel=1e-12)
    assert float(total["time_s_uncontended"]) == pytest.approx(c["time_s_uncontended"], rel=1e-12)
    _, out, _ = run(capsys, *args)
    assert "averaged over start phases" in out and "quiet us" in out


def test_start_s_profiles_from_one_instant_and_excludes_no_masters(capsys):
    args = ("--sut", "npu_v2", "--workload", "resnet50_1440", "--format", "json")
    _, out, _ = run(capsys, *args)
    worst = json.loads(out)["total"]["contention"]
    _, out, _ = run(capsys, *args, "--start-s", repr(worst["worst_start_s"]))
    at = json.loads(out)["total"]
    assert at["contention"]["mode"] == "start"
    assert at["time_s"] == pytest.approx(worst["time_s_worst"], rel=1e-9)
    code, _, err = run(capsys, *args, "--start-s", "1", "--no-masters")
    assert code == 2 and "exclude each other" in err and "Traceback" not in err


def test_profile_refuses_an_unmodelled_onnx_operator_unless_allowed(tmp_path):
    import json
    import subprocess
    import sys
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Hardmax", ["r"], ["h"], name="mystery")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
                              [helper.make_tensor_value_info("h", TensorProto.FLOAT, None)])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    base = [sys.executable, "-m", "harness.cli.main", "profile", "--sut", "npu_v1", "--workload", str(path)]
    refused = subprocess.run(base, capture_output=True, text=True)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "mystery" in refused.stderr and "Hardmax" in refused.stderr
    allowed = subprocess.run(base + ["--allow-unmodeled", "--format", "json"], capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["total"]["unmodeled_layers"] == [
        {"name": "mystery", "op": "Hardmax", "approximation": "its output elements of vector work, no MACs"}]
