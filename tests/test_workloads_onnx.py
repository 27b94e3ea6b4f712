"""ONNX import (harness.workloads.onnx_import, onnx_graph): small models built with onnx.helper,
exact layer counts and MACs; plus the weight-stripped ResNet-50 that ships inside the onnx wheel
(4.089 GMAC, 25.504 M conv+fc + 53,120 BN parameters, accelerator-modeling.md s.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
import numpy as np  # noqa: E402

from harness.errors import ConfigError  # noqa: E402
from harness.workloads import load_workload  # noqa: E402

FLOAT = TensorProto.FLOAT


def weight(name, *dims):
    return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)


def save(tmp_path, nodes, inputs, outputs, initializers=(), name="m.onnx"):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def cnn(tmp_path, batch="N"):
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="dw", group=8, pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c2"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
        helper.make_node("Softmax", ["y"], ["z"], name="softmax"),
    ]
    inits = [weight("w1", 8, 3, 3, 3), weight("b1", 8), weight("w2", 8, 1, 3, 3),
             weight("wf", 10, 8), weight("bf", 10)]
    x = helper.make_tensor_value_info("x", FLOAT, [batch, 3, 16, 16])
    z = helper.make_tensor_value_info("z", FLOAT, [batch, 10])
    return save(tmp_path, nodes, [x], [z], inits)


def test_small_cnn_layers_exact(tmp_path):
    w = load_workload(cnn(tmp_path))
    assert [l.name for l in w.layers] == ["conv1", "relu1", "dw", "pool", "gap", "fc", "softmax"]
    assert [l.op for l in w.layers] == ["conv", "eltwise", "conv", "pool", "pool", "matmul", "softmax"]
    conv1, relu, dw, pool, gap, fc, sm = w.layers
    assert (conv1.m, conv1.n, conv1.k, conv1.weights) == (64, 8, 27, 8 * 27 + 8)
    assert conv1.conv == (17, 17, 3, 3, 3, 8, 2) and conv1.out_shape == (8, 8, 8)
    assert relu.fused and relu.vector_ops == 512 and relu.inputs == ("conv1",)
    assert (dw.m, dw.n, dw.k, dw.groups, dw.weights) == (64, 1, 9, 8, 72)
    assert pool.vector_ops == 8 * 4 * 4 * 4 and gap.vector_ops == 128
    assert (fc.m, fc.n, fc.k, fc.weights) == (1, 10, 8, 90) and fc.inputs == ("gap",)
    assert sm.vector_ops == 30 and sm.fused
    assert w.macs == 64 * 8 * 27 + 64 * 9 * 8 + 80
    assert w.params == 224 + 72 + 90 and w.input_shape == (3, 16, 16)
    assert w.name == "m" and w.benchmark == "m"


def test_attention_matmuls_and_embedding(tmp_path):
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
        helper.make_node("MatMul", ["e", "wq"], ["q0"], name="q"),
        helper.make_node("Add", ["q0", "bq"], ["q1"], name="q_bias"),
        helper.make_node("Reshape", ["q1", "heads_shape"], ["q2"], name="split"),
        helper.make_node("Transpose", ["q2"], ["q3"], name="to_heads", perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["q2"], ["k3"], name="to_keys", perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["q3", "k3"], ["s"], name="scores"),
        helper.make_node("Softmax", ["s"], ["p"], name="probs", axis=-1),
        helper.make_node("MatMul", ["p", "q3"], ["ctx"], name="context"),
        helper.make_node("ReduceMean", ["ctx"], ["out"], name="mean", axes=[-1], keepdims=1),
    ]
    inits = [weight("table", 100, 16), weight("wq", 16, 16), weight("bq", 16),
             numpy_helper.from_array(np.array([1, 8, 2, 8], dtype=np.int64), "heads_shape")]
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])
    out = helper.make_tensor_value_info("out", FLOAT, None)
    w = load_workload(save(tmp_path, nodes, [ids], [out], inits))
    layers = {l.name: l for l in w.layers}
    assert list(layers) == ["embed", "q", "q_bias", "to_heads", "to_keys", "scores", "probs",
                            "context", "mean"]
    assert layers["embed"].op == "embedding" and layers["embed"].weights == 1600
    assert (layers["q"].m, layers["q"].n, layers["q"].k, layers["q"].weights) == (8, 16, 16, 256)
    assert layers["q_bias"].weights == 16 and layers["q_bias"].fused
    s = layers["scores"]
    assert (s.m, s.n, s.k, s.groups, s.weights) == (8, 8, 8, 2, 0)
    assert s.inputs == ("to_heads", "to_keys")
    c = layers["context"]
    assert (c.m, c.n, c.k, c.groups) == (8, 8, 8, 2)
    assert layers["to_heads"].op == "move" and layers["to_heads"].vector_ops == 0
    mean = layers["mean"]   # was an uncosted "other"; a reduction reads every input element
    assert (mean.op, mean.vector_ops) == ("pool", mean.in_elems) and mean.in_elems == 8 * 16
    assert w.macs == 8 * 16 * 16 + 2 * (2 * 8 * 8 * 8)


def test_fixed_batch_of_one_and_symbolic_batch_agree(tmp_path):
    a = load_workload(cnn(tmp_path, batch="N"))
    (tmp_path / "m.onnx").unlink()
    b = load_workload(cnn(tmp_path, batch=1))
    assert a.macs == b.macs and len(a.layers) == len(b.layers)


def test_symbolic_non_batch_dim_is_rejected(tmp_path):
    x = helper.make_tensor_value_info("x", FLOAT, [1, "seq", 16])
    y = helper.make_tensor_value_info("y", FLOAT, None)
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [x], [y])
    with pytest.raises(ConfigError) as info:
        load_workload(path)
    assert str(info.value).startswith(f"{path}: graph.input = \"x[1] = 'seq'\": symbolic")


def test_not_an_onnx_file(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x00garbage\xff" * 10)
    with pytest.raises(ConfigError, match=r"bad\.onnx: not a readable ONNX model"):
        load_workload(str(path))


def test_light_resnet50_from_the_onnx_wheel():
    path = Path(onnx.__file__).parent / "backend/test/data/light/light_resnet50.onnx"
    if not path.is_file():
        pytest.skip("this onnx wheel has no light models")
    w = load_workload(str(path))
    assert w.macs == 4_089_184_256
    assert sum(l.weights for l in w.layers if l.op in ("conv", "matmul")) == 25_503_912
    assert w.params == 25_557_032                 # + BN scale/shift = torchvision's count
    assert sum(l.op == "conv" for l in w.layers) == 53


def outside_data_model(tmp_path):
    """A model whose weight's external data file is '../../outside.bin'."""
    (tmp_path / "outside.bin").write_bytes(b"\0" * 64)
    w = weight("W", 4, 4)
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("raw_data")
    entry = w.external_data.add()
    entry.key, entry.value = "location", "../../outside.bin"
    x = helper.make_tensor_value_info("x", FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", FLOAT, [1, 4])
    (tmp_path / "a" / "b").mkdir(parents=True)
    model = helper.make_model(helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g", [x], [y], [w]))
    path = tmp_path / "a" / "b" / "m.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("command", ["profile", "run"])
def test_external_data_outside_the_model_folder_is_a_one_line_error(tmp_path, capsys, command):
    from test_realtime import main_code
    path = outside_data_model(tmp_path)
    argv = [command, "--sut", "npu_v1", "--workload", str(path)]
    argv += ["--scenario", "offline", "--out", str(tmp_path / "o")] if command == "run" else []
    code = main_code(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and "points outside the directory" in err
    assert not (tmp_path / "o").exists()


def test_conv_transpose_counts_every_filter_tap_of_every_input_pixel(tmp_path):
    """64 -> 32 channels, 4x4 kernel, stride 2 on 56x56: 56*56 * 64 * 32 * 16 MACs."""
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2],
                              pads=[1, 1, 1, 1])]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("x", FLOAT, [1, 64, 56, 56])],
                [helper.make_tensor_value_info("y", FLOAT, None)], [weight("w", 64, 32, 4, 4)])
    (layer,) = load_workload(path).layers
    assert (layer.op, layer.macs, layer.weights) == ("conv", 56 * 56 * 64 * 32 * 16, 64 * 32 * 16)
    assert layer.out_elems == 32 * 112 * 112


