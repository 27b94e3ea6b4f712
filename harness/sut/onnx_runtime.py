"""An ONNX model run by ONNX Runtime on the CPU, in real time.

System file::

    name = "tiny_mlp_ort"
    adapter = "onnxruntime"
    [onnxruntime]
    model = "tiny.onnx"             # beside the system file (or an absolute path)
    workers = 1                     # threads calling the session concurrently (0 = issuing thread)
    timeout_s = 10.0                # a batch not done by then is a failed query
    intra_op_threads = 1            # ONNX Runtime's intra-op pool; 0 = its default
    inter_op_threads = 1            # inter-op pool (execution_mode = "parallel"); 0 = default
    execution_mode = "sequential"   # | "parallel"
    graph_optimization = "all"      # "disable" | "basic" | "extended" | "all"
    samples = 64                    # distinct generated input samples, picked by index modulo this
    int_max = 100                   # integer inputs are drawn from [0, int_max)
    dims = { seq = 128 }            # values of symbolic dimensions other than the batch one
    [batching]
    max_batch = 1                   # samples per session run
    timeout_s = 0.0                 # how long a partial batch waits for more samples

Inputs are generated from the model's input shapes and types with the run's SUT seed: floats
standard normal, integers uniform, booleans fair. A symbolic first dimension is the batch
dimension, filled with the batch size; a fixed first dimension F takes batches of exactly F
(a partial batch is padded), so `max_batch` must not exceed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import NO_VALUE, config_error
from harness.workloads.onnx_graph import one_line
from harness.measure.realtime import WorkerPoolSUT, WorkerPool, describe_batching, load_batching, positive_int
from harness.spec import Reader, one_of, positive
from harness.workloads import Workload

MODES = {"sequential": "ORT_SEQUENTIAL", "parallel": "ORT_PARALLEL"}
LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC",
          "extended": "ORT_ENABLE_EXTENDED", "all": "ORT_ENABLE_ALL"}
DTYPES = {"float": np.float32, "float16": np.float16, "double": np.float64, "bool": np.bool_,
          **{f"{k}{b}": np.dtype(f"{k}{b}").type for k in ("int", "uint") for b in (8, 16, 32, 64)}}


@dataclass(frozen=True)
class OnnxConfig:
    model: str
    path: Path
    workers: int
    timeout_s: float
    intra_op_threads: int
    inter_op_threads: int
    execution_mode: str
    graph_optimization: str
    samples: int
    int_max: int
    dims: dict[str, int] = field(default_factory=dict)
    max_batch: int = 1
    batch_timeout_s: float = 0.0


def _count(v: int) -> str | None:
    return None if v >= 0 else "must be >= 0 (0 = the default)"


def _dims(table: Reader) -> dict[str, int]:
    dims = table.get("dims", dict, default={})
    for name, value in dims.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            table.problem(f"dims.{name}", value, "must be an integer >= 1")
    return {k: v for k, v in dims.items() if isinstance(v, int) and v >= 1}


def _model_path(table: Reader, base: Path | None) -> tuple[str, Path]:
    model = table.get("model", str) or ""
    path = Path(model)
    path = path if path.is_absolute() or base is None else base / path
    if model and not path.is_file():
        table.problem("model", model, f"model file not found: {path}")
    return model, path


def _load(table: Reader, base: Path | None) -> dict[str, Any]:
    model, path = _model_path(table, base)
    return dict(
        model=model, path=path,
        workers=table.get("workers", int, default=1, check=_count),
        timeout_s=table.get("timeout_s", float, default=10.0, check=positive),
        intra_op_threads=table.get("intra_op_threads", int, default=1, check=_count),
        inter_op_threads=table.get("inter_op_threads", int, default=1, check=_count),
        execution_mode=table.get("execution_mode", str, default="sequential", check=one_of(*MODES)),
        graph_optimization=table.get("graph_optimization", str, default="all", check=one_of(*LEVELS)),
        samples=table.get("samples", int, default=64, check=positive_int),
        int_max=table.get("int_max", int, default=100, check=positive_int),
        dims=_dims(table))


# ---------------------------------------------------------------- the session and its inputs


def session_options(config: OnnxConfig):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = config.intra_op_threads
    options.inter_op_num_threads = config.inter_op_threads
    options.execution_mode = getattr(ort.ExecutionMode, MODES[config.execution_mode])
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel,
                                               LEVELS[config.graph_optimization])
    return options


def make_session(config: OnnxConfig):
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(config.path), session_options(config),
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - ORT raises its own types for a bad model file
        raise config_error(str(config.path), "onnxruntime.model", config.model,
                           f"ONNX Runtime cannot load it: {one_line(exc)}") from None


def _dtype(kind: str, name: str):
    inner = kind.removeprefix("tensor(").removesuffix(")")
    if inner not in DTYPES:
        raise config_error("onnxruntime", "model input", name, f"unsupported input type {kind}")
    return DTYPES[inner]


def _resolve(dim: Any, config: OnnxConfig, name: str) -> int:
    if isinstance(dim, int) and dim > 0:
        return dim
    if isinstance(dim, str) and dim in config.dims:
        return config.dims[dim]
    raise config_error(str(config.path), "onnxruntime.dims", NO_VALUE,
                       f"input {name!r} has symbolic dimension {dim!r}: give its value in dims")


def _random(rng: np.random.Generator, shape: tuple[int, ...], dtype, int_max: int) -> np.ndarray:
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(shape).astype(dtype)
    if dtype is np.bool_:
        return rng.random(shape) < 0.5
    return rng.integers(0, int_max, shape).astype(dtype)


class ModelInputs:
    """Generated samples for every model input; `feeds(indices)` stacks one batch."""

    def __init__(self, session, config: OnnxConfig, seed: int):
        rng = np.random.default_rng(seed)
        self.pools: dict[str, np.ndarray] = {}
        self.fixed: int | None = None
        for arg in session.get_inputs():
            shape = list(arg.shape)
            if not shape:
                raise config_error(str(config.path), "model input", arg.name,
                                   "a scalar input has no batch dimension")
            if isinstance(shape[0], int) and shape[0] > 0:
                self.fixed = shape[0]
            rest = tuple(_resolve(d, config, arg.name) for d in shape[1:])
            dtype = _dtype(arg.type, arg.name)
            self.pools[arg.name] = _random(rng, (config.samples, *rest), dtype, config.int_max)
        if self.fixed is not None and config.max_batch > self.fixed:
            raise config_error(str(config.path), "batching.max_batch", config.max_batch,
                               f"the model's batch dimension is fixed at {self.fixed}")

    def feeds(self, samples: list[int]) -> dict[str, np.ndarray]:
        n = len(samples)
        rows = np.asarray(samples, dtype=np.int64)
        if self.fixed is not None and n < self.fixed:
            rows = np.concatenate([rows, np.zeros(self.fixed - n, dtype=np.int64)])
        return {name: pool.take(rows % len(pool), axis=0) for name, pool in self.pools.items()}


class OnnxAdapter:
    name = "onnxruntime"
    time_mode = "real"
    tables = ("onnxruntime", "batching")

    def load(self, r: Reader, path: Path | None) -> OnnxConfig:
        table, batching_table = r.table("onnxruntime", required=True), r.table("batching")
        values = _load(table, path.parent if path else None)
        batching = load_batching(batching_table)
        table.done()
        batching_table.done()
        return OnnxConfig(**values, **batching)

    def model_of(self, config: OnnxConfig) -> str:
        return str(config.path)

    def describe(self, config: OnnxConfig) -> dict[str, Any]:
        keys = ("model", "workers", "timeout_s", "intra_op_threads", "inter_op_threads",
                "execution_mode", "graph_optimization", "samples", "int_max", "dims")
        table = {key: getattr(config, key) for key in keys}
        return {"onnxruntime": table, "batching": describe_batching(config)}

    def build(self, config: OnnxConfig, workload: Workload, seed: int) -> WorkerPoolSUT:
        session = make_session(config)
        inputs = ModelInputs(session, config, seed)

        def run(samples: list[int]) -> None:
            session.run(None, inputs.feeds(samples))

        pool = WorkerPool(run, f"onnxruntime {config.model}", config.workers, config.max_batch,
                          config.batch_timeout_s, config.timeout_s)
        return WorkerPoolSUT("onnxruntime", pool)


ADAPTER = OnnxAdapter()
