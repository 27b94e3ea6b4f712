"""Energy and power of the NPU model, by component and by state (reference §2.5 skeleton).

Dynamic energy of one batch:

    E = (executed MACs + vector element ops) x pj_per_mac[precision] x s   (the layer's precision)
      + SRAM bytes x sram_pj_per_byte x s + DRAM bytes x dram_pj_per_byte

where s = (V / reference_voltage_v)^2 scales the NPU's own switching energy with its operating
voltage (compute.voltage_v, or compute.vf_table at compute.clock_hz; s = 1 when neither is
stated). DRAM energy is the DRAM's, on its own rail: unscaled.

Static power by state: `always_on_w` burns for the whole run; each engine burns
`engine_static_w` while it is powered: while it serves a batch and for the first `gate_after_s`
of every idle gap, after which it is power-gated; waking a gated engine costs `wakeup_j`
(default: 20 us of its static power, the charge to refill its rails). `static_w` alone means
all of it always on and nothing gated.

Breakdown keys "mac", "sram", "dram", "static" sum to the total; `static_by_state` splits the
static part. Peak power is the highest average over 1 ms windows, each batch's dynamic energy
spread evenly over its interval (an approximation: within a batch, layers differ). TOPS/W counts
dense-equivalent operations (2 per MAC of the dense workload), so sparsity that skips work
raises it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.accel.config import Hardware

PJ = 1e-12
COMPONENTS = ("mac", "sram", "dram", "static")
PEAK_WINDOW_S = 1e-3


@dataclass(frozen=True)
class Dynamic:
    """Energy that does not depend on time, in joules."""

    mac: float
    sram: float
    dram: float

    @property
    def total(self) -> float:
        return self.mac + self.sram + self.dram

    def __add__(self, other: Dynamic) -> Dynamic:
        return Dynamic(self.mac + other.mac, self.sram + other.sram, self.dram + other.dram)


ZERO = Dynamic(0.0, 0.0, 0.0)


def voltage_scale(hw: Hardware) -> float:
    """(V / V_ref)^2: how the NPU's switching energy scales at its operating voltage."""
    volts = hw.compute.volts
    return 1.0 if math.isnan(volts) else (volts / hw.energy.reference_voltage_v) ** 2


def dynamic(hw: Hardware, macs: float, vector_ops: float, sram_bytes: float,
            dram_bytes: float, precision: str | None = None) -> Dynamic:
    """`precision`: the layer's (mixed precision), default the system's compute.precision."""
    e, s = hw.energy, voltage_scale(hw)
    pj_mac = e.pj_per_mac[precision or hw.compute.precision]
    return Dynamic(mac=(macs + vector_ops) * pj_mac * s * PJ,
                   sram=sram_bytes * e.sram_pj_per_byte * s * PJ,
                   dram=dram_bytes * e.dram_pj_per_byte * PJ)


def static_power_w(hw: Hardware) -> float:
    """A busy engine's share of the static power at full load (every engine powered)."""
    return hw.energy.always_on_w / hw.compute.engines + hw.energy.engine_static_w


def breakdown(hw: Hardware, dyn: Dynamic, seconds: float) -> dict[str, float]:
    return {"mac": dyn.mac, "sram": dyn.sram, "dram": dyn.dram,
            "static": static_power_w(hw) * seconds}


def tops_per_w(dense_macs: float, joules: float) -> float | None:
    """Tera-operations (2 per dense MAC) per joule, i.e. TOPS/W; None when no energy is
    modelled (a system whose energy figures are all zero): no ratio, rather than 0."""
    return 2 * dense_macs / joules / 1e12 if joules > 0 else None


# ---------------------------------------------------------------- a run, from its batch log


@dataclass(frozen=True)
class States:
    """Every engine's powered intervals and wake-ups over a run (arrays)."""

    powered_from: np.ndarray
    powered_to: np.ndarray
    wake_at: np.ndarray
    busy_s: float
    idle_powered_s: float
    gated_s: float