@pytest.mark.parametrize("op,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_recurrent_layers_are_one_gemm_per_step_with_shared_weights(tmp_path, op, gates):
    """T = 35 steps, D = 512 inputs, H = 256 hidden: T x gates*H x (D + H) MACs."""
    t, d, h = 35, 512, 256
    nodes = [helper.make_node(op, ["x", "w", "r", "b"], ["y"], name="rnn", hidden_size=h)]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("x", FLOAT, [t, 1, d])],
                [helper.make_tensor_value_info("y", FLOAT, None)],
                [weight("w", 1, gates * h, d), weight("r", 1, gates * h, h),
                 weight("b", 1, 2 * gates * h)])
    (layer,) = load_workload(path).layers
    assert (layer.op, layer.macs) == ("lstm", t * gates * h * (d + h))
    assert layer.weights == gates * h * (d + h) + 2 * gates * h
    assert layer.groups == t     # one GEMM per step: the array cannot overlap dependent steps


def test_gather_reads_only_the_looked_up_rows(tmp_path):
    nodes = [helper.make_node("Gather", ["table", "ids"], ["e"], name="emb")]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 384])],
                [helper.make_tensor_value_info("e", FLOAT, None)], [weight("table", 30522, 768)])
    (layer,) = load_workload(path).layers
    assert (layer.weights, layer.gathered) == (30522 * 768, 384 * 768)


