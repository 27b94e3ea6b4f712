"""The `accelerator` adapter: the NPU model (harness.accel) served like any simulated SUT.

The hardware file's [compute], [memory], [energy] and [batching] tables are read by
`harness.accel.config`; `engines` engines sit behind one FIFO queue with dynamic batching
(`ServicePool`). The engines share one DRAM at every instant with the bus masters
(`harness.accel.joint`): a batch's duration depends on when it starts and on what the other
engines do while it runs, so the pool learns each end from the joint simulation (`begin`/`end`,
the pool's `shared` protocol). One engine alone takes the same path.

`self.log` (harness.accel.runlog.BatchLog) holds one row per batch once its end is known.
Energy over a run (harness.accel.energy.run_energy, from the log): the dynamic energy (MACs,
SRAM, DRAM) of every batch served, the always-on power over the whole run, and each engine's
static power while it is powered (busy, or idle for less than `energy.gate_after_s`) plus a
wake-up cost each time a gated engine wakes. Joules per sample divide by the samples completed.

A decoder workload (harness.workloads.decoder) is served by harness.sut.accelerator_llm
instead: prefill and decode passes with continuous batching, configured by [llm].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from harness.accel import AcceleratorModel, Hardware, read_hardware
from harness.accel.config import TABLES
from harness.accel.energy import run_energy
from harness.accel.joint import JointDram
from harness.accel.llm import LLMSettings
from harness.accel.realtime import realtime_outcomes
from harness.accel.runlog import COLUMNS, BatchLog
from harness.accel.traffic import timeline
from harness.errors import config_error
from harness.spec import Reader
from harness.sut.accelerator_llm import LLMServer
from harness.sut.pipeline import PipelinePool
from harness.sut.pool import NextEnd, SimulatedPoolSUT, ServicePool
from harness.sut.service import Service
from harness.workloads import Workload
from harness.workloads.decoder import Decoder


class AcceleratorSUT(SimulatedPoolSUT):
    def __init__(self, hardware: Hardware, workload: Workload, model: AcceleratorModel | None = None):
        self.name = hardware.name
        self.hardware = hardware
        self.model = model or AcceleratorModel(hardware, workload)   # read only: a run's warm
        # engines and DRAM state are its JointDram's, so find-peak's runs at once may share it
        hardware = self.model.hardware  # split engines serve as one (harness.accel.schedules)
        b, engines = hardware.batching, hardware.compute.engines
        self.stages = len(self.model.cuts)  # a pipeline's (0: none)
        if self.stages:
            self.pool = PipelinePool(self.stages, b.max_batch, b.timeout_s, shared=self)
        else:
            self.pool = ServicePool(engines, b.max_batch, b.timeout_s, self._alone,
                                    shared=self if engines > 1 else None)
        self.serving = hardware

    def start(self, env, done) -> None:
        self.dram = JointDram(self.model)  # every run starts with cold engines at t = 0
        self.log = BatchLog()
        self.started: dict[int, tuple[int, int, float]] = {}
        super().start(env, done)

    # ------------------------------------------------------------ the pool's shared protocol

    def begin(self, engine: int, samples: int, now: float) -> NextEnd:
        plan = self.dram.plan_id(engine, samples)
        self.started[engine] = (plan, samples, now)
        return self.dram.step(now, engine, plan, -1)

    def end(self, engine: int, now: float) -> NextEnd:
        after = self.dram.step(now, -1, 0, engine)
        plan, samples, start = self.started.pop(engine)
        if self.stages and engine < self.stages - 1:
            samples = 0  # a pipeline's samples are counted once, by its last stage
        self.log.append(engine, start, now, samples, *self.dram.costs[plan])
        return after

    def _alone(self, samples: int, start_s: float, engine: int) -> float:
        """One engine: its batch's end is known at its start (nothing else shares the DRAM)."""
        _, end_s = self.begin(engine, samples, start_s)
        self.end(engine, end_s)
        return end_s - start_s

    # ------------------------------------------------------------ compiled (harness.sut.fast)

    def compiled_service(self, loadgen):
        if self.stages:
            return None  # a pipeline runs in the event loop only (harness.sut.pipeline)
        kind = "alone" if self.pool.shared is None else "shared"
        return Service(kind, dram=self.dram, absorb=self._absorb)

    def _absorb(self, out: dict) -> None:
        """The compiled run's DRAM state and batch log (rows: engine, start, end, samples,
        plan), as the event loop leaves them (the records in place: JointDram keeps views
        of them)."""
        state, dram = out["dram"], self.dram
        dram.rec[0] = state["bins"]
        for i, name in ((4, "zoom_t"), (5, "zoom_n"), (6, "meta"), (7, "zoom_w")):
            dram.rec[i][:] = state[name]
        dram.eng[:], dram.clock[:], dram.warm = state["eng"], state["clock"], state["warm"]
        rows = out["log"]
        costs = np.array(dram.costs).reshape(-1, 4)[rows[:, 4].astype(np.int64)]
        columns = {name: rows[:, i] for i, name in enumerate(COLUMNS[:4])}
        columns.update({name: costs[:, i] for i, name in enumerate(COLUMNS[4:])})
        self.log = BatchLog.from_columns(columns)

    # ------------------------------------------------------------ after the run

    def _schedule(self) -> dict[str, Any]:
        """How a batch used the engines (nothing for the default, independent engines)."""
        if self.model.schedule == "independent":
            return {}
        names = [layer.name for layer in self.model.workload.layers]
        stages = [names[i] for i in self.model.cuts]
        how = ("event loop (the compiled kernel does not run a pipeline)" if self.stages
               else "as the default: the split engines serve as one")
        return {"schedule": {"name": self.model.schedule, "engines": self.hardware.compute.engines,
                             "stage_first_layers": stages, "simulated_by": how}}

    def finish(self, duration_s: float) -> dict[str, Any]:
        cols = self.log.arrays()
        end_s = float(cols["end_s"].max()) if len(cols["end_s"]) else duration_s
        dense_macs = self.model.workload.macs * float(cols["samples"].sum())
        return {
            "energy": run_energy(self.serving, cols, end_s - duration_s, end_s, dense_macs),
            "accelerator": self._summary(duration_s, cols),
        }

    def _summary(self, duration_s: float, cols: dict) -> dict[str, Any]:
        sizes, counts = np.unique(cols["samples"][cols["samples"] > 0], return_counts=True)
        common = int(sizes[np.argmax(counts)]) if len(sizes) else 1
        c = self.hardware.compute
        dram_bytes = float(cols["dram_bytes"].sum())
        end_s = float(cols["end_s"].max()) if len(cols["end_s"]) else 0.0
        return {
            "batches": int(counts.sum()),
            "batch_sizes": {str(int(k)): int(v) for k, v in zip(sizes, counts)},
            "utilization": (self.pool.busy_s / (duration_s * self.serving.compute.engines)
                            if duration_s > 0 else None),   # None: a run of no time
            **self._schedule(),
            "dram_bytes": dram_bytes,
            "dram_average_bytes_per_s": dram_bytes / duration_s if duration_s > 0 else None,
            "peak_macs_per_s": c.peak_macs_per_s * c.engines,
            "dram_bytes_per_s": self.hardware.memory.usable_dram_bytes_per_s,
            "engine_peak_macs_per_s": c.peak_macs_per_s,
            "engine_dram_bytes_per_s": self.model.leftover.mean_bytes_per_s,
            "profile_batch": common,
            "layers": [row for row in self.model.profile(common).as_dict()["layers"]],
            "dram_timeline": timeline(self.dram, end_s, duration_s),
            "starving_masters": self.model.starving_masters(),
            "realtime_masters": realtime_outcomes(self.hardware, self.log),
        }