def _gaps(starts: np.ndarray, ends: np.ndarray, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """One engine's idle gaps [a, b) between its batches over [t0, t1]."""
    return np.concatenate([[t0], ends]), np.concatenate([starts, [t1]])


def engine_states(hw: Hardware, cols: dict, t0: float, t1: float) -> States:
    gate = hw.energy.gate_after_s
    pf, pt, wake, busy, idle, gated = [], [], [], 0.0, 0.0, 0.0
    for e in range(hw.compute.engines):
        mine = cols["engine"] == e
        order = np.argsort(cols["start_s"][mine], kind="stable")
        starts, ends = cols["start_s"][mine][order], cols["end_s"][mine][order]
        a, b = _gaps(starts, ends, t0, t1)
        gap = np.maximum(b - a, 0.0)
        on = np.minimum(gap, gate)
        pf += [starts, a]
        pt += [ends, a + on]
        wake.append(b[:-1][gap[:-1] > gate])  # a gated engine wakes for its next batch
        busy += float((ends - starts).sum())
        idle += float(on.sum())
        gated += float((gap - on).sum())
    return States(np.concatenate(pf), np.concatenate(pt), np.concatenate(wake), busy, idle, gated)


def static_by_state(hw: Hardware, states: States, seconds: float) -> dict[str, float]:
    e = hw.energy
    return {"always_on_j": e.always_on_w * seconds,
            "engines_busy_j": e.engine_static_w * states.busy_s,
            "engines_idle_j": e.engine_static_w * states.idle_powered_s,
            "wakeup_j": e.wakeup_j * len(states.wake_at), "wakeups": int(len(states.wake_at)),
            "gated_s": states.gated_s}


def peak_power_w(hw: Hardware, cols: dict, states: States, t0: float, t1: float) -> float | None:
    """The highest average power over PEAK_WINDOW_S windows of [t0, t1]; None for an empty span."""
    edges = np.append(np.arange(t0, t1, PEAK_WINDOW_S), t1)
    if len(edges) < 2:
        return None
    from harness.accel.windows import add_window_energy   # compiled: numba is loaded by a run

    spans = np.maximum(cols["end_s"] - cols["start_s"], 1e-15)
    dyn = cols["mac_j"] + cols["sram_j"] + cols["dram_j"]
    joules = np.zeros(len(edges) - 1)
    add_window_energy(edges, PEAK_WINDOW_S, cols["start_s"], cols["end_s"], dyn / spans, joules)
    add_window_energy(edges, PEAK_WINDOW_S, states.powered_from, states.powered_to,
                      np.full(len(states.powered_from), hw.energy.engine_static_w), joules)
    bins = np.clip(np.searchsorted(edges, states.wake_at, side="right") - 1, 0, len(edges) - 2)
    joules += np.bincount(bins, minlength=len(edges) - 1) * hw.energy.wakeup_j
    widths = np.diff(edges)
    return float(np.max(joules / widths + hw.energy.always_on_w, where=widths > 0, initial=0.0))


def run_energy(hw: Hardware, cols: dict, t0: float, t1: float, dense_macs: float) -> dict:
    """The energy block of a run's result from its batch log's columns over [t0, t1]."""
    seconds = t1 - t0
    states = engine_states(hw, cols, t0, t1)
    by_state = static_by_state(hw, states, seconds)
    static = by_state["always_on_j"] + by_state["engines_busy_j"] + by_state["engines_idle_j"] \
        + by_state["wakeup_j"]
    parts = {"mac": float(cols["mac_j"].sum()), "sram": float(cols["sram_j"].sum()),
             "dram": float(cols["dram_j"].sum()), "static": static}
    total = sum(parts.values())
    samples = int(cols["samples"].sum())
    return {"joules_per_sample": total / samples if samples else None,   # None: nothing to divide by
            "average_power_w": total / seconds if seconds > 0 else None,
            "peak_power_w": peak_power_w(hw, cols, states, t0, t1),
            "peak_window_s": PEAK_WINDOW_S, "total_j": total, "breakdown_j": parts,
            "static_by_state": by_state, "tops_per_w": tops_per_w(dense_macs, total)}
