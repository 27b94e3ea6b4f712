"""Real-time bus masters' outcomes: bandwidth delivered, and how close each FIFO came to a miss.

A realtime master is served before the NPU (contention.py), so over time it receives all it
asks for. What can still hurt it is latency: the NPU's DMA bursts are not pre-emptible, so a
realtime request that arrives while the engines are moving data waits for the bursts already in
flight, one per engine transferring (`memory.npu_burst_bytes` each) plus one of the same size
per other active realtime master, all at the DRAM's peak rate. Meanwhile the master's FIFO
(`fifo_bytes`) keeps draining (a display scanning out, direction "read") or filling (a camera
capturing, "write") at its active rate, so the worst case leaves

    margin = fifo_bytes - active rate x worst wait

A negative margin is a deadline miss: the display's FIFO underflows (a visible glitch) or the
camera's overflows (a lost line). The worst case is the most engines ever busy together while
the master is active; from a run's batch log (runlog.BatchLog) the instant is the first time
that happens, without a log every engine counts and no instant is named.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from harness.accel.config import Hardware, Master, period_fraction
from harness.accel.contention import active
from harness.accel.runlog import BatchLog


@dataclass(frozen=True)
class Outcome:
    name: str
    direction: str
    requested_bytes_per_s: float
    delivered_bytes_per_s: float
    fifo_bytes: float
    busy_engines: int           # engines moving data in the worst case
    worst_wait_s: float
    margin_bytes: float | None  # None: no FIFO declared
    margin_s: float | None      # the margin in seconds of the master's active rate
    deadline_miss: bool
    at_s: float | None          # first instant of the worst case in the run, if known

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def busy_counts(log: BatchLog) -> tuple[np.ndarray, np.ndarray]:
    """(instants, engines busy from each instant on) over a run's batch log."""
    cols = log.arrays()
    times = np.concatenate([cols["start_s"], cols["end_s"]])
    steps = np.concatenate([np.ones(len(log)), -np.ones(len(log))])
    order = np.lexsort((steps, times))  # an end before a start at the same instant
    return times[order], np.cumsum(steps[order]).astype(int)


def first_active(m: Master, a: float, b: float) -> float | None:
    """The first instant in [a, b) at which master m is active."""
    if active(m, a):
        return a
    p = float(period_fraction(m.period_s))
    on = (np.floor(a / p) + 1) * p
    return float(on) if on < b else None


def _worst_case(m: Master, busy: tuple | None, engines: int) -> tuple[int, float | None]:
    """(most engines busy together while m is active, the first instant of that), from a run's
    busy_counts (None: no run, any number of engines may be)."""
    if busy is None:
        return engines, None
    times, counts = busy
    for k in range(int(counts.max()), 0, -1):
        for i in np.nonzero(counts[:-1] == k)[0]:
            when = first_active(m, float(times[i]), float(times[i + 1]))
            if when is not None:
                return k, when
    return 0, None


def outcome(hw: Hardware, m: Master, busy: tuple | None) -> Outcome:
    memory = hw.memory
    busy, when = _worst_case(m, busy, hw.compute.engines)
    others = sum(1 for o in memory.masters if o.priority == "realtime" and o is not m)
    wait = (busy + others) * memory.npu_burst_bytes / memory.dram_bytes_per_s
    rate = m.peak_bytes_per_s
    margin = m.fifo_bytes - rate * wait if m.fifo_bytes > 0 else None
    return Outcome(m.name, m.direction, m.bytes_per_s, m.bytes_per_s, m.fifo_bytes, busy, wait,
                   margin, None if margin is None else margin / rate,
                   margin is not None and margin < 0, when if busy else None)


def realtime_outcomes(hw: Hardware, log: BatchLog | None = None) -> list[dict[str, Any]]:
    """Each realtime master's outcome, worst case over the run in `log` (or any run)."""
    busy = busy_counts(log) if log is not None and len(log) else None
    return [outcome(hw, m, busy).as_dict() for m in hw.memory.masters if m.priority == "realtime"]
