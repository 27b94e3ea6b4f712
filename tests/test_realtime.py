"""The real-time environment and the scenarios on the wall clock.

Wall-clock assertions carry tolerances: the machine is shared, so an upper bound on lag or
latency is loose (tens of ms), while what the design guarantees — never early, never dropped,
latency from the scheduled time — is asserted exactly.
"""

import json
import threading
import time

import numpy as np
import pytest

from harness.cli.main import main
from harness.measure.engine import Environment
from harness.judge.verdict import judge
from harness.measure.loadgen import LoadGen
from harness.measure.realtime import WorkerPoolSUT, RealTimeEnvironment, WorkerPool, issue_lag_summary
from harness.measure.runner import make_environment
from harness.measure.schedule import generate
from harness.measure.settings import effective

SLACK_S = 0.05  # upper-bound tolerance for a busy, shared 2-core machine


def run_rt(scenario, call, workers=1, max_batch=1, timeout_s=5.0, **settings):
    s = effective(scenario, settings, 0)
    sut = WorkerPoolSUT("t", WorkerPool(call, "t", workers, max_batch, 0.0, timeout_s))
    records = LoadGen(RealTimeEnvironment(), sut, s, generate(s)).run()
    sut.finish(1.0)
    return records, s


def test_make_environment_picks_the_clock():
    assert type(make_environment("virtual")) is Environment
    assert isinstance(make_environment("real"), RealTimeEnvironment)
    assert make_environment("real").time_mode == "real"


@pytest.mark.realtime
def test_events_run_at_their_wall_clock_times_never_early():
    env, seen = RealTimeEnvironment(), []
    for t in (0.010, 0.030, 0.020, 0.050):
        env.at(t, lambda t=t: seen.append((t, env.now)))
    start = time.perf_counter()
    env.run()
    assert [t for t, _ in seen] == [0.010, 0.020, 0.030, 0.050]
    assert all(now >= t for t, now in seen)
    assert max(now - t for t, now in seen) < SLACK_S
    assert time.perf_counter() - start == pytest.approx(0.050, abs=SLACK_S)


@pytest.mark.realtime
def test_posted_work_wakes_a_waiting_loop_at_once():
    env, seen = RealTimeEnvironment(), {}
    env.at(1.0, lambda: seen.setdefault("late", env.now))
    env.at(0.0, lambda: threading.Timer(0.02, env.post, (lambda: seen.setdefault("post", env.now),)).start())
    env.outstanding = lambda: 0
    env.run()
    assert seen["post"] == pytest.approx(0.02, abs=SLACK_S)
    assert seen["late"] >= 1.0


@pytest.mark.realtime
def test_the_loop_waits_for_outstanding_work_with_an_empty_heap():
    env, done = RealTimeEnvironment(), []
    env.outstanding = lambda: 0 if done else 1
    env.at(0.0, lambda: threading.Timer(0.05, env.post, (lambda: done.append(env.now),)).start())
    env.run()
    assert done and done[0] >= 0.05 and not env.stopped


def test_issue_lag_summary():
    lag = np.array([0.0, 1e-4, 2e-4, np.nan, 3e-3])
    assert issue_lag_summary(lag) == {"mean": pytest.approx(8.25e-4), "p50": 2e-4, "p99": 3e-3, "max": 3e-3}


@pytest.mark.realtime
def test_server_issues_at_scheduled_times_and_counts_from_them():
    rec, s = run_rt("server", lambda samples: time.sleep(0.001), workers=2,
                    server_target_qps=200.0, min_duration_ms=1000.0)
    assert rec.count == generate(s).count  # the whole schedule, none dropped
    assert np.array_equal(rec.scheduled_s, generate(s).offsets_ns / 1e9)
    lag = rec.issue_lag()
    assert np.all(lag >= 0) and np.median(lag) < 0.005
    latency = rec.completed_s - rec.scheduled_s
    assert np.all(latency >= 0.001) and np.median(latency) < 0.001 + SLACK_S
    assert not rec.errors and not rec.interrupted


