"""Scenario rules in virtual time, asserted exactly (service times are exact binary fractions)."""

import numpy as np
import pytest

from harness.measure.engine import Environment
from harness.judge.verdict import judge
from harness.measure.loadgen import LoadGen
from harness.measure.schedule import generate
from harness.measure.settings import effective
from harness.sut.synthetic import SyntheticConfig, SyntheticSUT

D = 2.0 ** -10  # 0.9765625 ms, exact in binary


def sut(mean_s=D, servers=1, max_batch=1, distribution="deterministic", timeout_s=0.0):
    cfg = SyntheticConfig(distribution, mean_s, 0.5, "", (), servers, max_batch, timeout_s, 0.0)
    return SyntheticSUT("syn", cfg, seed=1)


def run(scenario, system, seed=0, **settings):
    s = effective(scenario, settings, seed)
    return LoadGen(Environment(), system, s, generate(s)).run(), s


def test_single_stream_closed_loop_ends_at_first_issue_after_the_minimums():
    rec, s = run("single-stream", sut(), min_duration_ms=1000.0, min_query_count=100,
                 single_stream_expected_latency_ns=1e6)
    # Issue k happens at k * D; the first at or after 1 s is k = 1024.
    assert rec.count == 1025
    assert np.array_equal(rec.issued_s, np.arange(1025) * D)
    assert np.array_equal(rec.scheduled_s, rec.issued_s)
    assert np.all(rec.completed_s - rec.issued_s == D)
    assert judge(rec, s).valid


def test_single_stream_min_query_count_extends_the_run():
    rec, _ = run("single-stream", sut(), min_duration_ms=10.0, min_query_count=500,
                 single_stream_expected_latency_ns=1e6)
    assert rec.count == 500


def test_single_stream_runs_out_of_generated_queries():
    # Expected latency 10 ms pre-generates 2 * 1 s / 10 ms = 200 (+1) queries; at ~1 ms each
    # they are used up long before 1 s, as LoadGen's "Ran out of generated queries".
    rec, s = run("single-stream", sut(), min_duration_ms=1000.0, min_query_count=1,
                 single_stream_expected_latency_ns=1e7)
    assert rec.count == 201
    assert rec.runtime_errors == ["Ending early: Ran out of generated queries to issue after 201 queries."]
    outcome = judge(rec, s)
    assert not outcome.valid
    assert [c.name for c in outcome.checks if not c.met] == ["min_duration"]
    assert "single_stream_expected_latency_ns=" in outcome.invalid_reasons[0]


def test_multi_stream_query_latency_is_its_last_sample():
    rec, s = run("multi-stream", sut(), min_duration_ms=100.0, min_query_count=662,
                 multi_stream_expected_latency_ns=8e6)
    assert rec.count == 662
    assert np.all(rec.completed_s - rec.issued_s == 8 * D)
    assert np.array_equal(rec.samples, np.full(662, 8))
    out = judge(rec, s)
    assert out.valid and out.metric["value"] == 8 * D and out.early_stopping["discarded"] == 0


def test_multi_stream_parallel_engines():
    rec, _ = run("multi-stream", sut(servers=4), min_duration_ms=10.0, min_query_count=662,
                 multi_stream_expected_latency_ns=8e6)
    assert np.all(rec.completed_s - rec.issued_s == 2 * D)


def test_server_issues_at_scheduled_times_and_counts_from_them():
    rec, s = run("server", sut(mean_s=D / 8), server_target_qps=100.0, min_duration_ms=10000.0)
    sched = generate(s)
    assert np.array_equal(rec.scheduled_s, sched.offsets_ns / 1e9)
    assert np.array_equal(rec.issued_s, rec.scheduled_s)
    lat = rec.completed_s - rec.scheduled_s
    assert lat.min() == pytest.approx(D / 8)
    out = judge(rec, s)
    assert out.metric["value"] == pytest.approx((rec.count - 1) / rec.completed_s[-1])


