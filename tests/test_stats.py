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


# ------------------------------------------------------------------ ascending (radix sort)

from hypothesis import given, settings, strategies as st  # noqa: E402

from harness.judge import ascending as asc  # noqa: E402
from harness.judge._radix import radix_sort  # noqa: E402


def _same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    return got.dtype == np.float64 and np.array_equal(got.view(np.uint64), want.view(np.uint64))


@given(st.lists(st.floats(allow_nan=False, allow_subnormal=True), max_size=300))
@settings(max_examples=300, deadline=None)
def test_radix_sort_orders_any_floats_as_np_sort(values):
    x = np.array(values, dtype=np.float64)
    got, want = radix_sort(x), np.sort(x)
    assert np.array_equal(got, want)
    if not np.signbit(x[x == 0]).any():   # -0.0 == 0.0: np.sort leaves them in either order
        assert _same_bits(got, want)


@pytest.mark.parametrize("make", [
    lambda rng: rng.gamma(2.0, 0.003, 300_000),          # latencies of a busy server
    lambda rng: rng.normal(0.0, 1.0, 200_000),           # negative and positive
    lambda rng: np.full(100_000, 0.0025),                # every digit shared: no pass runs
    lambda rng: np.round(rng.uniform(0, 0.01, 150_000), 4),  # many ties
    lambda rng: np.r_[rng.uniform(0, 1e-305, 70_000), [np.inf, -np.inf, 5e-324, 1.7e308]],
])
def test_a_large_run_is_sorted_by_radix_exactly_as_by_np_sort(make):
    x = make(np.random.default_rng(7))
    assert len(x) >= asc.RADIX_FROM
    before = x.copy()
    assert _same_bits(asc.ascending(x), np.sort(x))
    assert _same_bits(x, before)   # the input is left as it was


def test_a_small_run_is_sorted_by_np_sort():
    x = np.random.default_rng(3).gamma(2.0, 0.003, asc.RADIX_FROM - 1)
    assert _same_bits(asc.ascending(x), np.sort(x))


def test_a_large_run_is_sorted_without_loading_numba_where_nothing_else_did():
    """numba's import (~0.45 s) costs more than np.sort of a run's latencies."""
    import subprocess
    import sys
    probe = ("import sys\nimport numpy as np\nfrom harness.judge.ascending import ascending, RADIX_FROM\n"
             "x = np.random.default_rng(1).gamma(2.0, 0.003, 2 * RADIX_FROM)\n"
             "print(np.array_equal(ascending(x), np.sort(x)), 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
