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
    blocks of CHUNK rows as they fill; columns as arrays on request, built once until the next
    append (a compiled run's log is its columns from the start)."""

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
        """A whole run's log from its columns (as COLUMNS name them), without rows."""
        log = cls()
        log._columns = _frozen({name: columns[name] for name in COLUMNS})
        return log

    def __len__(self) -> int:
        if self._columns is not None:
            return len(self._columns["engine"])
        return CHUNK * len(self.blocks) + len(self.rows)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns, shared between callers: read, do not write."""
        if self._columns is None:
            tail = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), len(COLUMNS))
            table = np.concatenate([*self.blocks, tail])
            self._columns = _frozen({name: table[:, i] for i, name in enumerate(COLUMNS)})
        return self._columns


def _frozen(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each column its own contiguous, read-only array: INTEGER ones int64 (exact: engines and
    sample counts are far below 2**53), the others float64."""
    out = {name: np.array(values, dtype=np.int64 if name in INTEGER else np.float64)
           for name, values in columns.items()}
    for column in out.values():
        column.flags.writeable = False
    return out
