"""From a point's parameters to the inputs of one run or one profile, and the fingerprint that
tells whether a point already done was done with the same inputs.

The loaders are cached per process (a pool worker, a Dask worker): the points of a sweep share
a few system and workload files, so each is read and validated once per worker, not per point.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness import __version__, catalog
from harness.accel import Hardware, load_hardware
from harness.measure.masters_edit import fold
from harness.measure.runner import RunRequest
from harness.measure.systems import raw_system
from harness.sweep import params as P
from harness.sweep.spec import RunSettings
from harness.workloads import Workload, fingerprint as file_fingerprint, load_workload


def locate(value: str, base_dir: str) -> str:
    """A system or workload as given; a relative path is read beside the sweep file."""
    if catalog.is_path(value) and not Path(value).is_absolute():
        return str(Path(base_dir) / value)
    return value


@lru_cache(maxsize=64)
def system_file(name: str) -> tuple[str, str, dict]:
    """(path, label, parsed TOML) of a system; callers deep-copy the dict before changing it."""
    path = catalog.resolve("systems", name)
    label = catalog.label(path)
    return str(path), label, raw_system(path, label)


def system_overrides(params: dict[str, Any], base_dir: str) -> dict[str, Any]:
    """The point's dotted system keys, with masters.NAME.FIELD folded into memory.masters."""
    _, system_keys, _ = P.split(params)
    masters = {k: v for k, v in params.items() if P.kind(k) == "master"}
    if not masters:
        return dict(system_keys)
    _, label, raw = system_file(locate(params["system"], base_dir))
    return fold({**system_keys, **masters}, raw, label)


def run_request(params: dict[str, Any], settings: RunSettings) -> RunRequest:
    test, _, workload = P.split(params)
    sets = {**test, **system_overrides(params, settings.base_dir),
            **{f"workload.{k}": v for k, v in workload.items()}}
    return RunRequest(scenario=params["scenario"], sut=locate(params["system"], settings.base_dir),
                      workload=locate(params.get("workload", "resnet50"), settings.base_dir),
                      target_qps=params.get("target_qps"), duration_s=settings.duration_s,
                      min_queries=settings.min_queries, seed=settings.seed,
                      sets=tuple(f"{k}={P.literal(v)}" for k, v in sets.items()))


def _key(overrides: dict[str, Any]) -> str:
    return json.dumps(overrides, sort_keys=True, default=str)


@lru_cache(maxsize=512)
def _hardware(system: str, overrides_json: str) -> Hardware:
    _, label, raw = system_file(system)
    return load_hardware(raw, label, json.loads(overrides_json))


@lru_cache(maxsize=128)
def _workload(name: str, overrides_json: str) -> Workload:
    return load_workload(name, json.loads(overrides_json) or None)


def profile_inputs(params: dict[str, Any], base_dir: str) -> tuple[Hardware, Workload, int]:
    _, _, workload = P.split(params)
    hardware = _hardware(locate(params["system"], base_dir), _key(system_overrides(params, base_dir)))
    return (hardware, _workload(locate(params.get("workload", "resnet50"), base_dir), _key(workload)),
            int(params.get("batch", 1)))


@lru_cache(maxsize=256)
def _file_fingerprint(kind: str, name: str) -> str:
    return file_fingerprint(catalog.resolve(kind, name))


def fingerprint(params: dict[str, Any], settings: RunSettings) -> str:
    """Everything a point's figures depend on: parameters, run settings, files, bench version."""
    files = [_file_fingerprint("systems", locate(params["system"], settings.base_dir)),
             _file_fingerprint("workloads", locate(params.get("workload", "resnet50"), settings.base_dir))]
    shared = {k: getattr(settings, k) for k in ("mode", "seed", "duration_s", "min_queries")}
    if settings.find_peak:   # only when set: a sweep done before the key existed stays done
        shared["find_peak"] = True
    text = json.dumps([params, shared, files, __version__], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
