"""The `onnxruntime` adapter on tiny ONNX models built here with the onnx package."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from harness.errors import ConfigError  # noqa: E402
from harness.sut.onnx_runtime import ModelInputs, make_session, session_options  # noqa: E402
from harness.measure.systems import load_system  # noqa: E402
from test_realtime import main_code  # noqa: E402


def mlp(path, batch="N", features=16, extra_input=None):
    """X[batch, features] @ W -> Relu -> Y; optionally a second int64 input ids[batch, "seq"]."""
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((features, 8)).astype(np.float32), "W")
    nodes = [helper.make_node("MatMul", ["X", "W"], ["H"]), helper.make_node("Relu", ["H"], ["Y"])]
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [batch, features])]
    if extra_input:
        inputs.append(helper.make_tensor_value_info("ids", TensorProto.INT64, [batch, extra_input]))
    graph = helper.make_graph(nodes, "mlp", inputs, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [batch, 8])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture
def ort_system(write, tmp_path):
    def _make(body="", **model):
        mlp(tmp_path / "tiny.onnx", **model)
        return write("ort.toml", 'name = "ort"\nadapter = "onnxruntime"\n[onnxruntime]\nmodel = "tiny.onnx"\n' + body)
    return _make


def test_keys_and_defaults(ort_system):
    c = load_system(str(ort_system('intra_op_threads = 2\nexecution_mode = "parallel"\n'
                                   'graph_optimization = "basic"\n[batching]\nmax_batch = 4\n'))).config
    assert (c.workers, c.timeout_s, c.intra_op_threads, c.inter_op_threads) == (1, 10.0, 2, 1)
    assert (c.execution_mode, c.graph_optimization, c.max_batch, c.samples) == ("parallel", "basic", 4, 64)
    options = session_options(c)
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (2, 1)
    assert str(options.execution_mode).endswith("ORT_PARALLEL")
    assert str(options.graph_optimization_level).endswith("ORT_ENABLE_BASIC")
    assert make_session(c).get_inputs()[0].name == "X"


def test_inputs_follow_the_model_shapes_and_types(ort_system):
    c = load_system(str(ort_system("dims = { seq = 5 }\n[batching]\nmax_batch = 3\n", extra_input="seq"))).config
    inputs = ModelInputs(make_session(c), c, seed=7)
    feeds = inputs.feeds([0, 70, 5])
    assert feeds["X"].shape == (3, 16) and feeds["X"].dtype == np.float32
    assert feeds["ids"].shape == (3, 5) and feeds["ids"].dtype == np.int64
    assert feeds["ids"].min() >= 0 and feeds["ids"].max() < 100
    assert np.array_equal(feeds["X"][1], inputs.pools["X"][70 % 64])  # sample index modulo the pool


def test_a_fixed_batch_dimension_pads_partial_batches(ort_system):
    c = load_system(str(ort_system("[batching]\nmax_batch = 2\n", batch=4))).config
    feeds = ModelInputs(make_session(c), c, seed=0).feeds([3])
    assert feeds["X"].shape == (4, 16)
    c = load_system(str(ort_system("[batching]\nmax_batch = 8\n", batch=4))).config
    with pytest.raises(ConfigError, match="batching.max_batch = 8: the model's batch dimension is fixed at 4"):
        ModelInputs(make_session(c), c, seed=0)


def test_a_symbolic_dimension_needs_a_value(ort_system):
    c = load_system(str(ort_system(extra_input="seq"))).config
    with pytest.raises(ConfigError, match="onnxruntime.dims: input 'ids' has symbolic dimension 'seq'"):
        ModelInputs(make_session(c), c, seed=0)


BAD = {
    "missing model": ('model = "none.onnx"\n', "onnxruntime.model = 'none.onnx': model file not found"),
    "mode": ('execution_mode = "turbo"\n', "onnxruntime.execution_mode = 'turbo': must be one of sequential, parallel"),
    "level": ('graph_optimization = "max"\n', "must be one of disable, basic, extended, all"),
    "threads": ("intra_op_threads = -1\n", "onnxruntime.intra_op_threads = -1: must be >= 0"),
    "dims": ("dims = { seq = 0 }\n", "onnxruntime.dims.seq = 0: must be an integer >= 1"),
    "unknown": ("providers = []\n", "onnxruntime.providers = []: unknown key"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files(ort_system, write, case):
    body, message = BAD[case]
    path = ort_system()
    text = path.read_text().replace('model = "tiny.onnx"\n', "") if "model" in body else path.read_text()
    path.write_text(text + body)
    with pytest.raises(ConfigError) as info:
        load_system(str(path))
    assert str(path) in str(info.value) and message in str(info.value), str(info.value)


def test_a_file_that_is_not_a_model(write):
    write("junk.onnx", "not a model")
    c = load_system(str(write("j.toml", 'adapter = "onnxruntime"\n[onnxruntime]\nmodel = "junk.onnx"\n'))).config
    with pytest.raises(ConfigError, match="ONNX Runtime cannot load it"):
        make_session(c)


@pytest.mark.realtime
@pytest.mark.parametrize("scenario, flags", [
    ("server", ["--target-qps", "300", "--duration", "0.5"]),
    ("offline", ["--target-qps", "2000", "--duration", "0.5"]),
])
def test_bench_run_on_a_tiny_model(ort_system, tmp_path, scenario, flags):
    system = ort_system("workers = 2\n[batching]\nmax_batch = 8\ntimeout_s = 0.0005\n")
    out = tmp_path / scenario
    assert main_code(["run", "--scenario", scenario, "--sut", str(system), "--workload", "tiny", *flags,
                      "--out", str(out), "--no-report"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["failed_queries"] == 0 and result["time_mode"] == "real"
    assert result["sut"]["config"]["onnxruntime"]["model"] == "tiny.onnx"
    assert 0 < result["sut_stats"]["batches"] <= result["sample_count"]
    if scenario == "offline":
        assert result["sut_stats"]["batches"] >= result["sample_count"] / 8


def test_a_model_with_external_data_outside_its_folder_is_a_one_line_error(write, tmp_path, capsys):
    from test_workloads_onnx import outside_data_model
    path = outside_data_model(tmp_path)
    system = write("ort.toml", f'name = "ort"\nadapter = "onnxruntime"\n[onnxruntime]\nmodel = "{path}"\n')
    code = main_code(["run", "--scenario", "offline", "--sut", str(system), "--workload", "tiny",
                      "--duration", "0.1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and "outside" in err


def test_an_onnx_file_is_a_system_and_the_result_names_its_model(tmp_path):
    model = mlp(tmp_path / "tiny.onnx")
    out = tmp_path / "run"
    code = main_code(["run", "--scenario", "offline", "--sut", str(model), "--target-qps", "100",
                      "--duration", "0.2", "--out", str(out), "--no-report"])
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["sut"]["name"] == "tiny" and result["sut"]["adapter"] == "onnxruntime"
    assert result["sut"]["model"] == str(model.resolve())
    workload = result["workload"]  # resnet50's settings apply; its graph is not what ran
    assert workload["role"] == "settings" and workload["macs"] is None and workload["layers"] is None
    assert "the SUT serves its own model" in workload["description"]
