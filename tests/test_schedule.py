"""The schedule against LoadGen 6.0.17's own output (mlperf-loadgen.md §4 and §7.2, [V])."""

import numpy as np
import pytest

from harness.measure.schedule import generate, periodic_count, poisson_offsets_ns
from harness.measure.settings import effective

V61_SCHEDULE_SEED = 16159082839903944936


@pytest.mark.parametrize("seed, qps, seconds, count, duration_ns", [
    (0, 1000.0, 1, 985, 1_001_579_312),
    (V61_SCHEDULE_SEED, 500.0, 1, 484, 1_000_833_761),
])
def test_server_schedule_is_bit_exact_with_loadgen(seed, qps, seconds, count, duration_ns):
    offsets, duration = poisson_offsets_ns(seed, qps, seconds * 1e9, 1)
    assert (len(offsets), duration) == (count, duration_ns)
    assert offsets[0] == 0 and np.all(np.diff(offsets) >= 0)


def test_server_schedule_250qps_3s():
    offsets, duration = poisson_offsets_ns(0, 250.0, 3e9, 1)
    assert len(offsets) == 748
    assert round(duration / 1e9, 4) == 3.0177


def test_server_schedule_respects_min_query_count():
    offsets, _ = poisson_offsets_ns(0, 1000.0, 1e9, 5000)
    assert len(offsets) == 5000


@pytest.mark.parametrize("qps, window_s, min_queries, count", [
    (500.0, 6.0, 1, 3001),     # SingleStream, expected latency 2 ms, 3 s [V]
    (50.0, 6.0, 1, 301),       # MultiStream, expected latency 20 ms, 3 s [V]
    (500.0, 6.0, 5000, 5000),  # the minimum query count wins
])
def test_closed_loop_pregeneration(qps, window_s, min_queries, count):
    assert periodic_count(qps, window_s * 1e9, min_queries)[0] == count


def test_offline_is_one_query_of_the_loaded_set_repeated():
    s = effective("offline", {"min_duration_ms": 3000.0, "offline_expected_qps": 400.0,
                              "min_query_count": 1, "performance_sample_count_override": 16}, 0)
    sched = generate(s)
    assert (sched.count, sched.samples_per_query) == (1, 1320)
    samples = sched.samples(0)
    assert np.array_equal(samples[:16], sched.loaded) and np.array_equal(samples[16:32], sched.loaded)


def test_multistream_queries_hold_contiguous_loaded_samples():
    s = effective("multi-stream", {"min_duration_ms": 1000.0, "performance_sample_count_override": 10}, 3)
    sched = generate(s)
    for q in range(20):
        start = sched.first[q]
        expected = [sched.loaded[(start + j) % 10] for j in range(8)]
        assert list(sched.samples(q)) == expected


def test_same_seed_same_schedule_other_seed_other_schedule():
    a = generate(effective("server", {"server_target_qps": 100.0}, 1))
    b = generate(effective("server", {"server_target_qps": 100.0}, 1))
    c = generate(effective("server", {"server_target_qps": 100.0}, 2))
    assert np.array_equal(a.offsets_ns, b.offsets_ns) and np.array_equal(a.first, b.first)
    assert not np.array_equal(a.offsets_ns[:50], c.offsets_ns[:50])
