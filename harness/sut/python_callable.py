"""A Python callable as the system under test, run in real time.

System file (the [python] keys are fixed by DESIGN.md)::

    name = "my_model"
    adapter = "python"
    [python]
    callable = "module:function"  # found beside the system file first, then on sys.path
    workers = 1                   # threads calling it concurrently; 0 = on the issuing thread
    timeout_s = 10.0              # a batch not done by then is a failed query
    [batching]
    max_batch = 1                 # samples per call
    timeout_s = 0.0               # how long a partial batch waits for more samples

The callable receives one batch as a list of sample indices and returns when the batch is done;
an exception fails the batch's queries. Completion time is taken when it returns.

An LLM SUT streams instead: the callable returns an iterator (e.g. it is a generator) yielding
one item per output token, for one sample at a time (max_batch = 1). The first item's arrival
is the sample's first token, the iterator's end its completion, the items counted its output
tokens; an exception mid-stream fails the sample, saying after how many tokens it broke.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.realtime import PoolSUT, WorkerPool, describe_batching, load_batching
from harness.spec import Reader, positive
from harness.workloads import Workload


@dataclass(frozen=True)
class PythonConfig:
    callable: str
    workers: int
    timeout_s: float
    max_batch: int
    batch_timeout_s: float
    function: Callable[[list[int]], Any] = field(repr=False, compare=False, default=None)


def _beside(module: str, base: Path | None) -> Path | None:
    """`base/module.py` (or a package folder) for a top-level module beside the system file."""
    if base is None or "." in module:
        return None
    for path in (base / f"{module}.py", base / module / "__init__.py"):
        if path.is_file():
            return path
    return None


def _load_file(module: str, path: Path) -> ModuleType:
    """Import a file under a name of its own, so two systems' `sut.py` never collide."""
    unique = f"_bench_python_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}_{module}"
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, path)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[unique] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[unique]
        raise
    return loaded


def _import(module: str, base: Path | None) -> ModuleType:
    path = _beside(module, base)
    if path is not None:
        return _load_file(module, path)
    if base is not None and str(base) not in sys.path:
        sys.path.insert(0, str(base))
        try:
            return importlib.import_module(module)
        finally:
            sys.path.remove(str(base))
    return importlib.import_module(module)


def resolve(text: str, base: Path | None) -> Callable[[list[int]], Any]:
    """"module:function" (the function may be dotted: "module:Class.method") → the callable."""
    module, sep, name = text.partition(":")
    if not sep or not module.strip() or not name.strip():
        raise ValueError("must be 'module:function'")
    try:
        target: Any = _import(module.strip(), base)
    except Exception as exc:  # noqa: BLE001 - any import failure is a problem with this key
        raise ValueError(f"cannot import {module!r}: {type(exc).__name__}: {exc}") from None
    for part in name.strip().split("."):
        if not hasattr(target, part):
            raise ValueError(f"{module!r} has no attribute {name!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{text} is not callable")
    return target


def _non_negative_int(v: int) -> str | None:
    return None if v >= 0 else "must be >= 0 (0 = call on the issuing thread)"


class PythonAdapter:
    name = "python"
    time_mode = "real"
    tables = ("python", "batching")

    def load(self, r: Reader, path: Path | None) -> PythonConfig:
        table, batching_table = r.table("python", required=True), r.table("batching")
        spec = table.get("callable", str)
        workers = table.get("workers", int, default=1, check=_non_negative_int)
        timeout_s = table.get("timeout_s", float, default=10.0, check=positive)
        batching = load_batching(batching_table)
        table.done()
        batching_table.done()
        function = None
        if spec is not None:
            try:
                function = resolve(spec, path.parent if path else None)
            except ValueError as exc:
                table.problem("callable", spec, str(exc))
        return PythonConfig(spec or "", workers, timeout_s, **batching, function=function)

    def describe(self, config: PythonConfig) -> dict[str, Any]:
        return {"python": {"callable": config.callable, "workers": config.workers,
                           "timeout_s": config.timeout_s},
                "batching": describe_batching(config)}

    def build(self, config: PythonConfig, workload: Workload, seed: int) -> PoolSUT:
        pool = WorkerPool(config.function, config.callable, config.workers, config.max_batch,
                          config.batch_timeout_s, config.timeout_s)
        return PoolSUT("python", pool)


ADAPTER = PythonAdapter()
