"""Activation tensors, their lifetimes in the layer order, and a static offset plan for them.

Every layer writes one tensor (its output). It is *live* from the step that writes it to the
last step that reads it from memory; a reader that is its fused successor takes it tile by tile
straight from the producer (see memory.py) and does not extend its life. A tensor nobody reads
is an output of the workload: it goes to DRAM and takes no arena space. The workload's own
input arrives in DRAM and its readers stream it from there.

Tensors whose lifetimes overlap need disjoint addresses; tensors with disjoint lifetimes may
share them. Placing them is the dynamic storage allocation problem (TensorRT's and TVM's static
memory planners, TFLite's arena planner): we use its usual greedy-by-size heuristic — largest
tensor first, each at the lowest offset that does not collide with an already placed tensor
live at the same time. The plan ignores the SRAM size; a budget of `A` bytes then keeps exactly
the tensors that end at or below `A` on chip, so a larger budget never spills more.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.workloads.model import Layer

INPUT = ""


@dataclass(frozen=True)
class Tensor:
    """The output of layer `producer`: `size` bytes, live over steps first..last."""

    producer: int
    size: float
    first: int
    last: int
    offset: float = 0.0

    @property
    def end(self) -> float:
        return self.offset + self.size

    def overlaps(self, other: Tensor) -> bool:
        return self.first <= other.last and other.first <= self.last


def producers(layers: tuple[Layer, ...]) -> list[list[int | None]]:
    """Index of each layer's producers; None = the workload input (or an unknown name)."""
    index = {layer.name: i for i, layer in enumerate(layers)}
    found: list[list[int | None]] = []
    for i, layer in enumerate(layers):
        names = layer.inputs or ((layers[i - 1].name,) if i else (INPUT,))
        found.append([None if n == INPUT or n not in index else index[n] for n in names])
    return found


def fused_edges(layers: tuple[Layer, ...], fusion: bool) -> list[bool]:
    """Whether layer i takes its predecessor's output straight from chip."""
    return [fusion and layer.fused and i > 0 for i, layer in enumerate(layers)]


def readers(srcs: list[list[int | None]], fused: list[bool]) -> list[list[int]]:
    """For each layer, the later layers that read its output from memory (not fused)."""
    found: list[list[int]] = [[] for _ in srcs]
    for i, names in enumerate(srcs):
        for p in names:
            if p is not None and not (fused[i] and p == i - 1) and i not in found[p]:
                found[p].append(i)
    return found


def consumed(srcs: list[list[int | None]]) -> list[bool]:
    """Whether anything reads layer i's output (False: a workload output)."""
    read = [False] * len(srcs)
    for names in srcs:
        for p in names:
            if p is not None:
                read[p] = True
    return read


def tensors(sizes: list[float], reads: list[list[int]]) -> list[Tensor]:
    """The tensors that need memory between steps: those read by a non-fused reader."""
    return [Tensor(i, sizes[i], i, max(r)) for i, r in enumerate(reads) if r and sizes[i] > 0]


def allocate(live: list[Tensor]) -> list[Tensor]:
    """Offsets by greedy-by-size first fit (largest first; ties by producer), in producer order."""
    placed: list[Tensor] = []
    for t in sorted(live, key=lambda t: (-t.size, t.producer)):
        placed.append(Tensor(t.producer, t.size, t.first, t.last, _lowest_offset(t, placed)))
    return sorted(placed, key=lambda t: t.producer)


def _lowest_offset(t: Tensor, placed: list[Tensor]) -> float:
    """The lowest offset where `t` fits among the placed tensors that are live with it."""
    busy = sorted((p.offset, p.end) for p in placed if p.overlaps(t))
    offset = 0.0
    for start, end in busy:
        if start - offset >= t.size:
            break
        offset = max(offset, end)
    return offset


def high_water(placed: list[Tensor], budget: float, steps: int) -> list[float]:
    """Per step, the highest arena byte in use by the on-chip tensors (end <= budget)."""
    marks = [0.0] * steps
    for t in placed:
        if t.end <= budget:
            for step in range(t.first, t.last + 1):
                marks[step] = max(marks[step], t.end)
    return marks
