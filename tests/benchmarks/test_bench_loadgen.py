"""Speed of the virtual-time load generator, side by side with a plain SimPy model.

The MLPerf-default server run: 600 s at 2,000 QPS (about 1.2 M queries) against a
deterministic 0.25 ms synthetic SUT (utilisation 0.5). Both simulate the same queue from the
same arrival times; bench must be at least 5x faster (aim: 10x).

    pytest tests/benchmarks/test_bench_loadgen.py --benchmark-only
"""

import time
import tracemalloc

import numpy as np
import pytest

from harness.measure.engine import Environment
from harness.measure.loadgen import LoadGen
from harness.measure.schedule import generate
from harness.measure.settings import effective
from harness.sut.synthetic import SyntheticConfig, SyntheticSUT

from .simpy_reference import simulate

QPS, SERVICE_S = 2000.0, 0.25e-3


def mlperf_server_settings(duration_ms=600_000.0):
    return effective("server", {"server_target_qps": QPS, "min_duration_ms": duration_ms}, 0)


def bench_run(settings):
    sut = SyntheticSUT("syn", SyntheticConfig("deterministic", SERVICE_S, 0.5, "", (), 1, 1, 0.0, 0.0), 1)
    return LoadGen(Environment(), sut, settings, generate(settings)).run()


def test_server_run_speed_against_simpy(benchmark):
    settings = mlperf_server_settings()
    records = benchmark.pedantic(bench_run, args=(settings,), rounds=3, iterations=1)
    arrivals = generate(settings).offsets_ns / 1e9
    start = time.perf_counter()
    completions = simulate(arrivals, SERVICE_S, 1)
    simpy_s = time.perf_counter() - start
    assert np.allclose(records.completed_s, completions, rtol=0, atol=1e-9)
    ratio = simpy_s / benchmark.stats.stats.mean
    benchmark.extra_info.update(queries=len(arrivals), simpy_s=simpy_s, speedup=ratio)
    print(f"\n{len(arrivals)} queries: bench {benchmark.stats.stats.mean:.2f} s, SimPy {simpy_s:.2f} s, {ratio:.1f}x")
    assert ratio >= 5


@pytest.mark.parametrize("duration_ms", [150_000.0, 600_000.0])
def test_memory_is_proportional_to_queries(benchmark, duration_ms):
    settings = mlperf_server_settings(duration_ms)

    def traced():
        tracemalloc.start()
        records = bench_run(settings)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return records.count, peak

    count, peak = benchmark.pedantic(traced, rounds=1, iterations=1)
    per_query = peak / count
    benchmark.extra_info.update(queries=count, peak_bytes=peak, bytes_per_query=per_query)
    print(f"\n{count} queries: peak {peak / 2**20:.1f} MiB, {per_query:.0f} B/query")
    assert per_query < 200
