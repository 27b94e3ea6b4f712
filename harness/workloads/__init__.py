"""Workloads: a model's layer graph, from TOML (the catalog), a SCALE-Sim CSV or an ONNX file.

`load_workload(name_or_path)` is the one entry point the rest of bench uses. The load generator
needs only the identity (`name`, `benchmark`, `source`, `fingerprint`); the accelerator model
reads `layers`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from harness import catalog
from harness.spec import Problems, Reader, apply_overrides, read_toml
from harness.workloads.model import Workload

__all__ = ["Workload", "load_workload", "fingerprint"]


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def load_workload(name_or_path: str, overrides: dict[str, Any] | None = None) -> Workload:
    path = catalog.resolve("workloads", name_or_path)
    source = catalog.label(path)
    raw = read_toml(path, source)
    origins = apply_overrides(raw, overrides or {})
    problems = Problems()
    r = Reader(raw, source, problems, origins=origins)
    name = r.get("name", str, default=path.stem)
    benchmark = r.get("benchmark", str, default=name)
    description = r.get("description", str, default="")
    r.ignore("layers", "input", "blocks")
    r.done()
    problems.raise_if_any()
    return Workload(name=name, benchmark=benchmark, description=description, source=source,
                    fingerprint=fingerprint(path))
