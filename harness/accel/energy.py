"""Energy of one batch (reference §2.5 skeleton):

    E = executed MACs x pj_per_mac[precision]  (+ vector element ops at the same cost each)
      + SRAM bytes x sram_pj_per_byte + DRAM bytes x dram_pj_per_byte
      + static_w / engines x busy time       (each engine carries its share of the chip's
                                              static power while it serves a batch)

Breakdown keys: "mac", "sram", "dram", "static"; they sum to the total.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.accel.config import Hardware

PJ = 1e-12
COMPONENTS = ("mac", "sram", "dram", "static")


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


def dynamic(hw: Hardware, macs: float, vector_ops: float, sram_bytes: float,
            dram_bytes: float) -> Dynamic:
    e = hw.energy
    pj_mac = e.pj_per_mac[hw.compute.precision]
    return Dynamic(mac=(macs + vector_ops) * pj_mac * PJ, sram=sram_bytes * e.sram_pj_per_byte * PJ,
                   dram=dram_bytes * e.dram_pj_per_byte * PJ)


def static_power_w(hw: Hardware) -> float:
    """The static power one busy engine is charged with."""
    return hw.energy.static_w / hw.compute.engines


def breakdown(hw: Hardware, dyn: Dynamic, seconds: float) -> dict[str, float]:
    return {"mac": dyn.mac, "sram": dyn.sram, "dram": dyn.dram,
            "static": static_power_w(hw) * seconds}


def tops_per_w(macs: float, joules: float) -> float:
    """Tera-operations (2 per MAC) per joule, i.e. TOPS/W."""
    return 2 * macs / joules / 1e12 if joules > 0 else 0.0
