"""The operators of the TOML layer graph: each is a key schema plus a build function.

A build function takes the layer's full name, its checked parameters and its input tensors, and
returns the `Layer` records it lowers to (MACs, weights and activations derived from shapes) and
its output tensor. It raises `ShapeError` when the layer does not fit its input.

Vector work is counted in element operations per sample: an activation, a residual add or a
folded batch-norm scale/shift is 1 per output element, a layer norm 4 (mean, variance,
normalise, scale/shift), a softmax 3 (exp, sum, divide), pooling one per window element read;
concat and upsample move data only (0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from harness.spec import MISSING, Check, one_of, positive, within

DIM = within(1, 1 << 24)  # a tensor dimension, a count of filters or heads: bounded sizes
from harness.workloads.model import Layer
from harness.workloads.tensors import ShapeError, Tensor, need, pair, scalesim_row, window_out

ACTIVATIONS = ("relu", "relu6", "leaky", "gelu", "tanh", "sigmoid", "silu", "hardswish")
LAYERNORM_OPS, SOFTMAX_OPS = 4, 3
RECURRENT = {"lstm": (4, 8), "gru": (3, 6), "rnn": (1, 1)}  # gates; vector ops per unit and step


def pair_check(v: Any) -> str | None:
    ok = _pos_int(v) or (isinstance(v, list) and len(v) == 2 and all(_pos_int(x) for x in v))
    return None if ok else "must be a positive integer or [height, width] of positive integers"


def padding_check(v: Any) -> str | None:
    ok = v in ("same", "valid") or _nonneg_int(v) or (
        isinstance(v, list) and len(v) == 2 and all(_nonneg_int(x) for x in v))
    return None if ok else 'must be "same", "valid", an integer >= 0 or [top/bottom, left/right]'


def ints_check(v: Any) -> str | None:
    ok = isinstance(v, list) and v and all(_pos_int(x) for x in v)
    return None if ok else "must be a non-empty list of positive integers"


def _pos_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _nonneg_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


@dataclass(frozen=True)
class Key:
    name: str
    kind: type
    default: Any = MISSING
    check: Check | None = None


ACT = Key("act", str, "none", one_of("none", *ACTIVATIONS))
SCHEMAS: dict[str, tuple[Key, ...]] = {
    "conv": (Key("filters", int, None, DIM), Key("kernel", object, MISSING, pair_check),
             Key("stride", int, 1, DIM), Key("padding", object, "same", padding_check),
             Key("groups", int, 1, DIM), Key("depthwise", bool, False), Key("bias", bool, None),
             Key("norm", str, "none", one_of("none", "batch")), ACT),
    "fc": (Key("features", int, MISSING, DIM), Key("bias", bool, True),
           Key("tokens", int, None, DIM), ACT),
    "matmul": (Key("heads", int, 1, DIM), Key("transpose_b", bool, False),
               Key("merge_heads", bool, False)),
    "embedding": (Key("features", int, MISSING, DIM), Key("tables", list, MISSING, ints_check)),
    "pool": (Key("kind", str, "max", one_of("max", "avg")), Key("global", bool, False),
             Key("kernel", object, None, pair_check), Key("stride", int, None, DIM),
             Key("padding", object, "valid", padding_check)),
    "add": (Key("on_mismatch", str, "error", one_of("error", "project", "skip")),
            Key("projection_norm", str, "batch", one_of("none", "batch")), ACT),
    "concat": (),
    "upsample": (Key("scale", int, 2, DIM),),
    "activation": (Key("fn", str, MISSING, one_of(*ACTIVATIONS)),),
    "softmax": (),
    "norm": (Key("kind", str, MISSING, one_of("layer", "batch")),),
    "lstm": (Key("hidden", int, MISSING, DIM), Key("cell", str, "lstm", one_of(*RECURRENT)),
             Key("directions", int, 1, within(1, 2)), Key("bias", bool, True)),
}
# How many tensors `from` names (None: exactly one, default the previous layer), and keys
# other than `from` that name a tensor.
ARITY: dict[str, int | None] = {"matmul": 2, "concat": -2}
REFERENCES: dict[str, tuple[str, ...]] = {"add": ("skip",)}


@dataclass(frozen=True)
class Built:
    layers: tuple[Layer, ...]
    out: Tensor


def vector_layer(name: str, op: str, inputs: list[Tensor], out: Tensor, ops_per_elem: int,
                 weights: int = 0) -> Layer:
    return Layer(name=name, op=op, weights=weights, in_elems=sum(t.elems for t in inputs),
                 out_elems=out.elems, vector_ops=out.elems * ops_per_elem,
                 inputs=tuple(t.producer for t in inputs), out_shape=out.shape)


# ---------------------------------------------------------------- weight layers


def conv_layer(name: str, x: Tensor, filters: int, kernel: tuple[int, int], stride: int,
               padding, groups: int, bias: bool, norm: bool, act: bool) -> Built:
    channels = x.shape[0]
    if channels % groups or filters % groups:
        raise ShapeError("groups", groups, f"must divide the input channels ({channels}) and "
                                           f"filters ({filters})")
    oh, ow = window_out(x, kernel, stride, padding)
    out = Tensor("image", (filters, oh, ow), name)
    cg, fg = channels // groups, filters // groups
    weights = kernel[0] * kernel[1] * cg * filters + filters * (int(bias) + 2 * int(norm))
    layer = Layer(name=name, op="conv", m=oh * ow, n=fg, k=kernel[0] * kernel[1] * cg, groups=groups,
                  weights=weights, in_elems=x.elems, out_elems=out.elems,
                  vector_ops=out.elems * (int(norm) + int(act)),
                  conv=scalesim_row((oh, ow), kernel, cg, fg, stride), inputs=(x.producer,),
                  out_shape=out.shape)
    return Built((layer,), out)


def build_conv(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "conv", "image")
    groups = x.shape[0] if p["depthwise"] else p["groups"]
    filters = p["filters"] or (x.shape[0] if p["depthwise"] else None)
    if filters is None:
        raise ShapeError("filters", None, "required key is missing (only a depthwise conv "
                                          "defaults to its input channels)")
    norm = p["norm"] != "none"
    bias = (not norm) if p["bias"] is None else p["bias"]
    return conv_layer(name, x, filters, pair(p["kernel"]), p["stride"], p["padding"], groups,
                      bias, norm, p["act"] != "none")


def build_fc(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "fc", "sequence", "image", "vector")
    rows, feats = x.shape if x.kind == "sequence" else (1, x.elems)
    if p["tokens"] is not None and (x.kind != "sequence" or p["tokens"] > rows):
        raise ShapeError("tokens", p["tokens"], f"must be at most the tokens of a sequence input "
                                                f"(input is {x.describe()})")
    m, n = p["tokens"] or rows, p["features"]
    out = Tensor("sequence", (m, n), name) if x.kind == "sequence" else Tensor("vector", (n,), name)
    layer = Layer(name=name, op="matmul", m=m, n=n, k=feats, weights=feats * n + n * int(p["bias"]),
                  in_elems=m * feats, out_elems=out.elems,
                  vector_ops=out.elems * int(p["act"] != "none"), inputs=(x.producer,),
                  out_shape=out.shape)
    return Built((layer,), out)


def build_embedding(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "embedding", "tokens")
    out = Tensor("sequence", (x.shape[0], p["features"]), name)
    tables = p["tables"]
    layer = replace(vector_layer(name, "embedding", [x], out, len(tables) - 1,
                                 weights=sum(tables) * p["features"]),
                    gathered=len(tables) * out.elems)   # one row per token from each table
    return Built((layer,), out)


# ---------------------------------------------------------------- attention matmul


def split_heads(x: Tensor, heads: int) -> tuple[int, int]:
    """(tokens, per-head features) of `x` seen as `heads` heads."""
    need(x, "matmul", "sequence", "heads")
    if x.kind == "heads":
        if x.shape[0] != heads:
            raise ShapeError("heads", heads, f"input {x.producer!r} has {x.shape[0]} heads")
        return x.shape[1], x.shape[2]
    if x.shape[1] % heads:
        raise ShapeError("heads", heads, f"must divide the features ({x.shape[1]}) of {x.producer!r}")
    return x.shape[0], x.shape[1] // heads


def build_matmul(name: str, p: dict, inputs: list[Tensor]) -> Built:
    a, b = inputs
    heads = p["heads"]
    m, k = split_heads(a, heads)
    rows_b, cols_b = split_heads(b, heads)
    k_b, n = (cols_b, rows_b) if p["transpose_b"] else (rows_b, cols_b)
    if k != k_b:
        raise ShapeError("from", [a.producer, b.producer],
                         f"inner dimensions differ ({k} vs {k_b}); check transpose_b")
    out = (Tensor("sequence", (m, heads * n), name) if p["merge_heads"]
           else Tensor("heads", (heads, m, n), name))
    layer = Layer(name=name, op="matmul", m=m, n=n, k=k, groups=heads, weights=0,
                  in_elems=a.elems + b.elems, out_elems=out.elems,
                  inputs=(a.producer, b.producer), out_shape=out.shape)
    return Built((layer,), out)


# ---------------------------------------------------------------- vector layers


def build_pool(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "pool", "image")
    if p["global"]:
        if p["kernel"] is not None:
            raise ShapeError("kernel", p["kernel"], "not used with global = true")
        out = Tensor("image", (x.shape[0], 1, 1), name)
        return Built((replace(vector_layer(name, "pool", [x], out, 0), vector_ops=x.elems),), out)
    if p["kernel"] is None:
        raise ShapeError("kernel", None, "required key is missing (unless global = true)")
    kernel = pair(p["kernel"])
    oh, ow = window_out(x, kernel, p["stride"] or kernel[0], p["padding"])
    out = Tensor("image", (x.shape[0], oh, ow), name)
    return Built((vector_layer(name, "pool", [x], out, kernel[0] * kernel[1]),), out)


def build_add(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x, skip = inputs
    extra: tuple[Layer, ...] = ()
    if x.shape != skip.shape:
        if p["on_mismatch"] == "skip":
            return Built((), x)
        if p["on_mismatch"] == "error":
            raise ShapeError("skip", skip.producer or "input",
                             f"shape {list(skip.shape)} differs from the input's {list(x.shape)}; "
                             'set on_mismatch = "project" or "skip"')
        extra = projection(name, x, skip, p["projection_norm"] != "none").layers
        skip = Tensor(x.kind, x.shape, extra[0].name)
    out = Tensor(x.kind, x.shape, name)
    act = int(p["act"] != "none")
    return Built(extra + (vector_layer(name, "eltwise", [x, skip], out, 1 + act),), out)


def projection(name: str, x: Tensor, skip: Tensor, norm: bool) -> Built:
    """The 1x1 conv that brings the shortcut `skip` to the shape of `x` (ResNet downsample)."""
    need(skip, "projection", "image")
    need(x, "projection", "image")
    stride = -(-skip.shape[1] // x.shape[1])
    built = conv_layer(f"{name}_proj", skip, x.shape[0], (1, 1), stride, "same", 1, not norm,
                       norm, False)
    if built.out.shape != x.shape:
        raise ShapeError("skip", skip.producer, f"cannot project {list(skip.shape)} to "
                                                f"{list(x.shape)} with a strided 1x1 conv")
    return built


def build_concat(name: str, p: dict, inputs: list[Tensor]) -> Built:
    first = need(inputs[0], "concat", "image", "sequence")
    for t in inputs[1:]:
        if t.kind != first.kind or t.shape[1:] != first.shape[1:]:
            raise ShapeError("from", [u.producer for u in inputs],
                             f"all but the channel dimension must match: "
                             f"{', '.join(t.describe() for t in inputs)}")
    out = Tensor(first.kind, (sum(t.shape[0] for t in inputs),) + first.shape[1:], name)
    if first.kind == "sequence":
        out = Tensor("sequence", (first.shape[0], sum(t.shape[1] for t in inputs)), name)
    return Built((vector_layer(name, "concat", inputs, out, 0),), out)


def build_upsample(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "upsample", "image")
    s = p["scale"]
    out = Tensor("image", (x.shape[0], x.shape[1] * s, x.shape[2] * s), name)
    return Built((vector_layer(name, "upsample", [x], out, 0),), out)


def build_activation(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "activation", "image", "sequence", "heads", "vector")
    out = replace(x, producer=name)
    return Built((vector_layer(name, "eltwise", [x], out, 1),), out)


def build_softmax(name: str, p: dict, inputs: list[Tensor]) -> Built:
    x = need(inputs[0], "softmax", "sequence", "heads", "vector")
    out = replace(x, producer=name)
    return Built((vector_layer(name, "softmax", [x], out, SOFTMAX_OPS),), out)


def build_norm(name: str, p: dict, inputs: list[Tensor]) -> Built:
    if p["kind"] == "batch":
        x = need(inputs[0], "batch norm", "image")
        weights, ops = 2 * x.shape[0], 1
    else:
        x = need(inputs[0], "layer norm", "sequence", "vector")
        weights, ops = 2 * x.shape[-1], LAYERNORM_OPS
    out = replace(x, producer=name)
    return Built((vector_layer(name, "norm", [x], out, ops, weights=weights),), out)


def build_lstm(name: str, p: dict, inputs: list[Tensor]) -> Built:
    """A recurrent layer over a [T, D] sequence: per step and direction one GEMM of [x_t, h_t-1]
    (D + H) with the gates' weights, the weights reused across the T steps; output [T, dirs*H]."""
    x = need(inputs[0], p["cell"], "sequence")
    (steps, feats), hidden, dirs = x.shape, p["hidden"], p["directions"]
    gates, ops = RECURRENT[p["cell"]]
    out = Tensor("sequence", (steps, dirs * hidden), name)
    weights = dirs * gates * hidden * (feats + hidden + 2 * int(p["bias"]))
    layer = Layer(name=name, op="lstm", m=1, n=gates * hidden, k=feats + hidden,
                  groups=steps * dirs, weights=weights, in_elems=x.elems, out_elems=out.elems,
                  vector_ops=ops * hidden * steps * dirs, inputs=(x.producer,), out_shape=out.shape)
    return Built((layer,), out)


BUILDERS: dict[str, Callable[[str, dict, list[Tensor]], Built]] = {
    "conv": build_conv, "fc": build_fc, "matmul": build_matmul, "embedding": build_embedding,
    "pool": build_pool, "add": build_add, "concat": build_concat, "upsample": build_upsample,
    "activation": build_activation, "softmax": build_softmax, "norm": build_norm,
    "lstm": build_lstm,
}
