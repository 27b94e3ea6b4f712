"""An inference server speaking the KServe v2 / Triton HTTP protocol, in real time.

System file::

    name = "triton_resnet"
    adapter = "http"
    [http]
    url = "http://127.0.0.1:8000"  # the server's base address (http or https)
    model = "resnet50"              # POST {url}/v2/models/{model}[/versions/{version}]/infer
    version = ""                    # optional model version
    concurrency = 4                 # requests in flight at most, one persistent connection each
    connect_timeout_s = 5.0
    read_timeout_s = 30.0           # a request not answered by then fails its queries
    samples = 64                    # distinct generated input samples, picked by index modulo this
    int_max = 100                   # integer inputs are drawn from [0, int_max)
    [[http.inputs]]                 # optional: default is the model's metadata (GET /v2/models/{model})
    name = "INPUT0"
    datatype = "FP32"               # KServe v2 datatype: BOOL, INT8..INT64, UINT8..UINT64, FP16/32/64
    shape = [-1, 4]                 # -1 first: the batch dimension, filled with the batch size
    [batching]
    max_batch = 1                   # samples per request
    timeout_s = 0.0                 # how long a partial batch waits for more samples

A batch is one request with a JSON body {"id", "inputs": [{"name", "shape", "datatype", "data"}]};
it completes when a 200 answer with the same id and an "outputs" list arrives. Anything else — a
refused connection, a timeout, an HTTP error, another id, a malformed body — fails its queries
with that reason.
"""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from harness.errors import config_error
from harness.realtime import (PoolSUT, SUTError, WorkerPool, describe_batching, load_batching,
                              positive_int)
from harness.spec import Reader, one_of, positive
from harness.workloads import Workload

DATATYPES = {"BOOL": np.bool_, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
             **{f"{k.upper()}{b}": np.dtype(f"{k}{b}").type for k in ("int", "uint") for b in (8, 16, 32, 64)}}


@dataclass(frozen=True)
class InputSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class HttpConfig:
    url: str
    model: str
    version: str
    concurrency: int
    connect_timeout_s: float
    read_timeout_s: float
    samples: int
    int_max: int
    inputs: tuple[InputSpec, ...]
    max_batch: int = 1
    batch_timeout_s: float = 0.0

    @property
    def model_path(self) -> str:
        version = f"/versions/{self.version}" if self.version else ""
        return f"{urlsplit(self.url).path.rstrip('/')}/v2/models/{self.model}{version}"


def _url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// address, e.g. http://127.0.0.1:8000"
    return None


def _shape(v: list) -> str | None:
    ok = all(isinstance(d, int) and not isinstance(d, bool) and (d >= 1 or (d == -1 and i == 0))
             for i, d in enumerate(v))
    return None if ok and v else "must be a list of sizes >= 1; only the first may be -1 (batch)"


def _inputs(table: Reader) -> tuple[InputSpec, ...]:
    specs = []
    for item in table.tables("inputs"):
        name = item.get("name", str)
        datatype = item.get("datatype", str, check=one_of(*DATATYPES))
        shape = item.get("shape", list, check=_shape)
        item.done()
        if name and datatype and shape:
            specs.append(InputSpec(name, datatype, tuple(shape)))
    return tuple(specs)


def _load(table: Reader) -> dict[str, Any]:
    return dict(
        url=table.get("url", str, check=_url) or "", model=table.get("model", str) or "",
        version=table.get("version", str, default=""),
        concurrency=table.get("concurrency", int, default=1, check=positive_int),
        connect_timeout_s=table.get("connect_timeout_s", float, default=5.0, check=positive),
        read_timeout_s=table.get("read_timeout_s", float, default=30.0, check=positive),
        samples=table.get("samples", int, default=64, check=positive_int),
        int_max=table.get("int_max", int, default=100, check=positive_int),
        inputs=_inputs(table))


# ---------------------------------------------------------------- talking to the server


def _connect(config: HttpConfig) -> http.client.HTTPConnection:
    parts = urlsplit(config.url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=config.connect_timeout_s)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sock.settimeout(config.read_timeout_s)
    return conn


def _exchange(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
              ) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    return response.status, response.read()


def _error_text(status: int, payload: bytes) -> str:
    try:
        detail = json.loads(payload).get("error", "")
    except (ValueError, AttributeError):
        detail = payload[:200].decode("utf-8", "replace")
    return f"HTTP {status}" + (f": {detail}" if detail else "")


def _metadata(config: HttpConfig) -> bytes:
    """GET the model's metadata; unreachable or not 200 is a config error."""
    try:
        conn = _connect(config)
        status, payload = _exchange(conn, "GET", config.model_path)
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        raise config_error(config.url, "http.url", config.url, f"cannot reach the server: {exc}") from None
    if status != 200:
        raise config_error(config.url, "http.model", config.model,
                           f"model metadata: {_error_text(status, payload)}")
    return payload


