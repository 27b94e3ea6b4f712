"""How a simulated run learns a batch's duration (`Service`), for the runs that take a whole
schedule at once: harness.sut.fifo (numpy) and harness.sut.fast (the compiled kernel). Kept apart
from both so that a SUT can say it without loading numba."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Service:
    """How the run learns a batch's duration."""

    kind: str                                   # "draws" | "alone" | "shared" (fast.KINDS)
    draws: np.ndarray = field(default_factory=lambda: np.empty(0))  # base times in call order
    mean_s: float = 0.0                         # the base time when there are no draws
    per_sample_s: float = 0.0
    dram: Any = None                            # a JointDram (ALONE, SHARED)
    absorb: Callable[[dict], None] = lambda out: None   # takes the log and the DRAM state back


def most_batches(loadgen) -> int:
    """No run serves more batches than the samples it can issue."""
    s = loadgen.schedule
    return int(min(loadgen.max_count, s.count)) * s.samples_per_query
