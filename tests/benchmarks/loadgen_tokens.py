"""MLPerf LoadGen itself (PyPI `mlcommons-loadgen` 6.0.17) on a real-time token-streaming SUT, the
equivalent of bench's synthetic token model: `slots` threads take requests from one FIFO queue;
each sleeps `first_token_s`, reports its first token (`FirstTokenComplete`), sleeps
(tokens - 1) * `per_token_s` and completes with `n_tokens = tokens`.

`run(settings, slots, first_token_s, per_token_s, tokens)` returns LoadGen's summary text, the
detail log's keys and values, for comparison with a bench run of the same schedule, and how late
the SUT's sleeps ran on average (`late_s`: a busy machine stretches every service time, and the
queue amplifies that in LoadGen's latencies).

    python tests/benchmarks/loadgen_tokens.py     # one short server run, its token keys printed
"""

from __future__ import annotations

import array
import json
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

import mlperf_loadgen as lg

SAMPLES = 1024


class StreamingSUT:
    def __init__(self, slots: int, first_token_s: float, per_token_s: float, tokens: int):
        self.first_token_s, self.per_token_s, self.tokens = first_token_s, per_token_s, tokens
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.late_s: list[float] = []   # per request: how much longer than asked its sleeps took
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(slots)]
        for thread in self.threads:
            thread.start()

    def issue(self, samples) -> None:
        for s in samples:
            self.queue.put(s.id)

    def _work(self) -> None:
        payload = array.array("B", [0])
        address, _ = payload.buffer_info()
        asked = self.first_token_s + (self.tokens - 1) * self.per_token_s
        while (sample_id := self.queue.get()) is not None:
            start = time.perf_counter()
            time.sleep(self.first_token_s)
            lg.FirstTokenComplete([lg.QuerySampleResponse(sample_id, address, 1)])
            time.sleep((self.tokens - 1) * self.per_token_s)
            lg.QuerySamplesComplete([lg.QuerySampleResponse(sample_id, address, 1, self.tokens)])
            self.late_s.append(time.perf_counter() - start - asked)

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)


def test_settings(scenario: str, settings: dict) -> lg.TestSettings:
    ts = lg.TestSettings()
    ts.scenario = {"server": lg.TestScenario.Server, "offline": lg.TestScenario.Offline}[scenario]
    ts.mode = lg.TestMode.PerformanceOnly
    ts.use_token_latencies = True
    for key, value in settings.items():
        setattr(ts, key, value)
    return ts


def read_detail(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        if line.startswith(":::MLLOG"):
            record = json.loads(line[len(":::MLLOG"):])
            out[record["key"]] = record["value"]
    return out


def run(settings: dict, slots: int, first_token_s: float, per_token_s: float, tokens: int,
        scenario: str = "server") -> dict:
    sut = StreamingSUT(slots, first_token_s, per_token_s, tokens)
    lg_sut = lg.ConstructSUT(sut.issue, lambda: None)
    qsl = lg.ConstructQSL(SAMPLES, SAMPLES, lambda s: None, lambda s: None)
    with tempfile.TemporaryDirectory(prefix="loadgen-tokens-") as outdir:
        log = lg.LogSettings()
        log.log_output.outdir = outdir
        log.enable_trace = False
        lg.StartTestWithLogSettings(lg_sut, qsl, test_settings(scenario, settings), log)
        summary = (Path(outdir) / "mlperf_log_summary.txt").read_text()
        detail_text = (Path(outdir) / "mlperf_log_detail.txt").read_text()
    sut.close()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(lg_sut)
    late_s = sum(sut.late_s) / len(sut.late_s) if sut.late_s else 0.0
    return {"summary": summary, "detail": read_detail(detail_text), "detail_text": detail_text,
            "late_s": late_s}


if __name__ == "__main__":
    out = run({"server_target_qps": 20.0, "min_duration_ms": 3000, "schedule_rng_seed": 1,
               "ttft_latency": 50_000_000, "tpot_latency": 5_000_000}, 1, 0.005, 0.001, 8)
    print(out["summary"])
    print({k: v for k, v in out["detail"].items() if "token" in k or k.startswith(("result_", "early"))},
          file=sys.stdout)
