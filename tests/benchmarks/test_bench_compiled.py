"""Speed of the compiled run (harness.sut.fast) side by side with its references, in one run:

* the main job (npu_v2, 600 s server, resnet50) compiled against the event loop on the same
  prepared run (records identical: tests/test_compiled.py), in-process;
* the 1.2M-query synthetic server run (2,000 QPS, deterministic 0.25 ms) as a whole `bench run`
  in a fresh process (imports, simulation, judging, writing; no report page) against SimPy on
  the same arrival times (tests/benchmarks/simpy_reference.py). Python caches the bytecode of
  the project's modules as it does for an installed `bench` (and for SimPy, compiled when pip
  installed it): PYTHONDONTWRITEBYTECODE, set on the development machine, is dropped for it;
* npu_v2's find-peak against LoadGen's doubling search, in-process.

    pytest tests/benchmarks/test_bench_compiled.py --benchmark-only -s
"""

import os
import subprocess
import sys
import time

from harness.measure import peak
from harness.measure.runner import RunRequest, execute, prepare
from harness.measure.schedule import generate
from harness.measure.settings import effective

from .simpy_reference import simulate

QPS, SERVICE_S = 2000.0, 0.25e-3


def test_main_job_compiled_against_the_event_loop(benchmark):
    prepared = prepare(RunRequest("server", "npu_v2"))
    execute(prepared, compiled=True)  # load the compiled kernel once (numba's cache)
    start = time.perf_counter()
    reference = execute(prepared, compiled=False)
    event_s = time.perf_counter() - start
    run = benchmark.pedantic(execute, args=(prepared,), rounds=3, iterations=1)
    assert run.result["latency_s"] == reference.result["latency_s"]
    ratio = event_s / benchmark.stats.stats.mean
    benchmark.extra_info.update(event_loop_s=event_s, speedup=ratio)
    print(f"\nmain job: compiled {benchmark.stats.stats.mean:.2f} s, event loop {event_s:.2f} s, {ratio:.1f}x")
    # Measured on the 2-core machine: 5.1x (1.31 s against 6.75 s; the kernel alone 0.67-0.80 s
    # of the 1.31, after merging compute-only layers, the 2-D view intrinsic and inlining);
    # 5.5-9.8x on 2026-12-04 with the radix sort of latencies (1.10-1.17 s against 6.4-10.8 s
    # in two runs: the event loop's single timing varies most); 11.4x later that day once the
    # kernel is compiled without numba's reference counting (0.74 s against 8.36 s).
    assert ratio >= 3


