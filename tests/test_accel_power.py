"""Energy and power by state: power gating, wake-ups, voltage scaling, peak power, dense TOPS/W,
and a profile's full-load power against a run that keeps every engine busy."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.accel import AcceleratorModel, load_hardware
from harness.accel.energy import engine_states, run_energy
from harness.accel.runlog import BatchLog
from harness.accel.windows import add_window_energy
from harness.cli.main import main
from harness.cli.profile import render_table
from tests.test_accel_energy import WORKLOAD, hardware


def gated(engines=1, **energy):
    """0.2 W always on, 0.5 W per engine gated after 0.1 ms idle, 10 uJ to wake (static_w is
    the base file's key: given as their sum)."""
    e = {"static_w": 0.2 + engines * 0.5, "always_on_w": 0.2, "engine_static_w": 0.5,
         "gate_after_s": 1e-4, "wakeup_j": 1e-5, **energy}
    return hardware({"engines": engines}, e)


def log_of(*rows):
    log = BatchLog()
    for engine, start, end, mac_j in rows:
        log.append(engine, start, end, 1, mac_j, 0.0, 0.0, 0.0)
    return log.arrays()


def test_an_idle_engine_is_gated_after_its_delay_and_pays_to_wake():
    hw = gated()
    cols = log_of((0, 0.0, 1e-3, 1e-3), (0, 3e-3, 4e-3, 1e-3), (0, 4.05e-3, 5e-3, 1e-3))
    e = run_energy(hw, cols, 0.0, 6e-3, dense_macs=1.0)
    s = e["static_by_state"]
    assert s["always_on_j"] == pytest.approx(0.2 * 6e-3)
    assert s["engines_busy_j"] == pytest.approx(0.5 * 2.95e-3)
    # powered idle: 0.1 ms of the 2 ms gap, all of the 0.05 ms gap, 0.1 ms of the tail
    assert s["engines_idle_j"] == pytest.approx(0.5 * (1e-4 + 5e-5 + 1e-4))
    assert s["wakeups"] == 1 and s["wakeup_j"] == pytest.approx(1e-5)
    assert s["gated_s"] == pytest.approx(1.9e-3 + 0.9e-3)
    assert sum(e["breakdown_j"].values()) == pytest.approx(e["total_j"], rel=1e-12)
    static = s["always_on_j"] + s["engines_busy_j"] + s["engines_idle_j"] + s["wakeup_j"]
    assert e["breakdown_j"]["static"] == pytest.approx(static, rel=1e-12)


def test_static_w_alone_is_all_always_on_and_never_gated():
    hw = hardware(energy={"static_w": 0.5})
    assert (hw.energy.always_on_w, hw.energy.engine_static_w) == (0.5, 0.0)
    e = run_energy(hw, log_of((0, 0.0, 1e-3, 0.0)), 0.0, 1.0, 1.0)
    assert e["breakdown_j"]["static"] == pytest.approx(0.5)


def test_peak_power_takes_the_busiest_millisecond():
    hw = gated(wakeup_j=0.0)
    cols = log_of((0, 0.0, 1e-3, 4e-3), (0, 5e-3, 5.5e-3, 1e-3))  # 4 W, then 2 W for 0.5 ms
    e = run_energy(hw, cols, 0.0, 10e-3, 1.0)
    assert e["peak_power_w"] == pytest.approx(4.0 + 0.5 + 0.2)
    states = engine_states(hw, cols, 0.0, 10e-3)
    assert states.busy_s == pytest.approx(1.5e-3)


def test_halving_the_clock_at_constant_voltage_keeps_dynamic_energy():
    volts = {"voltage_v": 0.8}
    fast = AcceleratorModel(hardware({**volts}, {"reference_voltage_v": 0.8}), WORKLOAD).profile()
    slow = AcceleratorModel(hardware({**volts, "clock_hz": 5e8}, {"reference_voltage_v": 0.8}),
                            WORKLOAD).profile()
    for part in ("mac", "sram", "dram"):
        assert slow.total["breakdown_j"][part] == pytest.approx(fast.total["breakdown_j"][part],
                                                                rel=1e-12)
    assert slow.total["breakdown_j"]["static"] > fast.total["breakdown_j"]["static"]


def test_a_vf_table_scales_switching_energy_with_voltage_squared():
    table = {"vf_table": [[4e8, 0.55], [1e9, 0.75]]}
    ref = AcceleratorModel(hardware({**table}, {"reference_voltage_v": 0.75}), WORKLOAD).profile()
    low = AcceleratorModel(hardware({**table, "clock_hz": 4e8}, {"reference_voltage_v": 0.75}),
                           WORKLOAD).profile()
    scale = (0.55 / 0.75) ** 2
    for part in ("mac", "sram"):
        assert low.total["breakdown_j"][part] == pytest.approx(ref.total["breakdown_j"][part] * scale)
    assert low.total["breakdown_j"]["dram"] == pytest.approx(ref.total["breakdown_j"]["dram"])


def test_tops_per_w_counts_dense_operations_so_sparsity_raises_it():
    dense = AcceleratorModel(hardware(), WORKLOAD).profile().total
    sparse = AcceleratorModel(hardware({"sparsity": "2:4"}), WORKLOAD).profile().total
    assert sparse["macs"] == dense["macs"]
    assert sparse["tops_per_w"] > dense["tops_per_w"]
    assert dense["tops_per_w"] == pytest.approx(2 * dense["macs"] / dense["energy_j"] / 1e12)


@pytest.mark.parametrize("energy,problem", [
    ({"static_w": 1.0, "always_on_w": 0.2, "engine_static_w": 0.5},
     "energy.static_w = 1.0: must equal always_on_w + engines x engine_static_w (= 0.7 W)"),
    ({"static_w": 0.5, "always_on_w": 0.9}, "energy.static_w = 0.5: must equal"),
])
def test_contradictory_static_power_is_refused_by_name(energy, problem):
    from harness.errors import ConfigError
    with pytest.raises(ConfigError) as err:
        hardware(energy=energy)
    assert any(problem in str(p) for p in err.value.problems)


def test_a_voltage_needs_its_reference_and_a_table_covers_the_clock():
    from harness.errors import ConfigError
    with pytest.raises(ConfigError) as err:
        hardware({"voltage_v": 0.7})
    assert any("energy.reference_voltage_v" in str(p) for p in err.value.problems)
    with pytest.raises(ConfigError) as err:
        hardware({"vf_table": [[4e8, 0.55], [8e8, 0.7]]}, {"reference_voltage_v": 0.7})
    assert any("compute.clock_hz = 1000000000.0: must lie within" in str(p)
               for p in err.value.problems)


def test_sweep_profile_power_equals_an_offline_run_that_keeps_every_engine_busy(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["profile", "--sut", "npu_v2", "--workload", "resnet50", "--format", "json"])
    total = json.loads(capsys.readouterr().out)["total"]
    from harness.sweep.figures import from_profile
    profile_w = from_profile(total)["power_w"]
    out = tmp_path / "run"
    with pytest.raises(SystemExit):
        main(["run", "--scenario", "offline", "--sut", "npu_v2", "--set", "batching.max_batch=1",
              "--duration", "2", "--no-report", "--out", str(out)])
    run_w = json.loads((out / "result.json").read_text())["energy"]["average_power_w"]
    assert profile_w == pytest.approx(run_w, rel=0.01)
    assert np.isfinite(profile_w)


def test_a_run_with_nothing_to_divide_by_says_unknown_not_zero():
    hw = gated()
    e = run_energy(hw, log_of(), 0.0, 0.0, dense_macs=0.0)   # no batch, no time
    assert (e["joules_per_sample"], e["average_power_w"], e["peak_power_w"], e["tops_per_w"]) \
        == (None, None, None, None)
    idle = run_energy(hw, log_of(), 0.0, 1e-3, dense_macs=0.0)   # time, but no sample
    assert idle["joules_per_sample"] is None
    assert idle["average_power_w"] == pytest.approx(0.2 + 0.5 * 1e-4 / 1e-3)


def test_a_system_without_energy_figures_has_no_tops_per_w(capsys):
    zero = {"pj_per_mac": {"int8": 0.0}, "sram_pj_per_byte": 0.0, "dram_pj_per_byte": 0.0,
            "static_w": 0.0}
    profile = AcceleratorModel(hardware(energy=zero), WORKLOAD).profile()
    assert profile.total["energy_j"] == 0.0 and profile.total["tops_per_w"] is None
    assert "TOPS/W n/a (no energy modelled)" in render_table(profile)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(-2e-3, 12e-3), st.floats(0.0, 6e-3), st.floats(0.0, 10.0)),
                max_size=40),
       st.floats(1e-6, 10e-3))
def test_each_window_gets_exactly_what_each_interval_spends_inside_it(intervals, t1):
    """The compiled window energy against the overlaps written out: intervals before, across
    and after the span, empty ones, the last window shorter than the rest."""
    edges = np.append(np.arange(0.0, t1, 1e-3), t1)
    starts = np.array([s for s, _, _ in intervals], dtype=float)
    ends = starts + np.array([d for _, d, _ in intervals], dtype=float)
    watts = np.array([w for _, _, w in intervals], dtype=float)
    out = np.zeros(len(edges) - 1)
    add_window_energy(edges, 1e-3, starts, ends, watts, out)
    expected = [sum(w * max(0.0, min(e, hi) - max(s, lo)) for s, e, w in zip(starts, ends, watts))
                for lo, hi in zip(edges[:-1], edges[1:])]
    assert out.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-15)
