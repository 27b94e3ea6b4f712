"""A small KServe v2 / Triton-protocol HTTP inference server for tests, on 127.0.0.1.

    server = KServeServer({"identity": Model(), "slow": Model(delay_s=0.002)}).start()
    server.url                     # http://127.0.0.1:<ephemeral port>
    server.requests                # how many infer requests were answered
    server.stop()

Endpoints: GET /v2/health/live, /v2/health/ready, /v2/models/{name} (metadata),
/v2/models/{name}/ready; POST /v2/models/{name}[/versions/{v}]/infer. Each model returns its
first input as OUTPUT0 after `delay_s` per sample. A model's `fault` makes it misbehave:
"error" answers HTTP 500, "wrong_id" answers with another request id, "hang" answers only after
`delay_s` (set it past the client's read timeout), "bad_json" answers 200 with a broken body.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_INFER = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?/infer$")
_MODEL = re.compile(r"^/v2/models/([^/]+)(/ready)?$")


@dataclass(frozen=True)
class Model:
    input_name: str = "INPUT0"
    datatype: str = "FP32"
    shape: tuple[int, ...] = (-1, 4)
    delay_s: float = 0.0          # per sample ("hang": in total)
    fault: str = ""               # "" | "error" | "wrong_id" | "hang" | "bad_json"

    def metadata(self, name: str) -> dict:
        tensor = {"datatype": self.datatype, "shape": list(self.shape)}
        return {"name": name, "versions": ["1"], "platform": "bench-test",
                "inputs": [{"name": self.input_name, **tensor}],
                "outputs": [{"name": "OUTPUT0", **tensor}]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: "_Server"

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
        pass

    def _send(self, status: int, body: object | bytes) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path in ("/v2/health/live", "/v2/health/ready"):
            return self._send(200, b"")
        match = _MODEL.match(self.path)
        model = self.server.models.get(match.group(1)) if match else None
        if model is None:
            return self._send(404, {"error": f"unknown model: {self.path}"})
        self._send(200, b"" if match.group(2) else model.metadata(match.group(1)))

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        match = _INFER.match(self.path)
        model = self.server.models.get(match.group(1)) if match else None
        if model is None:
            return self._send(404, {"error": f"unknown model: {self.path}"})
        try:
            request = json.loads(body)
            tensor = request["inputs"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return self._send(400, {"error": "malformed request"})
        self._answer(match.group(1), model, request, tensor)

    def _answer(self, name: str, model: Model, request: dict, tensor: dict) -> None:
        batch = tensor["shape"][0] if tensor.get("shape") else 1
        time.sleep(model.delay_s if model.fault == "hang" else model.delay_s * batch)
        self.server.count()
        if model.fault == "error":
            return self._send(500, {"error": "model exploded"})
        if model.fault == "bad_json":
            return self._send(200, b'{"outputs": [')
        answer_id = "not-" + str(request.get("id")) if model.fault == "wrong_id" else request.get("id")
        output = {"name": "OUTPUT0", "shape": tensor["shape"], "datatype": tensor["datatype"],
                  "data": tensor["data"]}
        self._send(200, {"model_name": name, "model_version": "1", "id": answer_id,
                         "outputs": [output]})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, models: dict[str, Model]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.models = models
        self.requests = 0
        self._lock = threading.Lock()

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (read timeout) closes its end: not worth a traceback."""

    def count(self) -> None:
        with self._lock:
            self.requests += 1


class KServeServer:
    def __init__(self, models: dict[str, Model]):
        self._server = _Server(models)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="kserve-test-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> int:
        return self._server.requests

    def start(self) -> KServeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
