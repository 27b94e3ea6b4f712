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
    read_timeout_s = 30.0           # a read that gets nothing for this long fails its queries
    deadline_s = 60.0               # total time a request may take, however the server trickles
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
with that reason. `deadline_s` bounds a request's total time (send, wait and every read): when it
runs out the request's socket is shut down, so a server that trickles a byte at a time cannot hold
a query (or the end of the run) past it. Closing shuts every connection down and never waits.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from harness.errors import config_error
from harness.measure.realtime import (WorkerPoolSUT, SUTError, WorkerPool, describe_batching, load_batching,
                              positive_int)
from harness.spec import Reader, one_of, within
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
    deadline_s: float = 60.0

    @property
    def model_path(self) -> str:
        version = f"/versions/{self.version}" if self.version else ""
        return f"{urlsplit(self.url).path.rstrip('/')}/v2/models/{self.model}{version}"


def _url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// address, e.g. http://127.0.0.1:8000"
    return None


MAX_SAMPLE_ELEMENTS = 1_000_000     # values in one generated input sample
MAX_GENERATED_ELEMENTS = 20_000_000  # values generated in all (samples x one sample's)


def _shape(v: list) -> str | None:
    ok = all(isinstance(d, int) and not isinstance(d, bool) and (1 <= d <= MAX_SAMPLE_ELEMENTS
             or (d == -1 and i == 0)) for i, d in enumerate(v))
    if not ok or not v:
        return "must be a list of sizes >= 1; only the first may be -1 (batch)"
    if math.prod(v[1:]) > MAX_SAMPLE_ELEMENTS:
        return f"one sample would hold more than {MAX_SAMPLE_ELEMENTS:,} values"
    return None


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
        connect_timeout_s=table.get("connect_timeout_s", float, default=5.0, check=within(1e-3, 1e6, " s")),
        read_timeout_s=table.get("read_timeout_s", float, default=30.0, check=within(1e-3, 1e6, " s")),
        deadline_s=table.get("deadline_s", float, default=60.0, check=within(1e-3, 1e6, " s")),
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
    """GET the model's metadata within deadline_s; unreachable or not 200 is a config error."""
    deadlines = Deadlines()
    try:
        conn = _connect(config)
        deadlines.arm(conn.sock, config.deadline_s)
        status, payload = _exchange(conn, "GET", config.model_path)
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        reason = f"no whole answer within deadline_s = {config.deadline_s:g} s" if deadlines.stop() else exc
        raise config_error(config.url, "http.url", config.url, f"cannot reach the server: {reason}") from None
    finally:
        deadlines.stop()
    if status != 200:
        raise config_error(config.url, "http.model", config.model,
                           f"model metadata: {_error_text(status, payload)}")
    return payload


def fetch_inputs(config: HttpConfig) -> tuple[InputSpec, ...]:
    """The model's inputs from its metadata (GET /v2/models/{model}), each one checked."""
    where = (config.url, "http.model", config.model)
    try:
        inputs = json.loads(_metadata(config))["inputs"]
        specs = tuple(InputSpec(i["name"], i["datatype"], tuple(i["shape"])) for i in inputs)
    except (ValueError, KeyError, TypeError):
        raise config_error(*where, "model metadata has no usable inputs list") from None
    for spec in specs:
        problem = _metadata_problem(spec)
        if problem:
            raise config_error(*where, f"input {str(spec.name)[:40]!r} ({str(spec.datatype)[:20]} "
                                       f"{_short(spec.shape)}) {problem}: give [[http.inputs]]")
    return specs


def _metadata_problem(spec: InputSpec) -> str | None:
    if not isinstance(spec.name, str) or not isinstance(spec.datatype, str) \
            or spec.datatype not in DATATYPES:
        return "cannot be generated"
    shape = _shape(list(spec.shape))
    return f"cannot be generated: its shape {shape}" if shape else None


def _short(shape: tuple) -> str:
    text = str(list(shape))
    return text if len(text) <= 60 else text[:57] + "..."


def _generated_size(config: HttpConfig, inputs: tuple[InputSpec, ...]) -> None:
    """The inputs generated up front (samples of each) must fit in memory."""
    total = sum(config.samples * math.prod(spec.shape[1:]) for spec in inputs)
    if total > MAX_GENERATED_ELEMENTS:
        raise config_error(config.url, "http.samples", config.samples,
                           f"{config.samples} samples of these inputs are {total:,} values; at most "
                           f"{MAX_GENERATED_ELEMENTS:,} are generated: lower http.samples")


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


