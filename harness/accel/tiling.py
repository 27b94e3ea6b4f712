"""Tiling a layer whose operands stream from DRAM: which loop order, and how often each is read.

A layer is a GEMM (inputs x weights -> outputs). When both its weights and its input come from
DRAM and do not fit the engine's tile buffer, one of them is split into blocks that stay on
chip while the other streams past every block (two-level blocking, as in ZigZag's temporal
mapping or SCALE-Sim's DRAM access model with a finite SRAM):

    weights outer: blocks of `buffer / 2` weight bytes (output channels); the input is
                   re-read once per weight block:   W + I * ceil(W / (buffer / 2))
    inputs outer:  blocks of `buffer / 2` input bytes (output rows); the weights are
                   re-read once per input block:    I + W * ceil(I / (buffer / 2))

The other half of the buffer double-buffers the streamed operand and the outputs, which are
complete per block (K is never split) and written once. The cheaper order wins (ties: weights
outer). With either operand on chip (resident weights, input in the activation arena) nothing
is re-read: passes = 1. Convolution halos (input rows shared by neighbouring output tiles) are
not counted: an input block re-reads no overlap.

Every function here works elementwise on numbers or numpy arrays, so memory.py can cost many
placements at once with the same formulas it then reports per layer.
"""

from __future__ import annotations

import numpy as np

ORDERS = ("untiled", "weights_outer", "inputs_outer")   # codes 0, 1, 2


def passes(operand, buffer):
    """Blocks of `operand` bytes in half of a `buffer`-byte tile buffer (at least 1)."""
    return np.maximum(1.0, np.ceil(operand / (buffer / 2)))


def tile(weights, inputs, buffer):
    """(weight DRAM bytes, input DRAM bytes, order code) of one layer.

    weights: weight bytes streamed from DRAM (0 when resident); inputs: input bytes read from
    DRAM (0 when on chip); buffer: tile-buffer bytes."""
    both = (weights > 0) & (inputs > 0)
    w_passes, i_passes = passes(weights, buffer), passes(inputs, buffer)
    w_outer = weights + inputs * w_passes
    i_outer = inputs + weights * i_passes
    inner_first = both & (i_outer < w_outer)
    w_dram = np.where(inner_first, weights * i_passes, weights)
    i_dram = np.where(both & ~inner_first, inputs * w_passes, inputs)
    order = np.where(inner_first, np.where(i_passes > 1, 2, 0),
                     np.where(both & (w_passes > 1), 1, 0))
    return w_dram, i_dram, order
