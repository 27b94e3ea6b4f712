"""The `http` adapter against a real KServe v2 server started here on 127.0.0.1."""

import json
import socket
import threading
import time

import pytest

from harness.errors import ConfigError
from harness.sut.http_client import HttpConfig, InputSpec, Requests, fetch_inputs
from harness.measure.systems import load_system
from servers.kserve import KServeServer, Model
from test_realtime import main_code

MODELS = {
    "identity": Model(),
    "slow": Model(delay_s=0.004),
    "error": Model(fault="error"),
    "wrong_id": Model(fault="wrong_id"),
    "hang": Model(fault="hang", delay_s=1.0),
    "bad_json": Model(fault="bad_json"),
    "ids": Model(input_name="tokens", datatype="INT64", shape=(-1, 3)),
}


@pytest.fixture(scope="module")
def server():
    srv = KServeServer(MODELS).start()
    yield srv
    srv.stop()


@pytest.fixture
def http_system(write, server):
    def _make(model="identity", body="", url=None):
        return write(f"{model}.toml", f'name = "{model}"\nadapter = "http"\n[http]\n'
                                      f'url = "{url or server.url}"\nmodel = "{model}"\n{body}')
    return _make


def bench_run(system, out, qps="100", duration="0.3", scenario="server", min_queries="100"):
    code = main_code(["run", "--scenario", scenario, "--sut", str(system), "--workload", "tiny",
                      "--target-qps", qps, "--duration", duration, "--min-queries", min_queries,
                      "--out", str(out), "--no-report"])
    assert code == 0
    return json.loads((out / "result.json").read_text())


def test_keys_and_defaults(http_system):
    c = load_system(str(http_system(body='concurrency = 3\nread_timeout_s = 2.0\n[[http.inputs]]\n'
                                          'name = "INPUT0"\ndatatype = "FP32"\nshape = [-1, 4]\n'))).config
    assert (c.concurrency, c.connect_timeout_s, c.read_timeout_s, c.version) == (3, 5.0, 2.0, "")
    assert c.inputs == (InputSpec("INPUT0", "FP32", (-1, 4)),)
    assert c.model_path == "/v2/models/identity"


def test_inputs_come_from_the_model_metadata(http_system):
    c = load_system(str(http_system("ids"))).config
    assert fetch_inputs(c) == (InputSpec("tokens", "INT64", (-1, 3)),)


def test_request_bodies_are_kserve_v2_json():
    c = HttpConfig("http://x", "m", "", 1, 1.0, 1.0, 4, 10, ())
    body = json.loads(Requests(c, (InputSpec("tokens", "INT64", (-1, 3)),), seed=0).body("7", [0, 5]))
    tensor = body["inputs"][0]
    assert body["id"] == "7" and tensor["name"] == "tokens" and tensor["datatype"] == "INT64"
    assert tensor["shape"] == [2, 3] and len(tensor["data"]) == 6 and all(0 <= v < 10 for v in tensor["data"])


@pytest.mark.realtime
def test_server_run_against_the_local_server(http_system, server, tmp_path):
    before = server.requests
    result = bench_run(http_system(body="concurrency = 2\n"), tmp_path / "ok")
    assert result["failed_queries"] == 0 and result["time_mode"] == "real"
    assert server.requests - before == result["query_count"] == result["sut_stats"]["batches"]
    assert result["latency_s"]["min"] > 0


