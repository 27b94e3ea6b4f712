"""A Python callable as the system under test, run in real time.

System file (the [python] keys are fixed by DESIGN.md)::

    name = "my_model"
    adapter = "python"
    [python]
    callable = "module:function"  # found beside the system file first, then on sys.path
    workers = 1                   # threads calling it concurrently; 0 = on the issuing thread
    timeout_s = 10.0              # a batch not done by then is a failed query (workers = 0:
                                  # the call is interrupted then, on the main thread)
    [batching]
    max_batch = 1                 # samples per call
    timeout_s = 0.0               # how long a partial batch waits for more samples

The callable receives one batch as a list of sample indices and returns when the batch is done;
an exception fails the batch's queries. Completion time is taken when it returns. It may return
None, or say which samples it answered — a list of sample indices (ints), a dict keyed by sample
index, or (index, answer) pairs — and those are checked: a sample it gave no answer for, one it
answered more often than it was given, or answers for samples it was not given fail the queries
concerned, each with that reason. Any other return value (answers without indices) is not read.

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
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from harness.measure.realtime import (WorkerPoolSUT, SampleFailures, SUTError, WorkerPool, describe_batching,
                              load_batching)
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


# ---------------------------------------------------------------- what the callable returns


def _is_index(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def answered_ids(out: Any) -> list | None:
    """The sample indices a return value names as answered, or None when it names none."""
    if isinstance(out, dict):
        return list(out)
    if isinstance(out, np.ndarray) and out.ndim == 1 and np.issubdtype(out.dtype, np.integer):
        return out.tolist()
    if not isinstance(out, (list, tuple)):
        return None
    if all(_is_index(v) for v in out):
        return list(out)
    if all(isinstance(v, tuple) and len(v) == 2 for v in out):
        return [v[0] for v in out]
    return None


def answer_problems(samples: list[int], ids: list) -> list[str | None]:
    """Per sample of the batch: None when the answers cover it, else why its query fails."""
    if not all(_is_index(i) for i in ids):
        bad = next(i for i in ids if not _is_index(i))
        raise SUTError(f"returned answer id {str(bad)[:40]!r}, which is not a sample index")
    given, got = Counter(samples), Counter(int(i) for i in ids)
    foreign = sorted(set(got) - set(given))
    if foreign:
        raise SUTError(f"returned answers for samples {foreign[:5]} it was not given "
                       f"(given {sorted(given)[:8]})")
    seen: Counter = Counter()
    reasons: list[str | None] = []
    for s in samples:
        seen[s] += 1
        if got[s] > given[s]:
            reasons.append(f"answered sample {s} {got[s]} times; it was given {given[s]} time(s)")
        elif seen[s] > got[s]:
            reasons.append(f"returned no answer for sample {s}")
        else:
            reasons.append(None)
    return reasons


def checked(function: Callable[[list[int]], Any]) -> Callable[[list[int]], Any]:
    """The callable, its return value checked against the samples it was given."""
    def call(samples: list[int]) -> Any:
        out = function(samples)
        if out is None or isinstance(out, Iterator):
            return out
        ids = answered_ids(out)
        if ids is None:
            return None
        reasons = answer_problems(samples, ids)
        return SampleFailures(reasons) if any(reasons) else None
    return call


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

    def build(self, config: PythonConfig, workload: Workload, seed: int) -> WorkerPoolSUT:
        pool = WorkerPool(checked(config.function), config.callable, config.workers, config.max_batch,
                          config.batch_timeout_s, config.timeout_s)
        return WorkerPoolSUT("python", pool)


ADAPTER = PythonAdapter()
