"""Cross-field rules of hardware files: each a small function adding problems to the Reader.

Run by `config.read_hardware` after every table has been read and type-checked.
"""

from __future__ import annotations

import math

from harness.accel.config import Hardware
from harness.accel.contention import hyperperiod, realtime_peak
from harness.accel.dram_cost import master_cost
from harness.spec import Reader

MAX_HYPERPERIOD_S = 60.0
MAX_EDGES = 100_000


def check_energy_has_precision(hw: Hardware, r: Reader) -> None:
    if hw.compute.precision not in hw.energy.pj_per_mac:
        r.problem("energy.pj_per_mac", dict(hw.energy.pj_per_mac),
                  f"must give the energy of compute.precision = {hw.compute.precision!r}")


def check_master_names_unique(hw: Hardware, r: Reader) -> None:
    seen: set[str] = set()
    for i, master in enumerate(hw.memory.masters):
        if master.name in seen:
            r.problem(f"memory.masters[{i}].name", master.name, "duplicate master name")
        seen.add(master.name)


def check_realtime_average(hw: Hardware, r: Reader) -> None:
    """Realtime masters' average traffic, at its DRAM cost, must fit the usable bandwidth."""
    realtime = [m for m in hw.memory.masters if m.priority == "realtime"]
    total = sum(m.bytes_per_s * master_cost(m, hw.memory) for m in realtime)
    usable = hw.memory.usable_dram_bytes_per_s
    if realtime and total > usable:
        r.problem("memory.masters", [m.name for m in realtime],
                  f"realtime masters need {total:.4g} B/s on average (writes at write_cost, reads "
                  f"at read_cost), more than the usable DRAM bandwidth {usable:.4g} B/s "
                  f"(dram_bytes_per_s x dram_efficiency)")


def check_mixed_efficiency(hw: Hardware, r: Reader) -> None:
    """Writes never make the NPU's DRAM traffic more efficient than reads alone."""
    m = hw.memory
    if m.mixed_efficiency > m.dram_efficiency:
        r.problem("memory.mixed_efficiency", m.mixed_efficiency,
                  f"must be <= memory.dram_efficiency = {m.dram_efficiency:g} (read/write "
                  f"turnarounds only cost)")


def check_fifo_only_on_realtime(hw: Hardware, r: Reader) -> None:
    for i, m in enumerate(hw.memory.masters):
        if m.fifo_bytes > 0 and m.priority != "realtime":
            r.problem(f"memory.masters[{i}].fifo_bytes", m.fifo_bytes,
                      "only a realtime master declares a FIFO (its deadline margin)")


def check_realtime_peak(hw: Hardware, r: Reader) -> None:
    """At no instant may the active realtime masters take all of the usable bandwidth."""
    if not _hyperperiod_ok(hw):
        return  # reported by check_hyperperiod; the pattern is too long to scan
    usable = hw.memory.usable_dram_bytes_per_s
    peak, when, names = realtime_peak(hw.memory)
    if names and peak >= usable:
        r.problem("memory.masters", names,
                  f"realtime masters active together at t = {when:.6g} s need {peak:.4g} B/s "
                  f"(bytes_per_s/duty at their DRAM cost), which leaves nothing of the usable DRAM bandwidth "
                  f"{usable:.4g} B/s (dram_bytes_per_s x dram_efficiency) for the NPU")


def _hyperperiod_ok(hw: Hardware) -> bool:
    periodic = [m for m in hw.memory.masters if m.duty < 1]
    if not periodic:
        return True
    period = hyperperiod(periodic)
    edges = sum(2 * period / m.period_s for m in periodic)
    return period <= MAX_HYPERPERIOD_S and edges <= MAX_EDGES


def check_hyperperiod(hw: Hardware, r: Reader) -> None:
    if not _hyperperiod_ok(hw):
        periodic = [m.period_s for m in hw.memory.masters if m.duty < 1]
        r.problem("memory.masters", periodic,
                  f"duty-cycled masters' periods must have a common multiple <= "
                  f"{MAX_HYPERPERIOD_S:g} s holding <= {MAX_EDGES} on/off edges (the "
                  f"contention pattern repeats with it and is tabulated over it)")


def check_voltage(hw: Hardware, r: Reader) -> None:
    """A stated voltage needs the voltage the pJ figures hold at; a V-f table covers the clock."""
    c = hw.compute
    if c.vf_table and not math.isnan(c.voltage_v):
        r.problem("compute.voltage_v", c.voltage_v, "give compute.voltage_v or compute.vf_table, not both")
    if c.vf_table and not c.vf_table[0][0] <= c.clock_hz <= c.vf_table[-1][0]:
        r.problem("compute.clock_hz", c.clock_hz, f"must lie within compute.vf_table's clocks "
                  f"({c.vf_table[0][0]:g} .. {c.vf_table[-1][0]:g} Hz): no extrapolation")
    if not math.isnan(c.volts) and math.isnan(hw.energy.reference_voltage_v):
        r.problem("energy.reference_voltage_v", None, "required with compute.voltage_v or "
                  "compute.vf_table: the voltage at which the pJ figures hold")


CROSS_FIELD_RULES = (check_energy_has_precision, check_master_names_unique, check_realtime_average,
                     check_hyperperiod, check_realtime_peak, check_mixed_efficiency,
                     check_fifo_only_on_realtime, check_voltage)