@pytest.mark.realtime
def test_batches_are_one_request_each(http_system, server, tmp_path):
    before = server.requests
    result = bench_run(http_system("ids", "[batching]\nmax_batch = 16\n"), tmp_path / "off",
                       qps="300", duration="0.1", scenario="offline")
    assert result["failed_queries"] == 0 and result["sample_count"] >= 100
    assert server.requests - before == result["sut_stats"]["batches"] == -(-result["sample_count"] // 16)


@pytest.mark.realtime
def test_concurrency_limits_requests_in_flight(http_system, tmp_path, monkeypatch):
    from servers import kserve

    inflight, peak, lock = [0], [0], threading.Lock()
    answer = kserve._Handler._answer

    def counting(self, *args):
        with lock:
            inflight[0] += 1
            peak[0] = max(peak[0], inflight[0])
        try:
            answer(self, *args)
        finally:
            with lock:
                inflight[0] -= 1

    monkeypatch.setattr(kserve._Handler, "_answer", counting)
    result = bench_run(http_system("slow", "concurrency = 2\n"), tmp_path / "c", qps="1000", duration="0.2")
    assert result["failed_queries"] == 0 and peak[0] == 2


FAULTS = {
    "error": ("identity", "", "http error: HTTP 500: model exploded"),
    "wrong_id": ("identity", "", "server answered id 'not-"),
    "bad_json": ("identity", "", "malformed answer to request"),
    "hang": ("identity", "read_timeout_s = 0.1\nconcurrency = 4\n", "request failed: TimeoutError"),
}


@pytest.mark.realtime
@pytest.mark.parametrize("model", sorted(FAULTS))
def test_a_misbehaving_server_fails_queries_and_the_run_is_invalid(http_system, tmp_path, model):
    _, body, reason = FAULTS[model]
    start = time.perf_counter()
    result = bench_run(http_system(model, body + "[[http.inputs]]\nname = \"INPUT0\"\ndatatype = \"FP32\"\nshape = [-1, 4]\n"),
                       tmp_path / model, qps="100", duration="0.1", min_queries="10")
    assert time.perf_counter() - start < 10
    assert not result["valid"] and result["failed_queries"] == result["query_count"] > 0
    failed = next(c for c in result["checks"] if c["name"] == "failed_queries")
    assert reason in failed["reason"], failed["reason"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.realtime
def test_a_refused_connection_fails_queries(http_system, tmp_path):
    system = http_system(url=f"http://127.0.0.1:{free_port()}",
                         body='[[http.inputs]]\nname = "x"\ndatatype = "FP32"\nshape = [-1, 2]\n')
    result = bench_run(system, tmp_path / "refused", qps="100", duration="0.1", min_queries="10")
    assert result["failed_queries"] == result["query_count"]
    assert "ConnectionRefusedError" in result["invalid_reasons"][-1]


def test_an_unreachable_server_without_inputs_is_a_config_error(http_system, capsys, tmp_path):
    system = http_system(url=f"http://127.0.0.1:{free_port()}")
    assert main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
                      "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "http.url" in err and "cannot reach the server" in err and "Traceback" not in err


def test_an_unknown_model_is_a_config_error(http_system):
    c = load_system(str(http_system("resnet9000"))).config
    with pytest.raises(ConfigError, match="http.model = 'resnet9000': model metadata: HTTP 404"):
        fetch_inputs(c)


BAD = {
    "url": ('url = "ftp://x"\nmodel = "m"\n', "http.url = 'ftp://x': must be an http:// or https:// address"),
    "model": ('url = "http://127.0.0.1:1"\n', "http.model: required key is missing"),
    "concurrency": ('url = "http://h:1"\nmodel = "m"\nconcurrency = 0\n', "http.concurrency = 0: must be >= 1"),
    "timeout": ('url = "http://h:1"\nmodel = "m"\nread_timeout_s = -1\n', "http.read_timeout_s = -1.0: must be a number from 0.001 to 1e+06 s"),
    "shape": ('url = "http://h:1"\nmodel = "m"\n[[http.inputs]]\nname = "x"\ndatatype = "FP32"\nshape = [4, -1]\n',
              "http.inputs[0].shape = [4, -1]: must be a list of sizes >= 1; only the first may be -1"),
    "datatype": ('url = "http://h:1"\nmodel = "m"\n[[http.inputs]]\nname = "x"\ndatatype = "FP8"\nshape = [-1]\n',
                 "http.inputs[0].datatype = 'FP8': must be one of"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files(write, case):
    body, message = BAD[case]
    path = write("bad.toml", 'adapter = "http"\n[http]\n' + body)
    with pytest.raises(ConfigError) as info:
        load_system(str(path))
    assert str(path) in str(info.value) and message in str(info.value), str(info.value)


# ---------------------------------------------------------------- a server that trickles


class TrickleServer:
    """Answers every request with a 200 header promising `length` bytes, then sends one byte
    every `every_s` seconds: each read succeeds, the answer takes length * every_s."""

    def __init__(self, length=60, every_s=0.1, metadata=None):
        self.length, self.every_s, self.metadata = length, every_s, metadata
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            try:
                while conn.recv(65536) and not self.stopped.is_set():
                    if self.metadata is not None:
                        body = json.dumps(self.metadata).encode()
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                        continue
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.length)
                    for _ in range(self.length):
                        time.sleep(self.every_s)
                        conn.sendall(b" ")
            except OSError:
                pass

    def stop(self):
        self.stopped.set()
        self.sock.close()


@pytest.fixture
def trickle():
    servers = []

    def _start(**kw):
        servers.append(TrickleServer(**kw))
        return servers[-1]
    yield _start
    for s in servers:
        s.stop()


INPUTS = '[[http.inputs]]\nname = "INPUT0"\ndatatype = "FP32"\nshape = [-1, 4]\n'


@pytest.mark.realtime
def test_a_trickling_server_fails_each_query_at_its_total_deadline(http_system, trickle, tmp_path):
    """Each read gets a byte within read_timeout_s, so only the total deadline ends a request:
    without it a 0.2 s run would wait 6 s per request."""
    server = trickle(length=60, every_s=0.1)
    system = http_system(body=f"read_timeout_s = 5.0\ndeadline_s = 0.4\nconcurrency = 4\n{INPUTS}",
                         url=server.url)
    began = time.perf_counter()
    result = bench_run(system, tmp_path / "out", qps="10", duration="0.2", min_queries="1")
    took = time.perf_counter() - began
    assert result["failed_queries"] == result["query_count"] > 0 and not result["valid"]
    failed = next(c for c in result["checks"] if c["name"] == "failed_queries")
    assert "not answered whole within deadline_s = 0.4 s" in failed["reason"], failed["reason"]
    assert took < 3.0, took


@pytest.mark.realtime
def test_closing_never_waits_for_a_request_being_trickled(trickle):
    from harness.measure.realtime import SUTError
    from harness.sut.http_client import Client
    server = trickle(length=600, every_s=0.1)
    config = HttpConfig(server.url, "m", "", 1, 1.0, 5.0, 4, 10, (InputSpec("INPUT0", "FP32", (-1, 4)),))
    client = Client(config, Requests(config, config.inputs, 0))
    outcome = []

    def infer():
        try:
            client.infer([0])
        except SUTError as exc:
            outcome.append(str(exc))
    worker = threading.Thread(target=infer)
    worker.start()
    time.sleep(0.3)          # the answer is being trickled now
    began = time.perf_counter()
    client.close()
    closed = time.perf_counter() - began
    worker.join(2.0)
    assert closed < 0.1 and not worker.is_alive() and outcome and "request failed" in outcome[0]


def test_metadata_that_trickles_is_bounded_by_the_deadline(http_system, trickle, capsys, tmp_path):
    server = trickle(length=600, every_s=0.1)
    system = http_system(body="deadline_s = 0.3\n", url=server.url)
    began = time.perf_counter()
    code = main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
                      "--duration", "0.1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and time.perf_counter() - began < 3.0
    assert err.count("\n") == 1 and "within deadline_s = 0.3 s" in err and "Traceback" not in err


@pytest.mark.parametrize("shape, message", [
    ([-1, 100000, 100000], "one sample would hold more than 1,000,000 values"),
    ([-1, -5], "only the first may be -1"),
    ("abc", "only the first may be -1"),
])
def test_huge_or_negative_shapes_in_server_metadata_are_one_line_errors(
        http_system, trickle, capsys, tmp_path, shape, message):
    metadata = {"name": "m", "inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": shape}]}
    server = trickle(metadata=metadata)
    system = http_system(url=server.url)
    code = main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
                      "--duration", "0.1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err
    assert "http.model" in err and not (tmp_path / "o").exists()


def test_generated_inputs_are_bounded(http_system, capsys, tmp_path):
    system = http_system(body='samples = 1000\n[[http.inputs]]\nname = "I"\ndatatype = "FP32"\n'
                              'shape = [-1, 1000, 1000]\n')
    code = main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
                      "--duration", "0.1", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "http.samples = 1000" in err
