"""Speed of the compiled run (harness.sut.fast) side by side with its references, in one run:

* the main job (npu_v2, 600 s server, resnet50) compiled against the event loop on the same
  prepared run (records identical: tests/test_compiled.py), in-process;
* the 1.2M-query synthetic server run (2,000 QPS, deterministic 0.25 ms) as a whole `bench run`
  in a fresh process (imports, simulation, judging, writing; no report page) against SimPy on
  the same arrival times (tests/benchmarks/simpy_reference.py).

    pytest tests/benchmarks/test_bench_compiled.py --benchmark-only -s
"""

import subprocess
import sys
import time

from harness.runner import RunRequest, execute, prepare
from harness.schedule import generate
from harness.settings import effective

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
    assert ratio >= 1.5


def test_synthetic_server_run_whole_cli_against_simpy(benchmark, tmp_path):
    system = tmp_path / "syn.toml"
    system.write_text('name = "syn"\nadapter = "synthetic"\n[service]\n'
                      f'distribution = "deterministic"\nmean_s = {SERVICE_S}\n')
    command = [sys.executable, "-m", "harness.cli.main", "run", "--scenario", "server", "--sut",
               str(system), "--target-qps", str(QPS), "--no-report", "--force", "--out",
               str(tmp_path / "run")]
    benchmark.pedantic(subprocess.run, args=(command,), kwargs=dict(check=True, capture_output=True),
                       rounds=3, iterations=1)
    settings = effective("server", {"server_target_qps": QPS, "min_duration_ms": 600_000.0}, 0)
    arrivals = generate(settings).offsets_ns / 1e9  # the scenario file's MLPerf defaults
    start = time.perf_counter()
    simulate(arrivals, SERVICE_S, 1)
    simpy_s = time.perf_counter() - start
    ratio = simpy_s / benchmark.stats.stats.mean
    benchmark.extra_info.update(queries=len(arrivals), simpy_s=simpy_s, speedup=ratio)
    print(f"\n{len(arrivals)} queries: bench run {benchmark.stats.stats.mean:.2f} s (whole CLI), "
          f"SimPy {simpy_s:.2f} s, {ratio:.1f}x")
    assert ratio >= 20
