import numpy as np
import pytest

from harness.judge.stats import latency_summary, percentile, percentile_index


def test_loadgen_percentile_example():
    # mlperf-loadgen.md §8.1 [V]: N = 100, query k sleeps k ms: p50 is the 51st value, p90 the
    # 91st, p99 and p99.9 the max.
    lat = np.arange(1, 101) * 1e-3 + 0.13e-3
    assert percentile(lat, 0.50) == pytest.approx(51.13e-3)
    assert percentile(lat, 0.90) == pytest.approx(91.13e-3)
    assert percentile(lat, 0.99) == percentile(lat, 0.999) == lat[-1]


@pytest.mark.parametrize("n, p, index", [(1, 0.99, 0), (10, 0.5, 5), (100, 0.9, 90), (1000, 0.999, 999),
                                         (1000, 0.99, 990), (64, 0.9, 57)])
def test_percentile_index_is_floor_n_p(n, p, index):
    assert percentile_index(n, p) == index


def test_summary_keys_and_empty():
    s = latency_summary(np.array([1.0, 2.0, 3.0]))
    assert list(s) == ["min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max"]
    assert (s["min"], s["mean"], s["p50"], s["max"]) == (1.0, 2.0, 2.0, 3.0)
    assert np.isnan(latency_summary(np.array([]))["p99"])
