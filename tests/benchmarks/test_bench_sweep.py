"""Speed of `bench sweep`: a 1,000-point profile-only sweep (npu_v2 x resnet50) must finish in
<= 60 s on a 2-core machine, locally and on a Dask cluster, output included (1,000 point
directories, summary.parquet/csv, sweep.html).

    pytest tests/benchmarks/test_bench_sweep.py --benchmark-only
"""

import itertools
import shutil
import textwrap

import pytest

from harness.sweep import check_inputs, load_sweep, run_sweep

SWEEP = """
    [sweep]
    name = "thousand"
    mode = "profile"
    [fixed]
    system = "npu_v2"
    workload = "resnet50"
    [grid]
    array = [{ compute.array_rows = 32, compute.array_cols = 32 },
             { compute.array_rows = 64, compute.array_cols = 64 },
             { compute.array_rows = 96, compute.array_cols = 96 },
             { compute.array_rows = 128, compute.array_cols = 128 },
             { compute.array_rows = 256, compute.array_cols = 256 }]
    memory.sram_bytes = [2097152, 4194304, 8388608, 16777216]
    memory.dram_bytes_per_s = [25.6e9, 51.2e9, 68.3e9, 102.4e9, 204.8e9]
    compute.precision = ["int8", "fp16"]
    masters.camera.frame_rate_hz = [15, 24, 30, 60, 120]
    [best]
    maximize = "samples_per_s"
    [best.constraints]
    p99_s = { max = 0.015 }
    power_w = { max = 2.0 }
"""
BUDGET_S = 60.0


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "thousand.toml"
    path.write_text(textwrap.dedent(SWEEP))
    loaded = load_sweep(path)
    assert len(loaded.points) == 1000
    return loaded


def timed_sweep(benchmark, sweep, out, **where):
    rounds = itertools.count()

    def fresh():
        shutil.rmtree(out, ignore_errors=True)
        return (), {}

    def once():
        next(rounds)
        check_inputs(sweep)
        return run_sweep(sweep, out, **where)

    done = benchmark.pedantic(once, setup=fresh, rounds=2, iterations=1)
    assert done.ran == 1000 and (done.frame["status"] == "ok").all()
    assert benchmark.stats.stats.max < BUDGET_S
    return done


def test_thousand_point_profile_sweep_local(benchmark, sweep, tmp_path):
    timed_sweep(benchmark, sweep, tmp_path / "out", workers=2)


def test_thousand_point_profile_sweep_dask(benchmark, sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        timed_sweep(benchmark, sweep, tmp_path / "out", scheduler=cluster.scheduler_address)