@pytest.mark.realtime
def test_late_queries_are_issued_at_once_and_latency_counts_from_the_schedule():
    stalled = []

    def stall_once(samples):  # inline: blocks the issuing thread, as a synchronous SUT would
        if not stalled:
            stalled.append(1)
            time.sleep(0.3)

    rec, s = run_rt("server", stall_once, workers=0, server_target_qps=100.0, min_duration_ms=1000.0)
    assert rec.count == generate(s).count
    behind = rec.scheduled_s < 0.25
    assert np.all(rec.issued_s[behind][1:] >= 0.3)          # issued late, not skipped
    assert np.all(np.diff(rec.issued_s) >= 0)                # in order
    latency = rec.completed_s - rec.scheduled_s
    assert latency[1] == pytest.approx(0.3 - rec.scheduled_s[1], abs=SLACK_S)  # no coordinated omission


@pytest.mark.realtime
def test_single_stream_closed_loop_on_the_wall_clock():
    rec, s = run_rt("single-stream", lambda samples: time.sleep(0.002), min_duration_ms=300.0,
                    min_query_count=50, single_stream_expected_latency_ns=2e6)
    assert rec.count >= 50
    assert np.all(rec.issued_s[1:] >= rec.completed_s[:-1])   # next only after the previous one
    latency = rec.completed_s - rec.scheduled_s
    assert np.all(latency >= 0.002) and np.median(latency) < 0.002 + SLACK_S
    assert rec.issued_s[-1] >= 0.3 and judge(rec, s).valid


@pytest.mark.realtime
def test_offline_batches_and_multi_stream_queries_finish_with_their_last_sample():
    sizes = []
    rec, _ = run_rt("offline", lambda samples: sizes.append(len(samples)), max_batch=16,
                    min_duration_ms=10.0, offline_expected_qps=10000.0, min_query_count=500)
    assert sum(sizes) == rec.samples[0] == 500 and max(sizes) == 16 and not rec.errors
    rec, _ = run_rt("multi-stream", lambda samples: time.sleep(0.0005 * len(samples)), max_batch=4,
                    min_duration_ms=10.0, min_query_count=20, multi_stream_expected_latency_ns=4e6)
    assert rec.count >= 20 and np.all(rec.completed_s - rec.issued_s >= 2 * 0.002)


@pytest.mark.realtime
def test_bench_run_with_a_python_callable_writes_issue_lag(capsys, write, tmp_path):
    write("mysut.py", "import time\ndef infer(samples):\n    time.sleep(0.001 * len(samples))\n")
    system = write("py.toml", 'name = "py"\nadapter = "python"\n[python]\ncallable = "mysut:infer"\nworkers = 2\n')
    out = tmp_path / "run"
    assert main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
                      "--target-qps", "200", "--duration", "1", "--out", str(out), "--no-report"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["time_mode"] == "real" and result["sut"]["adapter"] == "python"
    assert result["sut"]["config"]["python"] == {"callable": "mysut:infer", "workers": 2, "timeout_s": 10.0}
    lag = result["issue_lag_s"]
    assert 0 <= lag["p50"] <= lag["p99"] <= lag["max"] and lag["p50"] < 0.005
    assert result["latency_s"]["min"] >= 0.001 and result["failed_queries"] == 0
    assert result["sut_stats"]["batches"] == result["query_count"]


def main_code(argv) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return exc.code
    return 0


def test_a_real_time_run_starts_its_clock_at_run_and_hands_the_gil_over_often():
    """Time 0 is when the run starts, not when the environment was made; the switch interval
    is shortened during the run only."""
    import sys
    from harness.measure.realtime import SWITCH_INTERVAL_S, RealTimeEnvironment
    env = RealTimeEnvironment()
    time.sleep(0.05)
    seen = []
    env.at(0.0, lambda: seen.append((env.now, sys.getswitchinterval())))
    before = sys.getswitchinterval()
    env.run()
    assert seen[0][0] < 0.04 and seen[0][1] <= SWITCH_INTERVAL_S
    assert sys.getswitchinterval() == before
