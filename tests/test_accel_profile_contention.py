"""`profile` under the bus masters: exact averages over start phases, best and worst phase."""

import numpy as np
import pytest

from harness.accel import AcceleratorModel
from harness.accel.timeline import phase_stats, simulate
from harness.workloads.model import Workload
from tests.test_accel_contention import (COMPUTE_BOUND, GB, MEMORY_BOUND, hardware, master,
                                         model)


def profile(layers, bus, **kwargs):
    m = AcceleratorModel(hardware(bus), Workload("w", "w", layers=tuple(layers)))
    return m.profile(1, **kwargs)


def test_a_master_holding_half_the_dram_doubles_a_memory_bound_layer_in_the_profile():
    half = [master("camera", 5 * GB)]
    p = profile([MEMORY_BOUND], half)
    assert p.total["time_s"] == pytest.approx(2 * p.total["contention"]["time_s_uncontended"],
                                              rel=0.02)
    assert p.layers[0].time_s == pytest.approx(2 * p.layers[0].time_s_uncontended, rel=1e-12)
    assert profile([MEMORY_BOUND], half, masters=False).total["time_s"] == pytest.approx(
        p.layers[0].time_s_uncontended, rel=1e-15)


def test_a_duty_cycled_master_slows_a_long_transfer_by_its_time_averaged_share():
    # 4 GB/s while active, half of each 0.1 ms: 8 GB/s left on average of 10; the layer's
    # 0.4 ms transfer spans four periods, so it takes its bytes over the mean leftover
    camera = master("camera", 2 * GB, duty=0.5, period_s=1e-4)
    p = profile([MEMORY_BOUND], [camera])
    quiet = p.layers[0].time_s_uncontended
    assert p.layers[0].time_s == pytest.approx(quiet * 10 / 8, rel=0.02)
    assert p.layers[0].time_s_best < p.layers[0].time_s < p.layers[0].time_s_worst


def test_a_compute_bound_layer_is_unchanged_by_masters():
    p = profile([COMPUTE_BOUND], [master("camera", 2 * GB, duty=0.5, period_s=0.01)])
    row = p.layers[0]
    assert row.time_s == pytest.approx(row.time_s_uncontended, rel=1e-12)
    assert row.time_s_best == pytest.approx(row.time_s_worst, rel=1e-12)


def test_average_best_and_worst_are_exact_against_simulation_at_every_start():
    camera = master("camera", 2 * GB, duty=0.5, period_s=0.001)
    display = master("display", 1 * GB, duty=0.8, period_s=0.0004)
    m = AcceleratorModel(hardware([camera, display]),
                         Workload("w", "w", layers=(MEMORY_BOUND, COMPUTE_BOUND, MEMORY_BOUND)))
    phases, lo = m.plan(1).warm, m.leftover
    per, total = phase_stats(phases, lo, True)
    starts = np.linspace(0.0, lo.period_s, 40_001)[:-1]
    ends = np.array([simulate(phases, lo, u, True) for u in starts])
    durations = ends - starts
    assert total.mean_s == pytest.approx(durations.mean(), rel=1e-5)
    assert total.best_s == pytest.approx(durations.min(), rel=1e-6)
    assert total.worst_s == pytest.approx(durations.max(), rel=1e-6)
    worst = simulate(phases, lo, total.worst_start_s, True) - total.worst_start_s
    assert worst == pytest.approx(total.worst_s, rel=1e-12)
    first = np.array([simulate(phases[:1], lo, u, True) for u in starts]) - starts
    assert per[0].mean_s == pytest.approx(first.mean(), rel=1e-5)
    assert sum(s.mean_s for s in per) == pytest.approx(total.mean_s, rel=1e-12)


def test_a_start_instant_profiles_from_it_and_no_masters_ignores_them():
    camera = master("camera", 2 * GB, duty=0.5, period_s=0.01)  # 4 of 10 GB/s while active
    m = model(MEMORY_BOUND, [camera])
    at = m.profile(1, start_s=0.0)
    assert at.total["time_s"] == pytest.approx(m.service(1, 0.0).duration_s, rel=1e-12)
    assert at.total["contention"]["mode"] == "start"
    quiet = m.profile(1, masters=False)
    assert quiet.total["contention"]["mode"] == "none"
    assert at.layers[0].time_s == pytest.approx(quiet.layers[0].time_s * 10 / 6, rel=1e-9)