def fetch_inputs(config: HttpConfig) -> tuple[InputSpec, ...]:
    """The model's inputs from its metadata (GET /v2/models/{model})."""
    where = (config.url, "http.model", config.model)
    try:
        inputs = json.loads(_metadata(config))["inputs"]
        specs = tuple(InputSpec(i["name"], i["datatype"], tuple(i["shape"])) for i in inputs)
    except (ValueError, KeyError, TypeError):
        raise config_error(*where, "model metadata has no usable inputs list") from None
    for spec in specs:
        if spec.datatype not in DATATYPES or _shape(list(spec.shape)):
            raise config_error(*where, f"input {spec.name} ({spec.datatype} {list(spec.shape)}) "
                                       "cannot be generated: give [[http.inputs]]")
    return specs


class Requests:
    """JSON request bodies for batches of samples; pre-rendered per sample, joined per batch."""

    def __init__(self, config: HttpConfig, inputs: tuple[InputSpec, ...], seed: int):
        rng = np.random.default_rng(seed)
        self.inputs = inputs
        self.rows: list[list[str]] = [self._render(rng, spec, config) for spec in inputs]
        self.fixed = [spec.shape[0] if spec.shape[0] != -1 else None for spec in inputs]

    @staticmethod
    def _render(rng: np.random.Generator, spec: InputSpec, config: HttpConfig) -> list[str]:
        dtype = DATATYPES[spec.datatype]
        shape = (config.samples, *spec.shape[1:])
        if np.issubdtype(dtype, np.floating):
            data = rng.standard_normal(shape).astype(dtype)
        elif dtype is np.bool_:
            data = rng.random(shape) < 0.5
        else:
            data = rng.integers(0, config.int_max, shape).astype(dtype)
        return [json.dumps(row.ravel().tolist())[1:-1] for row in data]

    def body(self, request_id: str, samples: list[int]) -> bytes:
        parts = []
        for spec, rows, fixed in zip(self.inputs, self.rows, self.fixed):
            picked = [rows[s % len(rows)] for s in samples]
            picked += [rows[0]] * ((fixed or 0) - len(picked))
            shape = [len(picked), *spec.shape[1:]]
            parts.append(f'{{"name":{json.dumps(spec.name)},"shape":{json.dumps(shape)},'
                         f'"datatype":"{spec.datatype}","data":[{",".join(picked)}]}}')
        return f'{{"id":"{request_id}","inputs":[{",".join(parts)}]}}'.encode()


class Client:
    """One persistent connection per worker thread; `infer` raises SUTError on any failure."""

    def __init__(self, config: HttpConfig, requests: Requests):
        self.config, self.requests = config, requests
        self.path = config.model_path + "/infer"
        self.local = threading.local()
        self.ids = itertools.count()
        self.connections: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = _connect(self.config)
            self.connections.append(conn)
        return conn

    def infer(self, samples: list[int]) -> None:
        request_id = str(next(self.ids))
        body = self.requests.body(request_id, samples)
        try:
            status, payload = _exchange(self._connection(), "POST", self.path, body)
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise SUTError(f"request failed: {type(exc).__name__}: {str(exc) or 'timed out'}") from None
        if status != 200:
            raise SUTError(_error_text(status, payload))
        self._check(request_id, payload)

    def _check(self, request_id: str, payload: bytes) -> None:
        try:
            answer = json.loads(payload)
        except ValueError:
            raise SUTError(f"malformed answer to request {request_id}: {payload[:80]!r}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("outputs"), list):
            raise SUTError(f"answer to request {request_id} has no outputs list")
        if "id" in answer and answer["id"] != request_id:
            raise SUTError(f"server answered id {answer['id']!r} to request {request_id!r}")

    def _drop(self) -> None:
        conn = getattr(self.local, "conn", None)
        self.local.conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for conn in self.connections:
            conn.close()


class HttpAdapter:
    name = "http"
    time_mode = "real"
    tables = ("http", "batching")

    def load(self, r: Reader, path: Path | None) -> HttpConfig:
        table, batching_table = r.table("http", required=True), r.table("batching")
        values = _load(table)
        batching = load_batching(batching_table)
        table.done()
        batching_table.done()
        return HttpConfig(**values, **batching)

    def model_of(self, config: HttpConfig) -> str:
        return f"{config.model} at {config.url}"

    def describe(self, config: HttpConfig) -> dict[str, Any]:
        keys = ("url", "model", "version", "concurrency", "connect_timeout_s", "read_timeout_s",
                "samples", "int_max")
        table: dict[str, Any] = {key: getattr(config, key) for key in keys}
        table["inputs"] = [{"name": i.name, "datatype": i.datatype, "shape": list(i.shape)}
                           for i in config.inputs]
        return {"http": table, "batching": describe_batching(config)}

    def build(self, config: HttpConfig, workload: Workload, seed: int) -> PoolSUT:
        inputs = config.inputs or fetch_inputs(config)
        fixed = [s.shape[0] for s in inputs if s.shape[0] != -1]
        if fixed and config.max_batch > min(fixed):
            raise config_error(config.url, "batching.max_batch", config.max_batch,
                               f"the model's batch dimension is fixed at {min(fixed)}")
        client = Client(config, Requests(config, inputs, seed))
        pool = WorkerPool(client.infer, f"http {config.model}", config.concurrency,
                          config.max_batch, config.batch_timeout_s, 0.0)
        return PoolSUT("http", pool, client.close)


ADAPTER = HttpAdapter()