def _shut(sock: socket.socket | None) -> None:
    """End every read and write on `sock` now, from any thread, without waiting."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Deadlines:
    """Each request's total time: one thread shuts a request's socket down when its time is
    up, which ends a read in progress at once (per-read timeouts alone let a server that
    trickles bytes stretch a request without end)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.armed: dict[int, tuple[float, socket.socket]] = {}
        self.expired: set[int] = set()
        self.keys = itertools.count()
        self.thread: threading.Thread | None = None
        self.stopped = False

    def arm(self, sock: socket.socket, seconds: float) -> int:
        with self.cond:
            key = next(self.keys)
            self.armed[key] = (time.monotonic() + seconds, sock)
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="http-deadlines", daemon=True)
                self.thread.start()
            self.cond.notify()
        return key

    def disarm(self, key: int) -> bool:
        """The request is over; True when its deadline struck first."""
        with self.cond:
            self.armed.pop(key, None)
            late = key in self.expired
            self.expired.discard(key)
            return late

    def stop(self) -> bool:
        """No more requests; True when any deadline struck."""
        with self.cond:
            self.stopped = True
            self.cond.notify()
            return bool(self.expired)

    def _watch(self) -> None:
        with self.cond:
            while not self.stopped:
                now = time.monotonic()
                for key, (due, sock) in list(self.armed.items()):
                    if due <= now:
                        del self.armed[key]
                        self.expired.add(key)
                        _shut(sock)
                due = min((d for d, _ in self.armed.values()), default=None)
                self.cond.wait(None if due is None else due - now)


class Client:
    """One persistent connection per worker thread; `infer` raises SUTError on any failure,
    a request over `deadline_s` included."""

    def __init__(self, config: HttpConfig, requests: Requests):
        self.config, self.requests = config, requests
        self.path = config.model_path + "/infer"
        self.local = threading.local()
        self.ids = itertools.count()
        self.connections: list[http.client.HTTPConnection] = []
        self.deadlines = Deadlines()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = _connect(self.config)
            self.connections.append(conn)
        return conn

    def infer(self, samples: list[int]) -> None:
        request_id = str(next(self.ids))
        body = self.requests.body(request_id, samples)
        key = None
        try:
            conn = self._connection()
            key = self.deadlines.arm(conn.sock, self.config.deadline_s)
            status, payload = _exchange(conn, "POST", self.path, body)
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            if key is not None and self.deadlines.disarm(key):
                raise SUTError(self._late(request_id)) from None
            raise SUTError(f"request failed: {type(exc).__name__}: {str(exc) or 'timed out'}") from None
        if self.deadlines.disarm(key):
            self._drop()
            raise SUTError(self._late(request_id))
        if status != 200:
            raise SUTError(_error_text(status, payload))
        self._check(request_id, payload)

    def _late(self, request_id: str) -> str:
        return (f"request {request_id} not answered whole within deadline_s = "
                f"{self.config.deadline_s:g} s")

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
        """Shut every connection down without waiting: a worker blocked reading one returns
        at once (HTTPConnection.close would wait for the reader's buffer lock)."""
        self.deadlines.stop()
        for conn in list(self.connections):
            sock = conn.sock
            _shut(sock)
            if sock is not None:
                sock.close()  # deferred by the socket while a reader still holds it


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
                "deadline_s", "samples", "int_max")
        table: dict[str, Any] = {key: getattr(config, key) for key in keys}
        table["inputs"] = [{"name": i.name, "datatype": i.datatype, "shape": list(i.shape)}
                           for i in config.inputs]
        return {"http": table, "batching": describe_batching(config)}

    def build(self, config: HttpConfig, workload: Workload, seed: int) -> WorkerPoolSUT:
        inputs = config.inputs or fetch_inputs(config)
        _generated_size(config, inputs)
        fixed = [s.shape[0] for s in inputs if s.shape[0] != -1]
        if fixed and config.max_batch > min(fixed):
            raise config_error(config.url, "batching.max_batch", config.max_batch,
                               f"the model's batch dimension is fixed at {min(fixed)}")
        client = Client(config, Requests(config, inputs, seed))
        pool = WorkerPool(client.infer, f"http {config.model}", config.concurrency,
                          config.max_batch, config.batch_timeout_s, 0.0)
        return WorkerPoolSUT("http", pool, client.close)


ADAPTER = HttpAdapter()
