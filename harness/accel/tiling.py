"""Tiling a layer whose operands stream from DRAM: which loop order, and how often each is read.

A layer is a GEMM (inputs x weights -> outputs). When both its weights and its input come from
DRAM and do not fit the engine's tile buffer, one of them is split into blocks that stay on
chip while the other streams past every block (two-level blocking, as in ZigZag's temporal
mapping or SCALE-Sim's DRAM access model with a finite SRAM):

    weights outer: blocks of `buffer / 2` weight bytes (output channels); the input is
                   re-read once per weight block:   W + I * ceil(W / (buffer / 2))
    inputs outer:  blocks of `buffer / 2` input bytes (output rows); the weights are
                   re-read once per input block:    I + W * ceil(I / (buffer / 2))

The other half of the buffer holds the next block (double buffering: it loads while the
current one computes), the streamed operand and the outputs, which are complete per block (K is
never split) and written once. An operand that fits in one block needs no next block: it may
take the whole buffer but `reserve` bytes, which stay for a double-buffered array tile of the
streamed operand and of the outputs (memory.py: 4 x array_rows x array_cols elements), so
its passes are 1 up to `buffer - reserve` bytes. Without double buffering
(`memory.double_buffering = false`) every block may be that large: blocks of
`buffer - reserve`, the input re-read W / (buffer - reserve) times or the weights
I / (buffer - reserve) times. (Found against ZigZag, tests/data/zigzag: with
blocks always `buffer / 2`, ResNet-50's stage4.2.conv2 at 64 KiB re-read its 2.4 MB of weights
twice although its 50 KB input fits; ZigZag keeps the input whole and reads everything once.)
The cheaper order wins (ties: weights outer). With either operand on chip (resident weights,
input in the activation arena) nothing is re-read: passes = 1. Convolution halos (input rows
shared by neighbouring output tiles) are not counted: an input block re-reads no overlap, and
a weights-outer pass streams the input once through a line buffer.

Every function here works elementwise on numbers or numpy arrays, so memory.py can cost many
placements at once with the same formulas it then reports per layer.
"""

from __future__ import annotations

import numpy as np

ORDERS = ("untiled", "weights_outer", "inputs_outer")   # codes 0, 1, 2


def passes(operand, buffer, reserve=None, double=True):
    """Blocks of `operand` bytes: 1 up to `buffer - reserve` (one block, nothing to prefetch),
    else blocks of half the buffer (`double`: the next block loads while one computes) or of
    `buffer - reserve` (no double buffering). Default reserve: half the buffer."""
    single = buffer / 2 if reserve is None else np.maximum(buffer - reserve, buffer / 2)
    block = buffer / 2 if double else single
    return np.where(operand <= single, 1.0, np.maximum(1.0, np.ceil(operand / block)))


def tile(weights, inputs, buffer, reserve=None, double=True):
    """(weight DRAM bytes, input DRAM bytes, order code) of one layer.

    weights: weight bytes streamed from DRAM (0 when resident); inputs: input bytes read from
    DRAM (0 when on chip); buffer: tile-buffer bytes; reserve: bytes a single block leaves
    for the streamed operand and the outputs (default half the buffer); double: whether
    blocks are double-buffered (memory.double_buffering)."""
    both = (weights > 0) & (inputs > 0)
    w_passes = passes(weights, buffer, reserve, double)
    i_passes = passes(inputs, buffer, reserve, double)
    w_outer = weights + inputs * w_passes
    i_outer = inputs + weights * i_passes
    inner_first = both & (i_outer < w_outer)
    w_dram = np.where(inner_first, weights * i_passes, weights)
    i_dram = np.where(both & ~inner_first, inputs * w_passes, inputs)
    order = np.where(inner_first, np.where(i_passes > 1, 2, 0),
                     np.where(both & (w_passes > 1), 1, 0))
    return w_dram, i_dram, order
