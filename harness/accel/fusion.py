"""Fused layer groups overlapping producer and consumer tile by tile (`compute.fused_overlap`).

A fused group is a layer followed by the layers the workload marks `fused` (each takes its
predecessor's output straight from chip; lifetimes.fused_edges). Without overlap its layers run
one after another: the group takes the sum of their times. With overlap they form a pipeline
over T tiles, a tile being one output row of the group's last layer for one sample (a line
buffer: T = batch x rows, rows as `rows` below). Layer i spends c_i / T on each tile and a tile
passes the layers in order. Layers on the same unit cannot overlap one another: the MAC array
runs the layers with MACs, the vector unit the rest, so in the steady state a tile takes the
busier unit's share. The group takes

    sum_i c_i / T  +  (T - 1) x max_u (sum_{i on u} c_i) / T

(fill and drain: one tile through every layer; then one tile per busiest-unit time). T = 1
gives the sum (a vector, nothing to overlap); as T grows the group tends to its busiest unit's
time (the workloads fuse vector layers - add, norm, softmax - after an array layer).
Approximation: a consumer needing several producer rows per output row (a 3x3 conv's halo)
waits for them only in the fill, not counted further. The group's time is spread over its
layers in proportion to their own times, so the per-layer rows still add up to the batch.
"""

from __future__ import annotations

from harness.workloads.model import Layer


def rows(layer: Layer) -> int:
    """Output rows per sample: H of [C, H, W], T of [T, D] and [H, T, D]; 1 for a vector."""
    shape = layer.out_shape
    if len(shape) == 3:
        return max(1, shape[1])
    return max(1, shape[0]) if len(shape) == 2 else 1


def groups(fused: list[bool]) -> list[tuple[int, int]]:
    """(first, last) layer index of every fused group of two or more layers."""
    found, first = [], None
    for i, joined in enumerate(fused + [False]):
        if joined and first is None:
            first = i - 1
        elif not joined and first is not None:
            found.append((first, i - 1))
            first = None
    return found


def group_time(seconds: list[float], on_array: list[bool], tiles: int) -> float:
    """A group's time over `tiles` tiles (the formula above)."""
    array = sum(s for s, a in zip(seconds, on_array) if a)
    busiest = max(array, sum(seconds) - array)
    return (sum(seconds) + (tiles - 1) * busiest) / tiles


def overlap(compute_s: list[float], layers: tuple[Layer, ...], fused: list[bool],
            batch: int) -> list[float]:
    """Per-layer compute seconds with every fused group overlapped."""
    out = list(compute_s)
    for first, last in groups(fused):
        part = out[first:last + 1]
        total = sum(part)
        if total <= 0:
            continue
        on_array = [layer.macs > 0 for layer in layers[first:last + 1]]
        scale = group_time(part, on_array, batch * rows(layers[last])) / total
        out[first:last + 1] = [s * scale for s in part]
    return out
