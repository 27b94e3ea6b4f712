"""One server of known service times in numpy (harness.sut.fifo): the loop's floats exactly, the
event loop's records on every distribution, the compiled kernel where the ends do not settle, and
no numba loaded for it."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from harness.measure.runner import RunRequest
from harness.sut import fast, fifo
from test_compiled import assert_identical, both


def loop(arrivals, durations, ready):
    """The recursion as compiled._one_server_known_times steps it."""
    ends = np.empty(len(arrivals))
    for q, (now, duration) in enumerate(zip(arrivals, durations)):
        start = ready if ready > now else now
        ready = start + duration
        ends[q] = ready
    return ends


times = st.floats(min_value=0.0, max_value=1e-3, allow_subnormal=False)


@given(gaps=st.lists(times, min_size=1, max_size=fifo.SWEEPS), durations=st.data(),
       ready=st.floats(min_value=0.0, max_value=2e-3))
@settings(max_examples=400, deadline=None)
def test_the_ends_are_the_loops_floats_bit_for_bit(gaps, durations, ready):
    """Busy periods no longer than SWEEPS always settle; ties (equal arrivals, zero times, an
    end equal to the next arrival) included."""
    arrivals = np.cumsum(gaps)
    d = np.array(durations.draw(st.lists(times, min_size=len(gaps), max_size=len(gaps))))
    got = fifo.finish_times(arrivals.copy(), d, ready)
    assert got is not None
    assert np.array_equal(got.view(np.uint64), loop(arrivals, d, ready).view(np.uint64))


def test_a_busy_period_longer_than_the_sweeps_is_left_to_the_kernel():
    arrivals = np.arange(fifo.SWEEPS + 2) * 1e-3
    assert fifo.finish_times(arrivals, np.full(len(arrivals), 2e-3), 0.0) is None   # overloaded
    settled = fifo.finish_times(arrivals, np.full(len(arrivals), 0.9e-3), 0.0)
    assert np.array_equal(settled, loop(arrivals, np.full(len(arrivals), 0.9e-3), 0.0))


@pytest.mark.parametrize("service", [
    dict(distribution="deterministic", mean_s=0.001),
    dict(distribution="exponential", mean_s=0.002),
    dict(distribution="lognormal", mean_s=0.001, cv=0.8),
    dict(distribution="empirical", samples_file="times.csv"),
    dict(distribution="deterministic", mean_s=0.001, batching=dict(per_sample_s=0.0004)),
], ids=lambda s: s["distribution"] + ("+per_sample" if "batching" in s else ""))
def test_one_server_runs_in_numpy_with_the_event_loops_records(synthetic, write, monkeypatch,
                                                                service):
    write("times.csv", "0.001\n0.0035\n0.0002\n0.002\n")
    monkeypatch.setattr(fast, "run", lambda *a: pytest.fail("the compiled kernel ran"))
    request = RunRequest("server", str(synthetic(**service)), duration_s=2.0, min_queries=200,
                         target_qps=300.0)
    assert_identical(*both(request))


def test_an_overloaded_server_goes_to_the_kernel_with_the_same_records(synthetic, monkeypatch):
    calls, original = [], fast.run
    monkeypatch.setattr(fast, "run", lambda *a: calls.append(1) or original(*a))
    request = RunRequest("server", str(synthetic(mean_s=0.004)), duration_s=1.0, min_queries=100,
                         target_qps=400.0)   # 1.6x what the server can serve
    assert_identical(*both(request))
    assert calls == [1]


def test_a_one_server_synthetic_run_loads_no_numba(synthetic, tmp_path):
    system = synthetic(mean_s=0.00025)
    probe = ("import sys\nfrom harness.cli.main import main\ntry:\n"
             f"    main(['run', '--scenario', 'server', '--sut', {str(system)!r}, '--target-qps', "
             f"'2000', '--duration', '60', '--no-report', '--out', {str(tmp_path / 'run')!r}])\n"
             "except SystemExit:\n    pass\nprint('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "run" / "queries.parquet").is_file()
