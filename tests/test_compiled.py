"""The compiled run (harness.sut.fast) against the event loop, the reference: for the same seed
every record and every figure of result.json is bit-identical, on every scenario, for every
shipped simulated system and for synthetic systems of every service distribution, several
servers and batching with a timeout."""

import json

import numpy as np
import pytest

from harness import catalog
from harness.measure.runner import RunRequest, execute, prepare
from harness.sut import fast

SCENARIOS = ("single-stream", "multi-stream", "server", "offline")


def both(request: RunRequest):
    prepared = prepare(request)
    return execute(prepared, compiled=False), execute(prepared, compiled=True)


def assert_identical(reference, compiled):
    a, b = reference.records, compiled.records
    for name in ("scheduled_s", "issued_s", "completed_s", "samples"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert (a.sample_completions, a.runtime_errors, a.errors) == \
        (b.sample_completions, b.runtime_errors, b.errors)
    assert figures(reference.result) == figures(compiled.result)


def figures(result: dict) -> str:
    """result.json but for the instant it was written."""
    return json.dumps({k: v for k, v in result.items() if k != "created_utc"}, sort_keys=True)


def presets():
    """Every shipped system that runs in virtual time (simulated)."""
    return [name for name in catalog.names("systems")
            if prepare(RunRequest("server", name)).adapter.time_mode == "virtual"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("system", presets())
def test_every_preset_is_identical_on_every_scenario(system, scenario):
    assert_identical(*both(RunRequest(scenario, system, duration_s=0.3, min_queries=20)))


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("sets", [("batching.max_batch=1",), ("compute.engines=1",),
                                  ("compute.engines=3", "batching.timeout_s=0.0002")])
def test_accelerator_variants_are_identical(sets, scenario):
    request = RunRequest(scenario, "npu_v2", duration_s=0.2, min_queries=20, sets=sets)
    assert_identical(*both(request))


SYNTHETIC = [
    dict(distribution="deterministic", mean_s=0.001),
    dict(distribution="exponential", mean_s=0.002, servers=3),
    dict(distribution="lognormal", mean_s=0.001, cv=0.8, servers=2,
         batching=dict(max_batch=4, timeout_s=0.002, per_sample_s=0.0003)),
    dict(distribution="empirical", samples_file="times.csv", servers=2,
         batching=dict(max_batch=3, timeout_s=0.0005)),
    dict(distribution="deterministic", mean_s=0.004, batching=dict(max_batch=8, timeout_s=0.001)),
]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("service", SYNTHETIC, ids=lambda s: s["distribution"])
def test_synthetic_systems_are_identical(synthetic, write, service, scenario):
    write("times.csv", "0.001\n0.0035\n0.0002\n0.002\n")
    path = synthetic(**service)
    request = RunRequest(scenario, str(path), duration_s=0.5, min_queries=30, target_qps=400.0)
    assert_identical(*both(request))


def test_a_run_longer_than_its_dram_bins_starts_again_and_stays_identical(monkeypatch):
    monkeypatch.setattr(fast, "_horizon_s", lambda loadgen: 0.0)  # bins for 0.03 s first
    attempts, attempt = [], fast._attempt
    monkeypatch.setattr(fast, "_attempt", lambda *a: attempts.append(a) or attempt(*a))
    assert_identical(*both(RunRequest("server", "npu_v2", duration_s=0.2, min_queries=20)))
    assert len(attempts) == 2  # bins for 0.03 s, then for 1 s: enough for the 0.2 s run


def test_the_run_is_compiled():
    """Not the event loop under another name: the compiled run leaves no event behind."""
    prepared = prepare(RunRequest("server", "npu_v2", duration_s=0.1, min_queries=20))
    calls = []
    original = fast.run
    try:
        fast.run = lambda *a: calls.append(a) or original(*a)
        execute(prepared)
    finally:
        fast.run = original
    assert len(calls) == 1


def test_a_kernel_cached_before_fluid_changed_is_dropped(tmp_path, monkeypatch):
    """numba checks only compiled.py's stamp; the kernel also holds fluid.py's code."""
    import os
    from harness.sut import compiled
    old, new = tmp_path / "compiled.run-1.py311.nbi", tmp_path / "compiled.run-1.py311.1.nbc"
    for path, at in ((old, 1000), (new, 3000)):
        path.write_bytes(b"")
        os.utime(path, (at, at))
    source = tmp_path / "fluid.py"
    source.write_text("")
    os.utime(source, (2000, 2000))
    monkeypatch.setattr(compiled.run._cache, "_cache_path", str(tmp_path))
    monkeypatch.setattr(compiled.fluid, "__file__", str(source))
    compiled.drop_stale_cache()
    assert not old.exists() and new.exists()


def test_no_kernel_function_counts_references():
    """Every compiled function of the kernel runs without numba's reference counting: with it,
    the atomic increments around each array handed to a call took ~45% of the kernel's time
    (0.82 -> 0.46 s on the main job), the records the same."""
    from numba.core.registry import CPUDispatcher
    from harness.accel import fluid
    from harness.sut import compiled
    kernels = [f for module in (compiled, fluid) for f in vars(module).values()
               if isinstance(f, CPUDispatcher) and f.__module__ == module.__name__]
    assert len(kernels) > 30
    assert [f.__name__ for f in kernels if f.targetoptions.get("_nrt") is not False] == []
