"""The common row model: one `Result` per (system, workload, scenario) run, whatever its source.

Both our result directories and MLPerf submission runs load into `Result`, so compare, gate and
check work on one shape. `figures` holds every gateable number under result.json's dotted names
(`samples_per_second`, `latency_s.p99`, `energy.joules_per_sample`, `metric.value`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.measure.settings import SCENARIOS  # noqa: F401 - re-exported
from harness.measure.settings import parse_scenario as scenario_name  # noqa: F401 - re-exported

LATENCY_SCENARIOS = ("single-stream", "multi-stream")


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None     # None: a run that produced no figure (e.g. nothing completed)
    unit: str

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "unit": self.unit}


@dataclass(frozen=True)
class Accelerators:
    """Chip count and model; `count` 0 means CPU only (then `host_cores` normalises)."""

    count: int | None
    model: str | None
    nodes: int = 1
    host_cores: int | None = None

    def as_dict(self) -> dict:
        return {"count": self.count, "model": self.model, "nodes": self.nodes,
                "host_cores": self.host_cores}


@dataclass(frozen=True)
class Energy:
    """Energy of a run. Never an official MLPerf figure here: recomputed or simulated."""

    joules_per_sample: float | None
    average_power_w: float | None
    source: str                      # "spl.txt" (measured) | "model" (simulated)
    joules_per_query: float | None = None

    @property
    def samples_per_joule(self) -> float | None:
        j = self.joules_per_sample
        return 1.0 / j if j else None

    def as_dict(self) -> dict:
        return {"joules_per_sample": self.joules_per_sample,
                "joules_per_query": self.joules_per_query,
                "average_power_w": self.average_power_w,
                "samples_per_joule": self.samples_per_joule,
                "source": self.source, "official": False}


@dataclass(frozen=True)
class Result:
    source: str                      # "bench" | "mlperf"
    path: Path
    system: str
    workload: str
    scenario: str                    # one of SCENARIOS
    metric: Metric
    valid: bool
    invalid_reasons: tuple[str, ...] = ()
    figures: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    time_mode: str | None = None     # "virtual" | "real"; None for MLPerf logs
    seed: int | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)
    environment: dict | None = None  # host, CPU, Python, package versions (harness.record.provenance)
    accelerators: Accelerators | None = None
    energy: Energy | None = None
    submitter: str | None = None
    division: str | None = None
    system_description: str | None = None
    warnings: int | None = None
    errors: int | None = None
    samples_per_query: int = 1

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.system, self.workload, self.scenario)

    @property
    def label(self) -> str:
        return f"{self.system} / {self.workload} / {self.scenario}"