def test_synthetic_server_run_whole_cli_against_simpy(benchmark, tmp_path):
    system = tmp_path / "syn.toml"
    system.write_text('name = "syn"\nadapter = "synthetic"\n[service]\n'
                      f'distribution = "deterministic"\nmean_s = {SERVICE_S}\n')
    command = [sys.executable, "-m", "harness.cli.main", "run", "--scenario", "server", "--sut",
               str(system), "--target-qps", str(QPS), "--no-report", "--force", "--out",
               str(tmp_path / "run")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    benchmark.pedantic(subprocess.run, args=(command,),
                       kwargs=dict(check=True, capture_output=True, env=env),
                       rounds=3, iterations=1, warmup_rounds=1)
    settings = effective("server", {"server_target_qps": QPS, "min_duration_ms": 600_000.0}, 0)
    arrivals = generate(settings).offsets_ns / 1e9  # the scenario file's MLPerf defaults
    start = time.perf_counter()
    simulate(arrivals, SERVICE_S, 1)
    simpy_s = time.perf_counter() - start
    ratio = simpy_s / benchmark.stats.stats.mean
    benchmark.extra_info.update(queries=len(arrivals), simpy_s=simpy_s, speedup=ratio)
    print(f"\n{len(arrivals)} queries: bench run {benchmark.stats.stats.mean:.2f} s (whole CLI), "
          f"SimPy {simpy_s:.2f} s, {ratio:.1f}x")
    # Issue 15 asks for 20x. Measured on the shared 2-core machine: 6.1x before (scipy and
    # parquet's default encodings on the path), 7.3-9.5x once numba's BLAS check no longer
    # imported scipy.linalg; on 2026-12-04, 21.3-21.4x (0.55 s against 11.7-11.8 s, two runs)
    # once a one-server run is computed in numpy (harness.sut.fifo: no numba to load, ~0.45 s)
    # and sorted by np.sort, rich and the find-peak search are imported only where used, and
    # bytecode is cached as for an installed bench (without: 0.64-0.75 s). What is left is
    # mostly fixed: Python, numpy and pyarrow start (~0.2 s), the project's imports, the
    # schedule (~0.08 s), sorting 1.2M latencies (~0.07 s), writing queries.parquet (~0.08 s);
    # the simulation ~0.05 s. The bound guards against the imports coming back.
    assert ratio >= 12


def test_find_peak_against_loadgens_doubling_search(benchmark):
    """npu_v2's find-peak (600 s probes): short runs and the saturation bound, then full-length
    runs, against LoadGen's doubling and bisection; the same peak within LoadGen's stopping rule."""
    prepared = prepare(RunRequest("server", "npu_v2"))
    execute(prepared, prepared.settings.with_target_qps(100.0))  # numba's cache loaded once
    start = time.perf_counter()
    old = peak.doubling(prepared)
    doubling_s = time.perf_counter() - start
    found = benchmark.pedantic(peak.find_peak, args=(prepared,), rounds=1, iterations=1)
    qps = [s.run.result["settings"]["effective"]["target_qps"] for s in (old, found)]
    full = [sum(p.full_length for p in s.probes) for s in (old, found)]
    ratio = doubling_s / benchmark.stats.stats.mean
    benchmark.extra_info.update(doubling_s=doubling_s, speedup=ratio, peaks=qps, full_probes=full)
    print(f"\nfind-peak: {benchmark.stats.stats.mean:.1f} s, {full[1]} full-length probes of "
          f"{len(found.probes)}, peak {qps[1]:.3f}; doubling {doubling_s:.1f} s, {full[0]} probes, "
          f"peak {qps[0]:.3f}; {ratio:.1f}x")
    # Measured on the 2-core machine: 3.8x (6.6 s against 25.0 s); 3.1x on 2026-12-04 (5.4 s
    # against 17.1 s: the radix sort speeds both, the guessed probe on the second core only
    # find-peak); 3.0x without reference counting in the kernel (3.7 s against 11.2 s).
    assert abs(qps[1] - qps[0]) < 0.2 and full[1] <= full[0] / 2 and ratio >= 2


def test_synthetic_simulation_against_a_plain_numba_fifo_loop(benchmark, tmp_path):
    """The simulation part of the 1.2M-query synthetic server run in-process (the compiled
    kernel's call; and the whole of LoadGen's run: schedule, SUT, arrays, kernel, records)
    against the plain numba loop of the same FIFO recursion over the same arrivals. The
    completions are the same floats. Issue 15 asks for the simulation within 2x of the loop."""
    import numba
    import numpy as np

    import harness.sut.compiled as kernel
    from harness.measure.runner import records_only

    @numba.njit(cache=False)
    def fifo(arrivals, service_s, out):
        free = 0.0
        for i in range(arrivals.shape[0]):
            start = free if free > arrivals[i] else arrivals[i]
            free = start + service_s
            out[i] = free

    system = tmp_path / "syn.toml"
    system.write_text('name = "syn"\nadapter = "synthetic"\n[service]\n'
                      f'distribution = "deterministic"\nmean_s = {SERVICE_S}\n')
    prepared = prepare(RunRequest("server", str(system), target_qps=QPS))
    arrivals = generate(prepared.settings).offsets_ns / 1e9
    done = np.empty_like(arrivals)
    fifo(arrivals, SERVICE_S, done)   # compiled once, outside the timing
    loop_s = min(_timed(fifo, arrivals, SERVICE_S, done) for _ in range(5))
    records_only(prepared, prepared.settings)   # the kernel's cache checked and loaded
    calls = []
    run = kernel.run

    def timed_kernel(*args):
        calls.append(_timed(run, *args))
    kernel.run = timed_kernel
    try:
        records = benchmark.pedantic(records_only, args=(prepared, prepared.settings), rounds=5,
                                     iterations=1, warmup_rounds=1)
    finally:
        kernel.run = run
    assert np.array_equal(records.completed_s, done[:records.count])
    kernel_s, whole_s = min(calls), benchmark.stats.stats.min
    benchmark.extra_info.update(loop_s=loop_s, kernel_s=kernel_s, kernel_ratio=kernel_s / loop_s,
                                whole_ratio=whole_s / loop_s)
    print(f"\n{len(arrivals)} queries: plain numba FIFO loop {loop_s * 1e3:.1f} ms; the kernel's "
          f"call {kernel_s * 1e3:.1f} ms ({kernel_s / loop_s:.1f}x); LoadGen's whole run "
          f"{whole_s * 1e3:.1f} ms ({whole_s / loop_s:.1f}x)")
    # Measured: the loop 1.6-1.7 ms, the kernel's call 31.5 ms (19x) before its one-server path
    # kept its state in locals, 1.9 ms (1.1x) after; LoadGen's whole run 30 ms (the schedule's
    # generation and the record arrays).
    assert kernel_s <= 2 * loop_s


def _timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start
