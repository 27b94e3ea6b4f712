"""What each engine did during a run: one row per batch served, kept as columns.

The accelerator SUT appends a row when a batch's end is known; energy by state (power gating,
peak power in windows) and the charts read the columns afterwards as numpy arrays.
"""

from __future__ import annotations

import numpy as np

COLUMNS = ("engine", "start_s", "end_s", "samples", "mac_j", "sram_j", "dram_j", "dram_bytes")
INTEGER = ("engine", "samples")  # int64 columns; the others float64
CHUNK = 1 << 14                  # rows kept as tuples before they are packed into an array


class BatchLog:
    """Per-batch rows: a tuple per append (one list append a batch), packed into float64
    blocks of CHUNK rows as they fill; columns as arrays on request."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.blocks: list[np.ndarray] = []

    def append(self, engine: int, start_s: float, end_s: float, samples: int, mac_j: float,
               sram_j: float, dram_j: float, dram_bytes: float) -> None:
        rows = self.rows
        rows.append((engine, start_s, end_s, samples, mac_j, sram_j, dram_j, dram_bytes))
        if len(rows) == CHUNK:
            self.blocks.append(np.array(rows, dtype=np.float64))
            rows.clear()

    @classmethod
    def from_table(cls, table: np.ndarray) -> "BatchLog":
        """A log of the rows of `table` (float64, one column per COLUMNS), as appends make it."""
        log = cls()
        full = len(table) - len(table) % CHUNK
        log.blocks = [table[i:i + CHUNK] for i in range(0, full, CHUNK)]
        log.rows = [tuple(row) for row in table[full:].tolist()]
        return log

    def __len__(self) -> int:
        return CHUNK * len(self.blocks) + len(self.rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns: INTEGER ones int64 (exact: engines and sample counts are far below
        2**53), the others float64."""
        tail = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(COLUMNS))
        table = np.concatenate([*self.blocks, tail])
        return {name: table[:, i].astype(np.int64 if name in INTEGER else np.float64)
                for i, name in enumerate(COLUMNS)}