def test_server_overload_is_invalid_and_nothing_is_dropped():
    rec, s = run("server", sut(mean_s=0.002), server_target_qps=1000.0, min_duration_ms=2000.0,
                 server_target_latency_ns=15e6)
    assert not np.isnan(rec.completed_s).any()
    out = judge(rec, s)
    assert not out.valid
    failed = {c.name for c in out.checks if not c.met}
    assert failed == {"performance", "early_stopping"}
    assert any("Reduce target QPS" in r for r in out.invalid_reasons)


def test_offline_throughput_is_samples_over_last_completion():
    rec, s = run("offline", sut(servers=2), min_duration_ms=1000.0, offline_expected_qps=1000.0,
                 min_query_count=1)
    assert (rec.count, rec.samples[0]) == (1, 1100)
    out = judge(rec, s)
    assert rec.completed_s[0] == 550 * D
    assert out.metric["value"] == 1100 / (550 * D)
    assert out.latency_s["min"] == D and out.latency_s["max"] == 550 * D


def test_offline_with_batching():
    rec, s = run("offline", sut(max_batch=32), min_duration_ms=100.0, offline_expected_qps=1000.0,
                 min_query_count=1024)
    # 1024 samples in 32 batches of 32, each batch taking D.
    assert rec.completed_s[0] == 32 * D


def test_same_seed_same_records_other_seed_differs():
    a, _ = run("server", sut(distribution="exponential"), seed=3, server_target_qps=50.0, min_duration_ms=5000.0)
    b, _ = run("server", sut(distribution="exponential"), seed=3, server_target_qps=50.0, min_duration_ms=5000.0)
    c, _ = run("server", sut(distribution="exponential"), seed=4, server_target_qps=50.0, min_duration_ms=5000.0)
    assert np.array_equal(a.completed_s, b.completed_s)
    assert a.count != c.count or not np.array_equal(a.completed_s, c.completed_s)


class Failing:
    """Fails every 10th query, completes the others at once."""

    def start(self, env, done):
        self.env, self.done = env, done

    def issue(self, query, samples):
        if query % 10 == 9:
            self.done.fail(query, "boom")
        else:
            self.done.complete(query, len(samples))

    def flush(self):
        pass


def test_failed_queries_are_counted_and_make_the_run_invalid():
    rec, s = run("server", Failing(), server_target_qps=100.0, min_duration_ms=10000.0)
    assert len(rec.errors) == rec.count // 10
    assert np.isnan(rec.completed_s[9]) and not np.isnan(rec.completed_s[8])
    out = judge(rec, s)
    assert not out.valid and out.failed_queries == len(rec.errors)
    assert any("queries failed (first: boom)" in r for r in out.invalid_reasons)


class OneByOne:
    """The same SUT without the optional whole-schedule fast path."""

    def __init__(self, sut):
        self.sut = sut

    def start(self, env, done):
        self.sut.start(env, done)
        self.issue = self.sut.issue

    def flush(self):
        self.sut.flush()


def _records_equal(a, b):
    for name in ("scheduled_s", "issued_s", "completed_s", "samples"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("servers", [1, 3])
def test_whole_schedule_fast_path_gives_identical_records(servers):
    make = lambda: sut(mean_s=D, servers=servers, distribution="exponential")  # noqa: E731
    s = effective("server", {"server_target_qps": 900.0 * servers, "min_duration_ms": 20000.0,
                             "max_duration_ms": 15000.0}, 2)
    fast = LoadGen(Environment(), make(), s, generate(s)).run()
    slow = LoadGen(Environment(), OneByOne(make()), s, generate(s)).run()
    _records_equal(fast, slow)
    assert fast.scheduled_s[-1] >= 15.0 > fast.scheduled_s[-2]  # max_duration honoured alike


def test_whole_schedule_fast_path_on_the_accelerator():
    from harness.measure.runner import RunRequest, prepare
    from harness.sut.accelerator import AcceleratorSUT

    p = prepare(RunRequest("server", "npu_v2", target_qps=500.0, duration_s=10.0, sets=("batching.max_batch=1",)))
    fast = LoadGen(Environment(), AcceleratorSUT(p.system.config, p.workload), p.settings, generate(p.settings)).run()
    slow = LoadGen(Environment(), OneByOne(AcceleratorSUT(p.system.config, p.workload)), p.settings,
                   generate(p.settings)).run()
    _records_equal(fast, slow)