KEPT_MODELS = 32   # a sweep's worker sees each design several times, other designs between


class AcceleratorAdapter:
    name = "accelerator"
    time_mode = "virtual"
    tables = TABLES
    uses_layers = True   # it runs the workload's layer graph
    _models: tuple[AcceleratorModel, ...] = ()   # the models `_model` built last, newest first

    def load(self, r: Reader, path: Path | None) -> Hardware:
        name = r.data.get("name") if isinstance(r.data.get("name"), str) else (path.stem if path else "npu")
        return read_hardware(r, name)

    def describe(self, hw: Hardware) -> dict[str, Any]:
        return hw.describe() if hasattr(hw, "describe") else _plain(hw)

    def saturation_qps(self, hw: Hardware, workload: Workload) -> float | None:
        """Server queries/s (one sample each) the model cannot exceed: its service-time table's
        bound (AcceleratorModel.saturation_samples_per_s); None for a decoder LLM."""
        if isinstance(workload, Decoder):
            return None
        return AcceleratorModel(hw, workload).saturation_samples_per_s()

    def build(self, hw: Hardware, workload: Workload, seed: int) -> AcceleratorSUT | LLMServer:
        if isinstance(workload, Decoder):  # a decoder LLM: prefill and decode steps
            if hw.compute.schedule != "independent":
                raise config_error(hw.source, "compute.schedule", hw.compute.schedule,
                                   "a decoder LLM is served on independent engines only")
            return LLMServer(hw, workload, hw.llm or LLMSettings())
        return AcceleratorSUT(hw, workload, self._model(hw, workload))

    def _model(self, hw: Hardware, workload: Workload) -> AcceleratorModel:
        """A model built before for equal hardware and workload (find-peak's probes, repeated
        runs, a sweep's points that differ only in load): its batch plans are the same, and
        take a tenth of a second. A run only reads its model (the warm engines and the DRAM are
        its JointDram's), so sharing one changes no result."""
        for model in self._models:
            if model.physical == hw and model.workload == workload:
                return model
        model = AcceleratorModel(hw, workload)
        self._models = (model, *self._models[:KEPT_MODELS - 1])
        return model


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
