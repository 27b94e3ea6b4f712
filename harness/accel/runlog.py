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
    blocks as they fill (CHUNK rows; a compiled run's whole table is one block); columns as
    arrays on request, built once until the next append."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.blocks: list[np.ndarray] = []
        self._columns: dict[str, np.ndarray] | None = None

    def append(self, engine: int, start_s: float, end_s: float, samples: int, mac_j: float,
               sram_j: float, dram_j: float, dram_bytes: float) -> None:
        rows = self.rows
        rows.append((engine, start_s, end_s, samples, mac_j, sram_j, dram_j, dram_bytes))
        self._columns = None
        if len(rows) == CHUNK:
            self.blocks.append(np.array(rows, dtype=np.float64))
            rows.clear()

    @classmethod
    def from_columns(cls, columns: dict[str, np.ndarray]) -> "BatchLog":
        """A whole run's log from its columns (float64, as COLUMNS name them): the columns
        `arrays` gives, without a table of rows in between."""
        log = cls()
        log._columns = {name: np.asarray(columns[name], dtype=np.float64).astype(   # contiguous
            np.int64 if name in INTEGER else np.float64) for name in COLUMNS}
        for column in log._columns.values():
            column.flags.writeable = False
        return log

    def __len__(self) -> int:
        if not self.blocks and not self.rows and self._columns is not None:
            return len(self._columns["engine"])
        return sum(len(b) for b in self.blocks) + len(self.rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns: INTEGER ones int64 (exact: engines and sample counts are far below
        2**53), the others float64. Shared between callers: read, do not write."""
        if self._columns is None:
            tail = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(COLUMNS))
            table = self.blocks[0] if len(self.blocks) == 1 and not self.rows \
                else np.concatenate([*self.blocks, tail])
            self._columns = {name: table[:, i].astype(np.int64 if name in INTEGER else np.float64)
                             for i, name in enumerate(COLUMNS)}
            for column in self._columns.values():
                column.flags.writeable = False
        return self._columns
