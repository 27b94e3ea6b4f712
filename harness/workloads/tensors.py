"""Tensors flowing through a layer graph, and the shape arithmetic of convolution and pooling.

Shapes are per sample. The rank of a workload's `input` fixes its kind: `[C, H, W]` is an image,
`[T, D]` a token sequence, `[T]` token ids (for an embedding). Attention matmuls produce
per-head tensors `[heads, T, D]`; a fully connected layer on an image yields a vector `[D]`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KIND_OF_RANK = {3: "image", 2: "sequence", 1: "tokens"}
SHAPE_TEXT = {"image": "[C, H, W]", "sequence": "[T, D]", "tokens": "[T]", "heads": "[heads, T, D]",
              "vector": "[D]"}


@dataclass(frozen=True)
class Tensor:
    kind: str                 # "image" | "sequence" | "tokens" | "heads" | "vector"
    shape: tuple[int, ...]
    producer: str = ""        # the layer that wrote it; "" for the workload input

    @property
    def elems(self) -> int:
        return math.prod(self.shape)

    def describe(self) -> str:
        return f"{self.kind} {list(self.shape)}"


class ShapeError(Exception):
    """A layer that does not fit its input: the key at fault, its value and the rule."""

    def __init__(self, key: str, value: object, rule: str):
        super().__init__(rule)
        self.key, self.value, self.rule = key, value, rule


def input_tensor(shape: list[int]) -> Tensor:
    return Tensor(KIND_OF_RANK[len(shape)], tuple(shape))


def need(x: Tensor, op: str, *kinds: str) -> Tensor:
    """`x` if it is one of `kinds`, else a ShapeError naming what `op` expects."""
    if x.kind not in kinds:
        wanted = " or ".join(f"{k} {SHAPE_TEXT[k]}" for k in kinds)
        raise ShapeError("from", x.producer or "input", f"{op} needs {wanted}, got {x.describe()}")
    return x


def pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def out_size(size: int, kernel: int, stride: int, padding: str | int, key: str) -> int:
    """Output length along one axis: "same" = ceil(size / stride), else floor formula."""
    if padding == "same":
        return -(-size // stride)
    pad = 0 if padding == "valid" else int(padding)
    if size + 2 * pad < kernel:
        raise ShapeError(key, kernel, f"window {kernel} is larger than the padded input {size + 2 * pad}")
    return (size + 2 * pad - kernel) // stride + 1


def window_out(x: Tensor, kernel: tuple[int, int], stride: int, padding) -> tuple[int, int]:
    """(out_h, out_w) of a convolution or pooling window over image `x`."""
    ph, pw = (padding, padding) if isinstance(padding, (str, int)) else padding
    return (out_size(x.shape[1], kernel[0], stride, ph, "kernel"),
            out_size(x.shape[2], kernel[1], stride, pw, "kernel"))


def scalesim_row(out_hw: tuple[int, int], kernel: tuple[int, int], channels: int, filters: int,
                 stride: int) -> tuple[int, ...]:
    """A SCALE-Sim topology row giving the same output size: the input pre-padded, since
    SCALE-Sim models no padding and sizes outputs as ceil((H - Fh + S) / S)."""
    ih = (out_hw[0] - 1) * stride + kernel[0]
    iw = (out_hw[1] - 1) * stride + kernel[1]
    return (ih, iw, kernel[0], kernel[1], channels, filters, stride)
