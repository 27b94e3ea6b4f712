"""Workloads: a model's layer graph, from TOML (the catalog), a SCALE-Sim CSV or an ONNX file.

`load_workload(name_or_path)` is the one entry point the rest of bench uses. The load generator
needs only the identity (`name`, `benchmark`, `source`, `fingerprint`); the accelerator model
reads `layers`. The TOML format is described in `harness.workloads.graph` (a decoder LLM's,
with a `[decoder]` table, in `harness.workloads.decoder`), the CSV import in
`harness.workloads.scalesim_csv`, the ONNX import in `harness.workloads.onnx_import`.

`overrides` are dotted keys relative to the workload file (`{"input": [3, 512, 512]}` from
`bench run --set workload.input=[3,512,512]`); they are merged before validation, so a bad one
is reported as `--set KEY=VALUE`. CSV and ONNX workloads accept only name/benchmark/description.

An LLM benchmark's name (`--workload llama2-70b`, see harness.measure.llm_benchmarks) that no workload
file holds names the benchmark only: its settings apply, and it has no layer graph, so it serves
SUTs that model their own service (the synthetic token model, real SUTs), not the accelerator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import config_error
from harness.measure.llm_benchmarks import is_token_benchmark
from harness.workloads.model import Layer, Workload
from harness.workloads.source import fingerprint

__all__ = ["Layer", "Workload", "load_workload", "fingerprint"]


class BenchmarkOnly(Workload):
    """A workload that names an MLPerf benchmark and nothing else (no layers: MACs and weights
    unknown, never zero)."""

    def describe(self) -> dict:
        return {**super().describe(), "layers": None, "macs": None, "params": None}


def _names_a_benchmark(name: str) -> bool:
    """An LLM benchmark name ('llama3.1-8b': its dot is no file suffix) that no file holds."""
    if "/" in name or "\\" in name or Path(name).is_file() or name in catalog.names("workloads"):
        return False
    return is_token_benchmark(name)


def load_workload(name_or_path: str, overrides: dict[str, Any] | None = None,
                  allow_unmodeled: bool = False) -> Workload:
    """The workload; an ONNX node bench cannot cost is an error unless `allow_unmodeled`."""
    if _names_a_benchmark(name_or_path) and not overrides:
        return BenchmarkOnly(name_or_path, name_or_path, "MLPerf benchmark identity only: no layer graph",
                             source="benchmark", fingerprint=f"benchmark:{name_or_path}")
    path = catalog.resolve("workloads", name_or_path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        from harness.workloads.decoder import is_decoder_file, load_decoder
        if is_decoder_file(path):
            return load_decoder(path, overrides)
        from harness.workloads.graph import load_graph
        return load_graph(path, overrides)
    if suffix == ".csv":
        from harness.workloads.scalesim_csv import load_csv
        return load_csv(path, overrides)
    if suffix == ".onnx":
        from harness.workloads.onnx_import import load_onnx
        return load_onnx(path, overrides, allow_unmodeled)
    raise config_error("--workload", "", str(name_or_path),
                       "unsupported file type; use .toml, .csv (SCALE-Sim topology) or .onnx")
