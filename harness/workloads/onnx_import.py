"""ONNX import: `onnx.shape_inference` fills every tensor's shape, then each node becomes a Layer.

A symbolic leading (batch) dimension of a graph input is set to 1 before inference, so all counts
are per sample; any other symbolic dimension is an error (export with static shapes). Nodes:

- Conv (any `group`, 1-3 spatial dims): m = output pixels, n = filters per group, k = kernel x
  input channels per group; weights = W + B. The SCALE-Sim row is set for 2-D convs with equal
  strides and no dilation.
- Gemm, MatMul: with a constant operand, a weight GEMM (weights = its elements, + Gemm's C);
  between two activations (attention), weights = 0 and the leading dims become `groups`.
- Gather from a constant table: "embedding" (weights = the table, no MACs).
- MaxPool / AveragePool / LpPool: vector ops = output x window; GlobalAveragePool /
  GlobalMaxPool and the Reduce* / ArgMax / ArgMin reductions: = input elements.
- Element-wise ops (Add, Mul, Relu, Clip, Sigmoid, ...): "eltwise", 1 op per output element;
  constant non-scalar operands (biases) count as weights. Softmax 3 ops per element.
- BatchNormalization: "norm", weights = scale + bias (running statistics are not parameters),
  1 op per element; LayerNormalization / InstanceNormalization / GroupNormalization: 4.
- Concat, Resize/Upsample and other copies (Transpose, Slice, Split, Pad, ...): data movement,
  0 vector ops ("concat", "upsample", "move").
- Shape-only nodes (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, Cast, Shape, ...)
  and nodes computing only from constants produce no layer.
- ConvTranspose: the GEMM of each input pixel with every filter tap, m = input pixels,
  k = input channels per group, n = output channels per group x kernel taps.
- LSTM / GRU / RNN: one GEMM per time step and direction of [x_t, h_t-1] (D + H) with the
  gates' weights (4H, 3H, H), the weights reused across steps: groups = steps x directions;
  vector ops 8, 6 and 1 per hidden unit and step (gate activations and the cell update).
- Gather from a constant table reads only the looked-up rows (`Layer.gathered`).
- QuantizeLinear / DequantizeLinear (and DynamicQuantizeLinear): element-wise on the vector
  unit, fused into the layer they follow.
- Any other op is an error naming the op, the node and the file; with `allow_unmodeled` it is
  kept as an "other" layer whose vector ops are its output elements (a listed approximation:
  the profile's `unmodeled_layers`), its MACs (if any) not counted.

An element-wise, norm or softmax layer whose input is the previous layer's only consumer is
marked `fused`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import NO_VALUE, config_error
from harness.spec import Problems
from harness.workloads.model import Layer, Workload
from harness.workloads.onnx_graph import OnnxGraph, read_model
from harness.workloads.source import fingerprint_all, identity_from_overrides, raise_unique
from harness.workloads.tensors import scalesim_row

ELTWISE = frozenset(
    "Add Sub Mul Div Pow Sqrt Reciprocal Exp Log Neg Abs Relu LeakyRelu PRelu Elu Selu Celu "
    "Clip Sigmoid HardSigmoid HardSwish Tanh Erf Gelu Softplus Softsign Mish Swish Max Min Mean "
    "Sum Where Equal Greater GreaterOrEqual Less LessOrEqual Not And Or Xor Floor Ceil Round "
    "Sign Mod BitShift IsNaN IsInf ThresholdedRelu QuickGelu QuantizeLinear DequantizeLinear "
    "DynamicQuantizeLinear".split())
RECURRENT = {"LSTM": (4, 8), "GRU": (3, 6), "RNN": (1, 1)}   # gates, vector ops per unit and step
MOVES = {"Concat": "concat", "Resize": "upsample", "Upsample": "upsample"}
COPIES = frozenset("Transpose Slice Split Pad Tile Expand GatherElements GatherND DepthToSpace "
                   "SpaceToDepth ReverseSequence".split())
VIEWS = frozenset("Reshape Flatten Squeeze Unsqueeze Identity Dropout Cast CastLike Shape Size "
                  "Constant ConstantOfShape".split())
NORMS = {"BatchNormalization": 1, "LayerNormalization": 4, "InstanceNormalization": 4,
         "GroupNormalization": 4}
POOLS = frozenset("MaxPool AveragePool LpPool".split())
GLOBAL_POOLS = frozenset("GlobalAveragePool GlobalMaxPool GlobalLpPool ReduceMean ReduceSum "
                         "ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceSumSquare "
                         "ReduceLogSumExp ArgMax ArgMin".split())
FUSABLE = frozenset(("eltwise", "norm", "softmax"))


def load_onnx(path: Path, overrides: dict[str, Any] | None = None,
              allow_unmodeled: bool = False) -> Workload:
    source = catalog.label(path)
    name, benchmark, description = identity_from_overrides(source, path.stem, overrides)
    problems = Problems()
    graph = OnnxGraph(read_model(path, source), source, problems)
    raise_unique(problems)
    layers = [layer for layer in (node_layer(node, i, graph) for i, node in graph.nodes()) if layer]
    if not allow_unmodeled:
        refuse_unmodeled(graph, layers, problems)
    raise_unique(problems)
    if not layers:
        raise config_error(source, "", NO_VALUE, "the model has no compute nodes")
    return Workload(name=name, benchmark=benchmark, description=description, source=source,
                    fingerprint=fingerprint_all([path], overrides), layers=mark_fused(layers),
                    input_shape=graph.input_shape())


def node_layer(node, index: int, g: OnnxGraph) -> Layer | None:
    """The Layer for one node (None for view/constant nodes), with its name, inputs and shape."""
    op = node.op_type
    if op in VIEWS or g.all_constant(node):
        g.alias(node)
        return None
    out = g.shape(node.output[0], node)
    if out is None:
        return None
    builder = BUILD.get(op) or _by_family(op)
    layer = builder(node, g, out)
    name = node.name or f"{op}_{index}"
    g.produced(node, name)
    return replace(layer, name=name, inputs=g.producers(node), out_shape=per_sample(out))


def refuse_unmodeled(g: OnnxGraph, layers: list[Layer], problems: Problems) -> None:
    """Every node bench cannot cost, as one problem each (op, node, file)."""
    for layer in layers:
        if layer.op == "other":
            problems.add(g.source, f"node {layer.name!r}", layer.unmodeled,
                         "operator bench cannot cost; pass --allow-unmodeled to profile it as "
                         "its output elements of vector work (listed in the profile)")
    raise_unique(problems)


def _by_family(op: str):
    if op in ELTWISE:
        return eltwise
    if op in POOLS:
        return pool
    if op in GLOBAL_POOLS:
        return global_pool
    if op in NORMS:
        return norm
    if op in COPIES or op in MOVES:
        return move
    return other


def per_sample(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[1:] if len(shape) > 1 and shape[0] == 1 else shape


def conv(node, g: OnnxGraph, out: tuple[int, ...]) -> Layer:
    x, w = g.shape(node.input[0], node), g.shape(node.input[1], node)
    groups = g.attr(node, "group", 1)
    filters, per_group, *kernel = w
    m = math.prod(out[2:])
    strides = g.attr(node, "strides", [1] * len(kernel))
    dilations = g.attr(node, "dilations", [1] * len(kernel))
    row = None
    if len(kernel) == 2 and strides[0] == strides[1] and set(dilations) == {1}:
        row = scalesim_row((out[2], out[3]), (kernel[0], kernel[1]), per_group, filters // groups, strides[0])
    return Layer(name="", op="conv", m=m, n=filters // groups, k=per_group * math.prod(kernel),
                 groups=groups, weights=g.elems_of(node.input[1:]), in_elems=math.prod(x),
                 out_elems=math.prod(out), conv=row)


def gemm(node, g: OnnxGraph, out: tuple[int, ...]) -> Layer:
    a = g.shape(node.input[0], node)
    k = a[0] if g.attr(node, "transA", 0) else a[-1]
    weights = g.elems_of(node.input[1:]) if g.is_constant(node.input[1]) else g.elems_of(node.input[2:])
    return Layer(name="", op="matmul", m=out[0], n=out[1], k=k, weights=weights,
                 in_elems=g.activation_elems(node), out_elems=math.prod(out))


def matmul(node, g: OnnxGraph, out: tuple[int, ...]) -> Layer:
    a, b = g.shape(node.input[0], node), g.shape(node.input[1], node)
    k = a[-1]
    n = b[-1] if len(b) >= 2 else 1
    if g.is_constant(node.input[1]):          # activations x weights: one GEMM
        m, groups, weights = math.prod(out) // n, 1, math.prod(b)
    else:                                     # batched GEMMs (constant A: weights)
        m = a[-2] if len(a) >= 2 else 1
        weights = g.elems_of(node.input[:1]) if g.is_constant(node.input[0]) else 0
        groups = math.prod(out) // (m * n)
    return Layer(name="", op="matmul", m=m, n=n, k=k, groups=groups, weights=weights,
                 in_elems=g.activation_elems(node), out_elems=math.prod(out))


def embedding(node, g: OnnxGraph, out: tuple[int, ...]) -> Layer:
    if not g.is_constant(node.input[0]):
        return move(node, g, out)
    return Layer(name="", op="embedding", weights=g.elems_of(node.input[:1]),
                 in_elems=g.activation_elems(node), out_elems=math.prod(out),
                 gathered=math.prod(out))


def conv_transpose(node, g: OnnxGraph, out: tuple[int, ...]) -> Layer:
    x, w = g.shape(node.input[0], node), g.shape(node.input[1], node)
    groups = g.attr(node, "group", 1)
    channels, per_group, *kernel = w          # ONNX: [C_in, C_out / group, kH, kW]
    return Layer(name="", op="conv", m=math.prod(x[2:]), n=per_group * math.prod(kernel),
                 k=channels // groups, groups=groups, weights=g.elems_of(node.input[1:]),
                 in_elems=math.prod(x), out_elems=math.prod(out))


def recurrent(node, g: OnnxGraph, out: tuple[int, ...]) -> Layer:
    """LSTM / GRU / RNN: X [T, B, D], W [dirs, gates*H, D], R [dirs, gates*H, H]."""
    x, w = g.shape(node.input[0], node), g.shape(node.input[1], node)
    gates, ops = RECURRENT[node.op_type]
    steps, dirs, hidden = x[0], w[0], w[1] // gates
    return Layer(name="", op="lstm", m=1, n=gates * hidden, k=x[-1] + hidden, groups=steps * dirs,
                 weights=g.elems_of(node.input[1:4]), in_elems=math.prod(x[:1] + x[2:]),
                 out_elems=math.prod(out), vector_ops=ops * hidden * steps * dirs)


def vector(op: str, node, g: OnnxGraph, out: tuple[int, ...], ops: int, weights: int = 0) -> Layer:
    return Layer(name="", op=op, weights=weights, in_elems=g.activation_elems(node),
                 out_elems=math.prod(out), vector_ops=ops)


def eltwise(node, g, out):
    return vector("eltwise", node, g, out, math.prod(out), g.constant_params(node))


def softmax(node, g, out):
    return vector("softmax", node, g, out, 3 * math.prod(out))


def pool(node, g, out):
    return vector("pool", node, g, out, math.prod(out) * math.prod(g.attr(node, "kernel_shape", [1])))


def global_pool(node, g, out):
    return vector("pool", node, g, out, g.activation_elems(node))


def norm(node, g, out):
    weights = g.elems_of(node.input[1:3])
    return vector("norm", node, g, out, NORMS[node.op_type] * math.prod(out), weights)


def move(node, g, out):
    return vector(MOVES.get(node.op_type, "move"), node, g, out, 0)


def other(node, g, out):
    return replace(vector("other", node, g, out, math.prod(out)), unmodeled=node.op_type)


BUILD = {"Conv": conv, "Gemm": gemm, "MatMul": matmul, "Gather": embedding,
         "Softmax": softmax, "LogSoftmax": softmax, "ConvTranspose": conv_transpose,
         **{op: recurrent for op in RECURRENT}}


def mark_fused(layers: list[Layer]) -> tuple[Layer, ...]:
    """Vector layers that read the previous layer's output, its only consumer, are fused."""
    readers: dict[str, int] = {}
    for layer in layers:
        for name in set(layer.inputs):
            readers[name] = readers.get(name, 0) + 1
    result = [layers[0]]
    for previous, layer in zip(layers, layers[1:]):
        fused = (layer.op in FUSABLE and layer.inputs[:1] == (previous.name,)
                 and readers.get(previous.name) == 1)
        result.append(replace(layer, fused=fused))
    return tuple(result)
