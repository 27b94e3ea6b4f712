"""MLPerf LoadGen itself (PyPI `mlcommons-loadgen`) running a Python SUT, for agreement checks.

`run_loadgen(scenario, call, workers, settings)` runs LoadGen's performance mode on a SUT built
the way bench's `python` adapter runs a callable: `workers` threads take samples from one FIFO
queue and call `call([sample_index])`, then report the completion (`workers = 0`: the callable
runs inside LoadGen's issue callback, as a synchronous SUT). It returns the summary figures
LoadGen printed and the issue lag, measured at each IssueQuery callback against the schedule
bench generates for the same seed (bench reproduces LoadGen's server schedule bit for bit; the
unknown start instant is taken as the one that makes the smallest lag zero).

    python tests/benchmarks/loadgen_reference.py server 250   # one 20 s run, printed
"""

from __future__ import annotations

import queue
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import mlperf_loadgen as lg

SCENARIOS = {"server": lg.TestScenario.Server, "single-stream": lg.TestScenario.SingleStream,
             "offline": lg.TestScenario.Offline, "multi-stream": lg.TestScenario.MultiStream}
SAMPLES = 1024


def sleep_2ms(samples: list[int]) -> None:
    """The agreement SUT: 2 ms per sample (time.sleep, so worker threads overlap)."""
    time.sleep(0.002 * len(samples))


def null(samples: list[int]) -> None:
    """The null SUT: done at once."""


def test_settings(scenario: str, settings: dict) -> lg.TestSettings:
    """LoadGen TestSettings from MLPerf-named values (the names bench's --set takes)."""
    ts = lg.TestSettings()
    ts.scenario = SCENARIOS[scenario]
    ts.mode = lg.TestMode.PerformanceOnly
    for key, value in settings.items():
        setattr(ts, key, value)
    return ts


class ThreadedSUT:
    """IssueQuery puts samples on a queue; `workers` threads run them and complete them."""

    def __init__(self, call: Callable[[list[int]], object], workers: int):
        self.call, self.workers = call, workers
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.issue_times: list[float] = []
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]
        for thread in self.threads:
            thread.start()

    def issue(self, samples) -> None:
        self.issue_times.append(time.perf_counter())
        if not self.workers:
            for s in samples:
                self.call([s.index])
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])
            return
        for s in samples:
            self.queue.put((s.id, s.index))

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            self.call([item[1]])
            lg.QuerySamplesComplete([lg.QuerySampleResponse(item[0], 0, 0)])

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)


def parse_summary(text: str) -> dict:
    """The figures of mlperf_log_summary.txt: percentiles (s), validity, QPS."""
    out: dict = {"valid": "Result is : VALID" in text, "percentiles": {}}
    for pct, ns in re.findall(r"^(\d+\.\d+) percentile latency \(ns\)\s*:\s*(\d+)", text, re.M):
        out["percentiles"][float(pct) / 100] = int(ns) / 1e9
    for key, pattern in (("min_s", "Min latency"), ("max_s", "Max latency"), ("mean_s", "Mean latency")):
        match = re.search(rf"^{pattern} \(ns\)\s*:\s*(\d+)", text, re.M)
        out[key] = int(match.group(1)) / 1e9 if match else None
    qps = re.search(r"^(?:Completed samples per second|Samples per second)\s*:\s*([\d.]+)", text, re.M)
    out["qps"] = float(qps.group(1)) if qps else None
    return out


def issue_lag(issue_times: list[float], offsets_s: np.ndarray) -> np.ndarray:
    """Per-query lag against the schedule, the unknown start chosen so the smallest lag is 0."""
    n = min(len(issue_times), len(offsets_s))
    late = np.asarray(issue_times[:n]) - offsets_s[:n]
    return late - late.min()


def run_loadgen(scenario: str, call: Callable[[list[int]], object], workers: int,
                settings: dict, offsets_s: np.ndarray | None = None) -> dict:
    """One LoadGen performance run; its summary figures, issue lag (server) and queries."""
    sut = ThreadedSUT(call, workers)
    lg_sut = lg.ConstructSUT(sut.issue, lambda: None)
    qsl = lg.ConstructQSL(SAMPLES, SAMPLES, lambda s: None, lambda s: None)
    with tempfile.TemporaryDirectory(prefix="loadgen-") as outdir:
        log = lg.LogSettings()
        log.log_output.outdir = outdir
        log.enable_trace = False
        lg.StartTestWithLogSettings(lg_sut, qsl, test_settings(scenario, settings), log)
        text = (Path(outdir) / "mlperf_log_summary.txt").read_text()
    sut.close()
    lg.DestroyQSL(qsl)
    lg.DestroySUT(lg_sut)
    result = parse_summary(text)
    result["queries"] = len(sut.issue_times)
    if offsets_s is not None:
        result["issue_lag_s"] = issue_lag(sut.issue_times, offsets_s)
    result["summary"] = text
    return result


def _main(argv: list[str]) -> None:
    scenario, qps = argv[0], float(argv[1])
    settings = {"server_target_qps": qps, "min_duration_ms": 20000, "schedule_rng_seed": 1}
    out = run_loadgen(scenario, sleep_2ms, 1, settings)
    print({k: v for k, v in out.items() if k != "summary"})


if __name__ == "__main__":
    _main(sys.argv[1:])
