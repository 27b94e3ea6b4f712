"""Mixed precision: each layer at its own precision (the workload's [precision] table).

A layer with a precision of its own is costed with the system's `Compute` at that precision
(`layer_compute`): its weights and its output tensor take that precision's bytes per element,
the array does that precision's MACs per PE per cycle, each MAC costs that precision's
`energy.pj_per_mac` (which the system file must state - there is no default), its weights are
resident or tiled at their own size. A layer without one runs at `compute.precision`.

Conversions are not free. A tensor is stored at its producer's precision: the producer writes
it (to the arena or DRAM) in its own bytes and every reader reads those bytes. A reader at
another precision converts (requantizes) each element it reads on the vector unit: one vector
op per element, timed and charged like the layer's other vector work (`conversion_ops`). The
workload's own input arrives at the precision of the layer reading it (the host prepares it),
so reading it converts nothing. Operand traffic between SRAM and the array is counted at the
layer's precision (after conversion).
"""

from __future__ import annotations

from dataclasses import replace

from harness.accel import lifetimes as lt
from harness.accel.config import Compute, Hardware
from harness.errors import ConfigError, Problem
from harness.workloads.model import Layer, Workload


def precision_of(compute: Compute, layer: Layer) -> str:
    return layer.precision or compute.precision


def layer_compute(compute: Compute, layer: Layer) -> Compute:
    """The engine as this layer uses it: the system's Compute at the layer's precision."""
    if not layer.precision or layer.precision == compute.precision:
        return compute
    return replace(compute, precision=layer.precision)


def computes(compute: Compute, layers: tuple[Layer, ...]) -> tuple[Compute, ...]:
    """layer_compute of every layer, one Compute per distinct precision."""
    made: dict[str, Compute] = {}
    out = []
    for layer in layers:
        p = precision_of(compute, layer)
        if p not in made:
            made[p] = layer_compute(compute, layer)
        out.append(made[p])
    return tuple(out)


def conversion_ops(layers: tuple[Layer, ...], cs: tuple[Compute, ...]) -> tuple[int, ...]:
    """Per layer, the elements per sample it reads from producers at another precision: the
    producer's whole output, or the layer's input if that is smaller (a pooler reading one token)."""
    srcs = lt.producers(layers)
    out = []
    for i, (layer, found) in enumerate(zip(layers, srcs)):
        other = [p for p in found if p is not None and cs[p].precision != cs[i].precision]
        out.append(sum(min(layers[p].out_elems, layer.in_elems) for p in other))
    return tuple(out)


def check_energy(hw: Hardware, workload: Workload) -> None:
    """Every precision a layer runs at needs its energy per MAC in the system file."""
    missing: dict[str, list[str]] = {}
    for layer in workload.layers:
        p = precision_of(hw.compute, layer)
        if p not in hw.energy.pj_per_mac:
            missing.setdefault(p, []).append(layer.name)
    problems = [Problem(hw.source, "energy.pj_per_mac", dict(hw.energy.pj_per_mac),
                        f"must give the energy of precision {p!r}, which {workload.source or workload.name} "
                        f"assigns to {_names(names)}")
                for p, names in missing.items()]
    if problems:
        raise ConfigError(problems)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return f"layer {shown}" if len(names) == 1 else f"layers {shown}" + (
        f" and {len(names) - 3} more" if len(names) > 3 else "")
