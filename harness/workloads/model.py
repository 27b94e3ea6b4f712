"""The workload records shared by the load generator and the accelerator model.

A layer is described the way a systolic-array model sees it: a GEMM of (m x k) @ (k x n),
`groups` times per sample (depthwise channels, attention heads), plus the bytes it touches.
Counts are per sample (batch 1); the accelerator model scales them by batch.

`op` vocabulary: "conv" (incl. depthwise/grouped; `conv` holds the SCALE-Sim row of ONE group),
"matmul" (fully connected when `weights` > 0, activation x activation such as attention QK^T and
AV when `weights` == 0), "embedding" (table look-up: parameters, no MACs), "pool", "eltwise"
(residual add, activation), "softmax", "norm", "concat", "upsample" and "move" (pure data
movement such as an imported Transpose: `vector_ops` 0), "lstm" (LSTM/GRU/RNN: one GEMM of
[x_t, h_t-1] with the gate weights per time step, `groups` = steps x directions, m = 1 per
sample), "other" (an imported op bench has no model for: `vector_ops` = its output
elements).

`gathered` is set on a table look-up: the weight elements one sample actually reads (tokens x
width per table), so streaming the table costs those rows, not the whole table.

`fused` marks a layer that consumes its predecessor's output (the layer just before it in
`Workload.layers`) straight from on-chip memory, so that intermediate never travels to DRAM.
`precision` is the layer's own precision when the workload assigns one (workloads.precision);
"" runs it at the system's `compute.precision`.

`inputs` names the layers whose outputs this layer reads ("" = the workload input); `out_shape`
is the output tensor shape per sample ([C, H, W] images, [T, D] token sequences, [H, T, D]
per-head tensors, [D] vectors, [T] token ids).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    name: str
    op: str                 # "conv" | "matmul" | "pool" | "eltwise" | "softmax" | "norm" | ...
    m: int = 0              # GEMM rows per sample: output pixels (conv) or tokens (matmul)
    n: int = 0              # GEMM columns: filters or output features (per group)
    k: int = 0              # reduction: window x input channels per group, or input features
    groups: int = 1         # independent GEMMs per sample (depthwise channels, attention heads)
    weights: int = 0        # parameters (weights, biases, norm scales); 0 for activation x activation
    in_elems: int = 0       # input activation elements per sample
    out_elems: int = 0      # output activation elements per sample
    vector_ops: int = 0     # non-MAC element operations per sample (pooling, add, softmax, norm)
    conv: tuple[int, ...] | None = None  # SCALE-Sim topology row: ifmap_h, ifmap_w, filter_h,
                                         # filter_w, channels, filters, stride
    fused: bool = False     # input comes from the previous layer on chip (no DRAM round trip)
    inputs: tuple[str, ...] = ()     # producer layer names; "" = the workload input
    out_shape: tuple[int, ...] = ()  # output tensor shape per sample
    gathered: int = 0       # weight elements one sample reads when the layer looks rows up
                            # (embedding, Gather); 0: it reads all of its weights
    unmodeled: str = ""     # op "other": the imported operator bench has no model for
    precision: str = ""     # its own precision (the workload's [precision] table); "" = the system's

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.groups


@dataclass(frozen=True)
class Workload:
    name: str
    benchmark: str          # the MLPerf benchmark whose settings apply (latency bound, counts)
    description: str = ""
    source: str = ""
    fingerprint: str = ""
    layers: tuple[Layer, ...] = field(default=(), repr=False)
    input_shape: tuple[int, ...] = ()   # per sample: [C, H, W], [T] token ids or [T, D]
    accuracy: tuple = ()                # declared accuracy per precision/sparsity (workloads.accuracy)

    @property
    def input_elems(self) -> int:
        return math.prod(self.input_shape) if self.input_shape else 0

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def precisions(self) -> dict[str, str]:
        """{layer name: precision} of the layers with their own (mixed precision)."""
        return {layer.name: layer.precision for layer in self.layers if layer.precision}

    def describe(self) -> dict:
        return {"name": self.name, "benchmark": self.benchmark, "description": self.description,
                "source": self.source, "fingerprint": self.fingerprint,
                "layers": len(self.layers), "macs": self.macs, "params": self.params,
                "input_shape": list(self.input_shape),
                "precision": self.precisions,
                "accuracy": [a.as_dict() for a in self.accuracy]}

