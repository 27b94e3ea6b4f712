"""The `accelerator` adapter: the NPU model (harness.accel) served like any simulated SUT.

The hardware file's [compute], [memory], [energy] and [batching] tables are read by
`harness.accel.config`; `engines` engines sit behind one FIFO queue with dynamic batching
(`ServicePool`), and each batch's service time comes from `AcceleratorModel.service`, which
depends on when the batch starts because real-time bus masters take DRAM bandwidth first.

Energy over a run: the dynamic energy (MACs, SRAM, DRAM) of every batch served, plus the chip's
static power (`energy.static_w`) over the whole run, idle time included — leakage does not stop
between batches. Joules per sample divide by the samples completed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.accel import AcceleratorModel, Hardware, read_hardware
from harness.accel.config import TABLES
from harness.accel.energy import tops_per_w
from harness.spec import Reader
from harness.sut.pool import PooledSUT, ServicePool
from harness.workloads import Workload

TIMELINE_POINTS = 2000


class AcceleratorSUT(PooledSUT):
    def __init__(self, hardware: Hardware, workload: Workload):
        self.name = hardware.name
        self.hardware = hardware
        self.model = AcceleratorModel(hardware, workload)
        b = hardware.batching
        self.pool = ServicePool(hardware.compute.engines, b.max_batch, b.timeout_s, self._service)
        self.mac_j = self.sram_j = self.dram_j = 0.0
        self.dram_bytes = 0.0
        self.samples = 0
        self.batch_sizes: dict[int, int] = {}

    def _service(self, batch: int, start_s: float, engine: int) -> float:
        s = self.model.service(batch, start_s, engine)
        d = s.dynamic_j
        self.mac_j += d.mac
        self.sram_j += d.sram
        self.dram_j += d.dram
        self.dram_bytes += s.dram_bytes
        self.samples += batch
        self.batch_sizes[batch] = self.batch_sizes.get(batch, 0) + 1
        return s.duration_s

    def start(self, env, done) -> None:
        self.model.reset()  # every run starts with cold engines
        super().start(env, done)

    def finish(self, duration_s: float) -> dict[str, Any]:
        static = self.hardware.energy.static_w * duration_s
        breakdown = {"mac": self.mac_j, "sram": self.sram_j, "dram": self.dram_j, "static": static}
        total = sum(breakdown.values())
        per_sample = total / self.samples if self.samples else 0.0
        macs = self.model.workload.macs * self.samples
        return {
            "energy": {"joules_per_sample": per_sample,
                       "average_power_w": total / duration_s if duration_s > 0 else 0.0,
                       "total_j": total, "breakdown_j": breakdown, "tops_per_w": tops_per_w(macs, total)},
            "accelerator": self._summary(duration_s),
        }

    def _summary(self, duration_s: float) -> dict[str, Any]:
        common = max(self.batch_sizes, key=self.batch_sizes.get) if self.batch_sizes else 1
        c = self.hardware.compute
        return {
            "batches": sum(self.batch_sizes.values()),
            "batch_sizes": {str(k): v for k, v in sorted(self.batch_sizes.items())},
            "utilization": self.pool.busy_s / (duration_s * c.engines) if duration_s > 0 else 0.0,
            "dram_bytes": self.dram_bytes,
            "dram_average_bytes_per_s": self.dram_bytes / duration_s if duration_s > 0 else 0.0,
            "peak_macs_per_s": c.peak_macs_per_s * c.engines,
            "dram_bytes_per_s": self.hardware.memory.usable_dram_bytes_per_s,
            "profile_batch": common,
            "layers": [row for row in self.model.profile(common).as_dict()["layers"]],
            "dram_timeline": dram_timeline(self.model),
            "starving_masters": self.model.starving_masters(),
        }


def dram_timeline(model: AcceleratorModel) -> dict[str, Any]:
    """DRAM bandwidth over a few periods of the masters: what each takes, what the NPU gets."""
    memory = model.hardware.memory
    masters = memory.masters
    span = 3 * max((m.period_s for m in masters), default=0.0) or 0.1
    t = np.linspace(0.0, span, TIMELINE_POINTS, endpoint=False)
    usable = memory.usable_dram_bytes_per_s
    taken = {m.name: np.where((t % m.period_s) < m.duty * m.period_s, m.bytes_per_s / m.duty, 0.0)
             for m in masters}
    npu = np.maximum(usable - sum(taken.values(), np.zeros_like(t)), 0.0)
    return {"t_s": t.tolist(), "usable_bytes_per_s": usable, "npu_bytes_per_s": npu.tolist(),
            "masters": {name: rate.tolist() for name, rate in taken.items()}}


class AcceleratorAdapter:
    name = "accelerator"
    time_mode = "virtual"
    tables = TABLES

    def load(self, r: Reader, path: Path | None) -> Hardware:
        name = r.data.get("name") if isinstance(r.data.get("name"), str) else (path.stem if path else "npu")
        return read_hardware(r, name)

    def describe(self, hw: Hardware) -> dict[str, Any]:
        return hw.describe() if hasattr(hw, "describe") else _plain(hw)

    def build(self, hw: Hardware, workload: Workload, seed: int) -> AcceleratorSUT:
        return AcceleratorSUT(hw, workload)


def _plain(value: Any) -> Any:
    """A frozen dataclass tree as plain data."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__ if k != "source"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


ADAPTER = AcceleratorAdapter()