def test_quantize_and_dequantize_are_elementwise_and_folded_into_their_producer(tmp_path):
    """Each was an unfused "other" layer charged ~33.5 MB of DRAM; now vector work on chip."""
    scale = numpy_helper.from_array(np.array(0.1, dtype=np.float32), "s")
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("QuantizeLinear", ["r", "s"], ["q"], name="q"),
             helper.make_node("DequantizeLinear", ["q", "s"], ["d"], name="dq")]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("x", FLOAT, [1, 64, 112, 112])],
                [helper.make_tensor_value_info("d", FLOAT, None)], [scale])
    relu, q, dq = load_workload(path).layers
    for layer in (q, dq):
        assert (layer.op, layer.vector_ops, layer.weights, layer.fused) == (
            "eltwise", 64 * 112 * 112, 0, True)


def test_an_operator_bench_cannot_cost_is_refused_naming_it(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Hardmax", ["r"], ["h"], name="mystery")]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("x", FLOAT, [1, 10])],
                [helper.make_tensor_value_info("h", FLOAT, None)])
    with pytest.raises(ConfigError) as err:
        load_workload(path)
    assert "node 'mystery'" in str(err.value) and "Hardmax" in str(err.value)
    assert "m.onnx" in str(err.value) and "--allow-unmodeled" in str(err.value)
    relu, other = load_workload(path, allow_unmodeled=True).layers
    assert (other.op, other.unmodeled, other.vector_ops) == ("other", "Hardmax", 10)


def test_bench_run_takes_allow_unmodeled_too(tmp_path, capsys):
    from test_realtime import main_code
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Hardmax", ["r"], ["h"], name="mystery")]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("x", FLOAT, [1, 10])],
                [helper.make_tensor_value_info("h", FLOAT, None)])
    argv = ["run", "--scenario", "offline", "--sut", "npu_v1", "--workload", str(path), "--duration", "0.1",
            "--no-report"]
    assert main_code(argv + ["--out", str(tmp_path / "refused")]) == 2
    assert "Hardmax" in capsys.readouterr().err and not (tmp_path / "refused").exists()
    assert main_code(argv + ["--out", str(tmp_path / "ran"), "--allow-unmodeled"]) == 0
    assert (tmp_path / "ran" / "result.json").is_file()
