"""Real-time masters' outcomes: worst-case waits behind NPU bursts and FIFO margins."""

import pytest

from harness.accel import load_hardware
from harness.accel.realtime import busy_counts, realtime_outcomes
from harness.accel.runlog import BatchLog

GB = 1e9


def hardware(masters, burst=4096.0, engines=2):
    return load_hardware({
        "name": "t", "adapter": "accelerator",
        "compute": {"array_rows": 8, "array_cols": 8, "dataflow": "ws", "clock_hz": 1e9,
                    "engines": engines, "precision": "int8"},
        "memory": {"sram_bytes": 1 << 20, "dram_bytes_per_s": 10 * GB, "dram_efficiency": 1.0,
                   "npu_burst_bytes": burst, "masters": masters},
        "energy": {"pj_per_mac": {"int8": 0.2}, "sram_pj_per_byte": 1.0, "dram_pj_per_byte": 20.0,
                   "static_w": 0.5}}, "t.toml")


def display(fifo, duty=1.0, period_s=1.0, rate=1 * GB):
    return {"name": "display", "bytes_per_s": rate * duty, "duty": duty, "period_s": period_s,
            "direction": "read", "fifo_bytes": fifo}


def log_of(*intervals):
    log = BatchLog()
    for engine, start, end in intervals:
        log.append(engine, start, end, 1, 0.0, 0.0, 0.0, 0.0)
    return log


def test_busy_counts_step_at_starts_and_ends():
    times, counts = busy_counts(log_of((0, 0.0, 1.0), (1, 0.5, 2.0), (0, 1.0, 1.5)))
    assert times.tolist() == [0.0, 0.5, 1.0, 1.0, 1.5, 2.0]
    assert counts.tolist() == [1, 2, 1, 2, 1, 0]


def test_a_fifo_smaller_than_what_drains_behind_two_bursts_misses_at_the_first_overlap():
    hw = hardware([display(fifo=500.0)])
    (out,) = realtime_outcomes(hw, log_of((0, 0.0, 1.0), (1, 0.5, 2.0)))
    assert out["busy_engines"] == 2 and out["at_s"] == 0.5
    assert out["worst_wait_s"] == pytest.approx(2 * 4096 / 10e9)       # 819.2 ns
    assert out["margin_bytes"] == pytest.approx(500 - 1e9 * 819.2e-9)  # 500 - 819.2
    assert out["deadline_miss"] and out["margin_s"] < 0
    assert out["delivered_bytes_per_s"] == out["requested_bytes_per_s"] == 1e9


def test_a_large_enough_fifo_has_a_positive_margin_and_no_miss():
    (out,) = realtime_outcomes(hardware([display(fifo=64 * 1024)]), log_of((0, 0.0, 1.0)))
    assert out["busy_engines"] == 1 and not out["deadline_miss"]
    assert out["margin_bytes"] == pytest.approx(65536 - 409.6)
    assert out["margin_s"] == pytest.approx((65536 - 409.6) / 1e9)


def test_the_worst_case_is_taken_only_while_the_master_is_active():
    # active for the first 0.2 s of every second; the engines overlap only at [0.5, 0.9)
    hw = hardware([display(fifo=500.0, duty=0.2, period_s=1.0)])
    (out,) = realtime_outcomes(hw, log_of((0, 0.0, 1.0), (1, 0.5, 0.9)))
    assert out["busy_engines"] == 1 and out["at_s"] == 0.0
    (late,) = realtime_outcomes(hw, log_of((0, 0.4, 1.5), (1, 0.5, 0.9)))
    assert late["busy_engines"] == 1 and late["at_s"] == 1.0  # its next active period


def test_other_realtime_masters_add_their_burst_and_without_a_log_every_engine_counts():
    camera = {"name": "camera", "bytes_per_s": 1 * GB, "period_s": 0.1, "direction": "write"}
    out = {o["name"]: o for o in realtime_outcomes(hardware([display(fifo=0.0), camera]))}
    assert out["camera"]["busy_engines"] == 2 and out["camera"]["at_s"] is None
    assert out["camera"]["worst_wait_s"] == pytest.approx(3 * 4096 / 10e9)
    assert out["camera"]["margin_bytes"] is None and not out["camera"]["deadline_miss"]
    assert out["display"]["direction"] == "read" and out["camera"]["direction"] == "write"
