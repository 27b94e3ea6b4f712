"""What each engine did during a run: one row per batch served, kept as columns.

The accelerator SUT appends a row when a batch's end is known; energy by state (power gating,
peak power in windows) and the charts read the columns afterwards as numpy arrays.
"""

from __future__ import annotations

import numpy as np

COLUMNS = ("engine", "start_s", "end_s", "samples", "mac_j", "sram_j", "dram_j", "dram_bytes")
INTEGER = ("engine", "samples")  # int64 columns; the others float64


class BatchLog:
    """Per-batch rows: plain tuples while the run appends (one list append a batch), columns
    as arrays on request."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def append(self, engine: int, start_s: float, end_s: float, samples: int, mac_j: float,
               sram_j: float, dram_j: float, dram_bytes: float) -> None:
        self.rows.append((engine, start_s, end_s, samples, mac_j, sram_j, dram_j, dram_bytes))

    def __len__(self) -> int:
        return len(self.rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns: INTEGER ones int64 (exact: engines and sample counts are far below
        2**53), the others float64."""
        table = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(COLUMNS))
        return {name: table[:, i].astype(np.int64 if name in INTEGER else np.float64)
                for i, name in enumerate(COLUMNS)}
