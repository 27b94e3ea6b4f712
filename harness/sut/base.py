"""The SUT contract and the adapter registry.

A SUT is bound to an environment (its clock) and a `Completions` sink, then receives queries
through `issue`, and reports each query's samples done (or failed) through the sink. In virtual
time a simulated SUT may report a completion ahead of time with `at=`, the instant it will
finish; the load generator acts on it at that instant.

A virtual-time SUT whose answers never depend on later events (a FIFO pool without batching
decisions) may also offer `issue_schedule(arrivals, count)`: the load generator then hands it a
whole open-loop schedule in one call instead of one `issue` per query. Results are identical.

Adapters are found by name through the `bench.adapters` entry-point group; the built-ins are
registered the same way in pyproject.toml, so a third party adds one by declaring
`[project.entry-points."bench.adapters"] myname = "mypkg.module:ADAPTER"`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from harness.errors import config_error
from harness.spec import Reader
from harness.workloads import Workload


class Completions(Protocol):
    def complete(self, query: int, samples: int = 1, at: float | None = None) -> None: ...

    def fail(self, query: int, reason: str, at: float | None = None) -> None: ...


class SUT(Protocol):
    name: str

    def start(self, env: Any, done: Completions) -> None: ...

    def issue(self, query: int, samples: Any) -> None: ...

    def flush(self) -> None: ...

    def finish(self, duration_s: float) -> dict[str, Any]:
        """Called once after the run: extra result fields, e.g. {"energy": {...}}."""
        ...


@dataclass(frozen=True)
class SystemSpec:
    """A loaded system file: identity, the adapter's validated config, its test settings."""

    name: str
    adapter: str
    source: str
    fingerprint: str
    config: Any                       # the adapter's frozen config object
    settings: dict[str, Any] = field(default_factory=dict)           # flat [settings]
    scenario_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None
    # per workload or benchmark name: (flat, per scenario) from [settings.workload.<name>]
    workload_settings: dict[str, tuple[dict, dict]] = field(default_factory=dict)

    def settings_for(self, scenario: str, names: tuple[str, ...] = ()) -> dict[str, Any]:
        """The system's settings for one run: general, then each of `names` (least specific
        first), each flat then for the scenario."""
        out = {**self.settings, **self.scenario_settings.get(scenario, {})}
        for name in names:
            flat, per_scenario = self.workload_settings.get(name, ({}, {}))
            out.update(flat)
            out.update(per_scenario.get(scenario, {}))
        return out


class Adapter(Protocol):
    name: str
    time_mode: str          # "virtual" | "real"
    tables: tuple[str, ...]  # top-level tables of its system files (routes --set keys)
    # Optional: `uses_layers = True` when the SUT runs the workload's layer graph (result.json
    # then describes the graph; otherwise the workload names only the settings that apply), and
    # `model_of(config) -> str`, the model a SUT serves itself (result.json `sut.model`), and
    # `saturation_qps(config, workload) -> float | None`, a server rate the SUT cannot sustain
    # (find-peak's analytic upper bound, harness.measure.peak).

    def load(self, r: Reader, path: Path | None) -> Any:
        """Read and check the adapter's own tables; problems go to r.problems."""
        ...

    def describe(self, config: Any) -> dict[str, Any]:
        """The effective config as plain data, for result.json."""
        ...

    def build(self, config: Any, workload: Workload, seed: int) -> SUT: ...


def adapters() -> dict[str, Any]:
    """Every registered adapter, by name."""
    return {ep.name: ep for ep in entry_points(group="bench.adapters")}


def find_adapter(name: str, source: str) -> Adapter:
    found = adapters()
    if name not in found:
        raise config_error(source, "adapter", name, f"unknown adapter; known: {', '.join(sorted(found))}")
    return found[name].load()
