"""Speed of the accelerator model: `bench profile` of resnet50, and per-batch service() calls.

    pytest tests/benchmarks/test_bench_profile.py --benchmark-only

Targets (issues 3 and 11): `bench profile` of resnet50 <= 50 ms and of yolov3 <= 200 ms, with
SRAM allocation and tiling; service() fast enough that a 600 s
MLPerf server run (~1.2 M calls) stays well inside its 5 s budget.
"""

import random

from harness.accel import AcceleratorModel, load_hardware
from harness.cli.profile import build_profile, render_json
from harness.workloads import load_workload


def test_profile_resnet50(benchmark):
    text = benchmark(lambda: render_json(build_profile("npu_v2", "resnet50", 1)))
    assert '"layers"' in text
    assert benchmark.stats.stats.mean < 0.050


def test_profile_yolov3(benchmark):
    text = benchmark(lambda: render_json(build_profile("npu_v2", "yolov3", 1)))
    assert '"layers"' in text
    assert benchmark.stats.stats.mean < 0.200


def test_service_calls(benchmark):
    model = AcceleratorModel(load_hardware("systems/npu_v2.toml"), load_workload("resnet50"))
    rng = random.Random(1)
    calls = [(rng.randint(1, model.max_batch), rng.uniform(0, 600)) for _ in range(100_000)]
    for batch in range(1, model.max_batch + 1):  # tables built once, outside the timing
        model.service(batch, 0.0)

    def serve():
        for batch, start in calls:
            model.service(batch, start)

    benchmark.pedantic(serve, rounds=3, iterations=1)
    assert benchmark.stats.stats.mean / len(calls) < 4e-6  # 1.2 M calls < 5 s
