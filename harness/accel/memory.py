"""What stays in an engine's SRAM, and the DRAM and SRAM bytes each layer moves for one batch.

An engine's SRAM (`sram_bytes`) holds three regions, chosen per batch size to minimise the DRAM
bytes of one warm batch (a static memory plan, as an NPU compiler makes ahead of time):

* an **activation arena** of `arena_bytes`: the tensors of lifetimes.py placed by a static
  offset plan; those ending within the arena stay on chip from producer to last reader (skip
  connections included), the others *spill*: the producer writes them to DRAM and every
  reader reads them back;
* **resident weights**: layers whose weights stay on chip across batches, loaded once per
  engine (a cold start). Each resident byte saves at least one DRAM byte per batch; layers are
  taken smallest first while they fit (`weights_resident = false`: none);
* a **tile buffer** of `buffer_bytes` through which everything else streams: non-resident
  weights, spilled inputs, the workload's input and outputs. A layer whose streamed weights and
  input both exceed it is tiled (tiling.py) and re-reads one of them.

The planner tries every arena budget at which one more tensor fits, and tile buffers on a fixed
geometric grid (4 KiB x sqrt(2)^k), fills the rest with resident weights, and keeps the
placement with the fewest DRAM bytes (ties: the first tried, smallest arena and buffer). Each
candidate's cost only falls as the SRAM grows (more resident weights, never more refetches) and
a larger SRAM admits every smaller one's candidates, so DRAM bytes never rise with SRAM.

With `fusion` on, a layer the workload marks `fused` takes its predecessor's output tile by tile
straight from chip, whatever its size. The workload's input is read from DRAM by its readers;
an output nobody reads (the workload's results) is written to DRAM. A table look-up streams
only the rows it reads (`Layer.gathered`). SRAM bytes = operand traffic between SRAM and the
array (compute.operand_sram_elems) plus every DRAM byte, which passes through SRAM once.

Every size is at the layer's own precision (mixed.py): a layer's weights and output at its
precision, the workload's input at the precision of the layer reading it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from harness.accel import lifetimes as lt
from harness.accel.compute import (dataflow_for, layer_gemm, on_vector_unit, operand_sram_elems, skipped_share,
                                   storage_sparsity, stores_unstructured, unstructured_stored_fraction)
from harness.accel.config import Compute, Hardware
from harness.accel.mixed import computes, layer_compute
from harness.accel.tiling import ORDERS, tile
from harness.workloads.model import Layer

TILE_MIN_BYTES = 4096  # the smallest tile buffer tried; the grid grows by sqrt(2)


@dataclass(frozen=True)
class Traffic:
    """Bytes one layer moves for one batch (warm: resident weights already loaded)."""

    weight_dram: float
    in_dram: float
    out_dram: float
    sram: float
    cold_weight_dram: float   # extra DRAM bytes on a cold start (resident weights loading)
    resident: bool = False    # this layer's weights stay on chip
    spilled: bool = False     # its output went to DRAM for lack of arena space
    order: str = "untiled"    # tiling.ORDERS
    refetch: float = 0.0      # DRAM bytes read again because of tiling
    sram_peak: float = 0.0    # SRAM bytes in use while it runs: arena + resident + buffer

    @property
    def dram(self) -> float:
        return self.weight_dram + self.in_dram + self.out_dram


@dataclass(frozen=True)
class Placement:
    weight_bytes: float       # all stored weights
    resident_bytes: float     # of which resident
    arena_bytes: float
    buffer_bytes: float
    layers: tuple[Traffic, ...]
    names: tuple[str, ...]    # the layers' names

    @property
    def spilled(self) -> tuple[str, ...]:
        """Layers whose outputs spilled to DRAM for lack of arena space."""
        return tuple(n for n, t in zip(self.names, self.layers) if t.spilled)

    @property
    def resident(self) -> bool:
        """Whether any weights are resident (an engine's first batch is then a cold start)."""
        return self.resident_bytes > 0

    @property
    def sram_peak(self) -> float:
        return max((t.sram_peak for t in self.layers), default=0.0)


def weight_bytes(layer: Layer, hw: Hardware) -> float:
    """Stored weight bytes at the layer's precision (mixed.py); N:M sparsity keeps N/M of them
    plus log2(M)-bit indices each, unless that is no smaller than dense (then they are stored
    dense: compute.storage_sparsity)."""
    return stored_weight_bytes(layer, layer_compute(hw.compute, layer))


def stored_weight_bytes(layer: Layer, c: Compute) -> float:
    bpe = c.element_bytes
    dense = layer.weights * bpe
    if layer.weights > 0 and stores_unstructured(c):
        return dense * unstructured_stored_fraction(c)
    n, m = storage_sparsity(c)
    if layer.weights <= 0 or layer.k <= 0 or (n, m) == (1, 1):
        return dense
    kept = layer.weights * layer_gemm(layer, 1, (n, m)).k / layer.k
    return kept * bpe + kept * math.ceil(math.log2(m)) / 8


def streamed_weight_bytes(layer: Layer, stored: float, c: Compute, batch: int) -> float:
    """Weight bytes a batch reads when the weights are not resident: a look-up reads its rows."""
    if layer.gathered <= 0:
        return stored
    return min(stored, layer.gathered * batch * c.element_bytes)


def producers(layers: tuple[Layer, ...]) -> list[list[int | None]]:
    return lt.producers(layers)


class Graph:
    """The per-batch facts the planner needs: sizes, readers, graph inputs and outputs."""

    def __init__(self, layers: tuple[Layer, ...], hw: Hardware, batch: int,
                 exported: tuple[bool, ...] = ()):
        self.computes = computes(hw.compute, layers)
        bpe = np.array([c.element_bytes for c in self.computes])
        self.count = len(layers)
        self.srcs = lt.producers(layers)
        self.fused = lt.fused_edges(layers, hw.memory.fusion)
        reads = lt.readers(self.srcs, self.fused)
        self.sizes = np.array([layer.out_elems * batch for layer in layers], dtype=float) * bpe
        self.placed = lt.allocate(lt.tensors(list(self.sizes), reads))
        self.stored = np.array([stored_weight_bytes(layer, c) for layer, c in zip(layers, self.computes)],
                               dtype=float)
        self.stream = np.array([streamed_weight_bytes(layer, s, c, batch)
                                for layer, s, c in zip(layers, self.stored, self.computes)], dtype=float)
        self.gathers = np.array([layer.gathered > 0 for layer in layers])
        # a single tile block leaves room for double-buffered array tiles of the streamed
        # operand and of the outputs (tiling.passes)
        self.reserve = 4 * hw.compute.array_rows * hw.compute.array_cols * bpe
        self.double = hw.memory.double_buffering
        self.outputs = np.array([not c for c in lt.consumed(self.srcs)])
        if exported:  # read by another engine's layers (schedules.py): written to DRAM too
            self.outputs |= np.array(exported, dtype=bool)
        self.has_readers = np.array([bool(r) for r in reads])
        self.input_dram = np.array([_graph_input(layer, s) * batch
                                    for layer, s in zip(layers, self.srcs)], dtype=float) * bpe
        self.reads = np.zeros((self.count, self.count))     # [producer, reader]
        for producer, reader in ((p, r) for p, found in enumerate(reads) for r in found):
            self.reads[producer, reader] = 1.0
        allowed = hw.memory.weights_resident
        self.order = np.array(sorted((i for i in range(self.count) if allowed and self.stored[i] > 0),
                                     key=lambda i: (self.stored[i], i)), dtype=int)

    @cached_property
    def arenas(self) -> list[float]:
        """Arena budgets worth trying: 0 and each placed tensor's end."""
        return sorted({0.0, *(t.end for t in self.placed)})

    def on_chip(self, arena: float) -> np.ndarray:
        keep = np.zeros(self.count, dtype=bool)
        for t in self.placed:
            keep[t.producer] = t.end <= arena
        return keep

    def activations(self, arena: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input DRAM bytes, output DRAM bytes, spilled) per layer with this arena."""
        spilled = self.has_readers & ~self.on_chip(arena) & (self.sizes > 0)
        in_dram = self.input_dram + (self.sizes * spilled) @ self.reads
        out_dram = self.sizes * (self.outputs | spilled)
        return in_dram, out_dram, spilled


def _graph_input(layer: Layer, srcs: list[int | None]) -> int:
    """Elements (per sample) of the workload's input a layer reads."""
    return sum(layer.in_elems // len(srcs) for p in srcs if p is None)


def buffers(sram: float) -> np.ndarray:
    """The tile buffers tried: 4 KiB x sqrt(2)^k up to the SRAM (the SRAM itself if smaller)."""
    count = max(1, int(math.floor(2 * math.log2(sram / TILE_MIN_BYTES))) + 1) if sram >= TILE_MIN_BYTES else 1
    grid = np.floor(TILE_MIN_BYTES * np.sqrt(2.0) ** np.arange(count))
    return grid if sram >= TILE_MIN_BYTES else np.array([float(sram)])


def layer_dram(g: Graph, in_dram, resident, buffer):
    """(weight DRAM, input DRAM, order code) of every layer: `tile` with resident weights at 0."""
    weights = np.where(resident, 0.0, g.stream)
    tiled_in = np.where(g.gathers, 0.0, in_dram)   # a look-up reads rows per token, no blocks
    w, i, order = tile(weights, tiled_in, buffer, g.reserve, g.double)
    return w, i + np.where(g.gathers, in_dram, 0.0), order


@dataclass(frozen=True)
class Choice:
    dram: float
    arena: float
    buffer: float
    resident: int             # how many of Graph.order are resident


def cheapest(g: Graph, sram: float) -> Choice:
    """The placement with the fewest DRAM bytes over every arena budget and tile buffer."""
    best = None
    stored = g.stored[g.order]
    cum_stored = np.concatenate(([0.0], np.cumsum(stored)))
    for arena in g.arenas:
        grid = buffers(sram)
        grid = grid[grid + arena <= sram]
        if grid.size == 0:
            break
        best = _best_of(best, _cheapest_at(g, sram, arena, grid, cum_stored))
    return best


def _cheapest_at(g: Graph, sram: float, arena: float, grid: np.ndarray,
                 cum_stored: np.ndarray) -> Choice:
    """For one arena budget: each buffer's cost with the largest resident prefix that fits."""
    in_dram, out_dram, _ = g.activations(arena)
    w, i, _ = layer_dram(g, in_dram[None, :], False, grid[:, None])
    streamed = w + i                                            # (buffers, layers)
    saving = streamed - in_dram[None, :]                        # resident: input read once
    cum_saving = np.concatenate((np.zeros((grid.size, 1)), np.cumsum(saving[:, g.order], axis=1)), axis=1)
    fits = np.searchsorted(cum_stored, sram - arena - grid, side="right") - 1
    totals = out_dram.sum() + streamed.sum(axis=1) - cum_saving[np.arange(grid.size), fits]
    k = int(np.argmin(totals))
    return Choice(float(totals[k]), float(arena), float(grid[k]), int(fits[k]))


def _best_of(a: Choice | None, b: Choice) -> Choice:
    return b if a is None or b.dram < a.dram else a


def place(layers: tuple[Layer, ...], hw: Hardware, batch: int,
          exported: tuple[bool, ...] = ()) -> Placement:
    """Plan the SRAM for one batch and count every layer's bytes; `exported` marks outputs
    that other engines read (written to DRAM whether or not they also stay on chip)."""
    g = Graph(layers, hw, batch, exported)
    choice = cheapest(g, hw.memory.sram_bytes)
    resident = np.zeros(g.count, dtype=bool)
    resident[g.order[:choice.resident]] = True
    in_dram, out_dram, spilled = g.activations(choice.arena)
    w, i, order = layer_dram(g, in_dram, resident, choice.buffer)
    refetch = w + i - np.where(resident, 0.0, g.stream) - in_dram
    resident_bytes = float(g.stored[resident].sum())
    arena = lt.high_water(g.placed, choice.arena, g.count)
    rows = []
    for k, layer in enumerate(layers):
        dram = float(w[k] + i[k] + out_dram[k])
        in_use = min(choice.buffer, dram) + float(arena[k]) + resident_bytes
        rows.append(Traffic(weight_dram=float(w[k]), in_dram=float(i[k]), out_dram=float(out_dram[k]),
                            sram=_sram_bytes(layer, g.computes[k], batch) + dram,
                            cold_weight_dram=float(g.stored[k]) if resident[k] else 0.0,
                            resident=bool(resident[k]), spilled=bool(spilled[k]),
                            order=ORDERS[int(order[k])], refetch=float(refetch[k]), sram_peak=in_use))
    return Placement(weight_bytes=float(g.stored.sum()), resident_bytes=resident_bytes,
                     arena_bytes=choice.arena, buffer_bytes=choice.buffer, layers=tuple(rows),
                     names=tuple(layer.name for layer in layers))


def _sram_bytes(layer: Layer, c: Compute, batch: int) -> float:
    gemm = layer_gemm(layer, batch, storage_sparsity(c), skipped_share(c))
    vector = on_vector_unit(c, layer)
    elems = 0 if vector else operand_sram_elems(dataflow_for(c, gemm), c.array_rows, c.array_cols, gemm)
    if elems == 0:  # vector-unit work streams its operands once
        elems = (layer.in_elems + layer.out_elems) * batch + gemm.k * gemm.n * gemm.groups
    return elems * c.element_bytes
