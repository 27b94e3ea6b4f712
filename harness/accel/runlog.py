"""What each engine did during a run: one row per batch served, kept as columns.

The accelerator SUT appends a row when a batch's end is known; energy by state (power gating,
peak power in windows) and the charts read the columns afterwards as numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

COLUMNS = ("engine", "start_s", "end_s", "samples", "mac_j", "sram_j", "dram_j", "dram_bytes")


@dataclass
class BatchLog:
    """Columns of per-batch rows (plain lists while the run appends, arrays on request; a
    compiled run's log holds arrays and takes no more rows)."""

    columns: dict[str, list] = field(default_factory=lambda: {c: [] for c in COLUMNS})

    def append(self, engine: int, start_s: float, end_s: float, samples: int, mac_j: float,
               sram_j: float, dram_j: float, dram_bytes: float) -> None:
        row = (engine, start_s, end_s, samples, mac_j, sram_j, dram_j, dram_bytes)
        for name, value in zip(COLUMNS, row):
            self.columns[name].append(value)

    def __len__(self) -> int:
        return len(self.columns["engine"])

    @classmethod
    def from_arrays(cls, columns: dict[str, np.ndarray]) -> "BatchLog":
        """A finished log (the compiled run's), its columns already arrays."""
        return cls({name: columns[name] for name in COLUMNS})

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(values) for name, values in self.columns.items()}
