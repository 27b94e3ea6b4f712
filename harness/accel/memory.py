"""What stays on chip, and the DRAM and SRAM bytes each layer moves for one batch.

Rules (one engine, its own SRAM of `sram_bytes`):

* Weights are **resident** when `weights_resident` is on and all of the model's weights plus
  room for the working activations (the largest layer's input + output, at most half the SRAM)
  fit. Then only an engine's first batch (a cold start) loads them from DRAM. Otherwise every
  layer streams its weights from DRAM on every batch, through a weight buffer of half the SRAM.
* A layer's activations stay on chip when its input + output fit in what the weights leave
  (`sram_bytes` - resident weights, or - min(layer weights, sram/2) when streaming). A layer that
  does not fit reads its input from DRAM (once per weight-buffer load when its weights exceed
  the buffer: output-channel blocking) and its producers write their outputs to DRAM.
* With `fusion` on, a layer the workload marks `fused` takes its predecessor's output straight
  from chip (tile-level fusion), whatever its size. The workload's input is read from DRAM and
  the last layer's output is written to DRAM.
* SRAM bytes = operand traffic between SRAM and the array (see compute.operand_sram_elems)
  plus every DRAM byte, which passes through SRAM once.

Producers come from `Layer.inputs` (names; "" = the workload input); a layer without `inputs`
reads its predecessor's output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.accel.compute import layer_gemm, on_vector_unit, operand_sram_elems
from harness.accel.config import Hardware
from harness.workloads.model import Layer

INPUT = ""


@dataclass(frozen=True)
class Traffic:
    """Bytes one layer moves for one batch (warm: resident weights already loaded)."""

    weight_dram: float
    in_dram: float
    out_dram: float
    sram: float
    cold_weight_dram: float   # extra DRAM bytes on a cold start (resident weights loading)

    @property
    def dram(self) -> float:
        return self.weight_dram + self.in_dram + self.out_dram


@dataclass(frozen=True)
class Placement:
    resident: bool
    weight_bytes: float
    layers: tuple[Traffic, ...]


def weight_bytes(layer: Layer, hw: Hardware) -> float:
    """Stored weight bytes; N:M sparsity keeps N/M of them plus log2(M)-bit indices each."""
    dense = layer.weights * hw.compute.element_bytes
    n, m = hw.compute.sparsity
    if layer.weights <= 0 or layer.k <= 0 or (n, m) == (1, 1):
        return dense
    kept = layer.weights * layer_gemm(layer, 1, (n, m)).k / layer.k
    return kept * hw.compute.element_bytes + kept * math.ceil(math.log2(m)) / 8


def producers(layers: tuple[Layer, ...]) -> list[list[int | None]]:
    """Index of each layer's producers; None = the workload input."""
    index = {layer.name: i for i, layer in enumerate(layers)}
    found: list[list[int | None]] = []
    for i, layer in enumerate(layers):
        names = layer.inputs or ((layers[i - 1].name,) if i else (INPUT,))
        found.append([None if n == INPUT or n not in index else index[n] for n in names])
    return found


def is_resident(hw: Hardware, weights: list[float], acts: list[float]) -> bool:
    sram = hw.memory.sram_bytes
    reserve = min(max(acts, default=0.0), sram / 2)
    return hw.memory.weights_resident and sum(weights) + reserve <= sram


def _fits(hw: Hardware, resident: bool, weights: list[float], acts: list[float]) -> list[bool]:
    sram = hw.memory.sram_bytes
    total = sum(weights)
    budgets = [sram - total if resident else sram - min(w, sram / 2) for w in weights]
    return [a <= b for a, b in zip(acts, budgets)]


def _out_to_dram(layers: tuple[Layer, ...], fused: list[bool], fits: list[bool],
                 srcs: list[list[int | None]]) -> list[bool]:
    """Which layers write their output to DRAM."""
    count = len(layers)
    out_dram = [i == count - 1 for i in range(count)]
    for i in range(count):
        if not fits[i] and not fused[i]:  # too big to keep its inputs: producers write them out
            for p in srcs[i]:
                if p is not None:
                    out_dram[p] = True
        consumed_fused = i + 1 < count and fused[i + 1]
        if not fits[i] and not consumed_fused:
            out_dram[i] = True
    return out_dram


def _input_elems(layers: tuple[Layer, ...], i: int, fused: bool, out_dram: list[bool],
                 srcs: list[list[int | None]]) -> int:
    """Input elements (per sample) layer i reads from DRAM."""
    total = 0
    for p in srcs[i]:
        if p is None:
            total += layers[i].in_elems // len(srcs[i])
        elif out_dram[p] and not (fused and p == i - 1):
            total += layers[p].out_elems
    return total


def _sram_bytes(layer: Layer, hw: Hardware, batch: int) -> float:
    c = hw.compute
    gemm = layer_gemm(layer, batch, c.sparsity)
    vector = on_vector_unit(c, layer)
    elems = 0 if vector else operand_sram_elems(c.dataflow, c.array_rows, c.array_cols, gemm)
    if elems == 0:  # vector-unit work streams its operands once
        elems = (layer.in_elems + layer.out_elems) * batch + gemm.k * gemm.n * gemm.groups
    return elems * c.element_bytes


def place(layers: tuple[Layer, ...], hw: Hardware, batch: int) -> Placement:
    """Decide residency and spills, and count every layer's bytes for one batch."""
    bpe = hw.compute.element_bytes
    weights = [weight_bytes(layer, hw) for layer in layers]
    acts = [(layer.in_elems + layer.out_elems) * batch * bpe for layer in layers]
    resident = is_resident(hw, weights, acts)
    fits = _fits(hw, resident, weights, acts)
    fused = [hw.memory.fusion and layer.fused and i > 0 for i, layer in enumerate(layers)]
    srcs = producers(layers)
    out_dram = _out_to_dram(layers, fused, fits, srcs)
    buffer = hw.memory.sram_bytes / 2
    rows = []
    for i, layer in enumerate(layers):
        passes = 1 if resident else max(1, math.ceil(weights[i] / buffer))
        in_bytes = _input_elems(layers, i, fused[i], out_dram, srcs) * batch * bpe * passes
        out_bytes = layer.out_elems * batch * bpe if out_dram[i] else 0.0
        w_dram = 0.0 if resident else weights[i]
        dram = w_dram + in_bytes + out_bytes
        rows.append(Traffic(weight_dram=w_dram, in_dram=in_bytes, out_dram=out_bytes,
                            sram=_sram_bytes(layer, hw, batch) + dram,
                            cold_weight_dram=weights[i] if resident else 0.0))
    return Placement(resident=resident, weight_bytes=sum(weights), layers=tuple(rows))
