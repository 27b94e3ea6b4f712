"""The serving pool: FIFO, parallel engines, dynamic batching — exact in virtual time."""

import numpy as np
import pytest

from harness.measure.engine import Environment
from harness.sut.pool import ServicePool


class Sink:
    def __init__(self, env):
        self.env, self.done = env, []

    def complete(self, query, samples=1, at=None):
        self.done.append((query, samples, self.env.now if at is None else at))


def run(arrivals, service, servers=1, max_batch=1, timeout_s=0.0, eager=None, samples=1):
    env = Environment()
    sink = Sink(env)
    pool = ServicePool(servers, max_batch, timeout_s, service, eager=eager)
    pool.start(env, sink)
    for q, t in enumerate(arrivals):
        env.at(t, pool.issue, q, samples)
    env.run()
    return sorted(sink.done), pool


def exp_service(seed):
    rng = np.random.default_rng(seed)
    draws = rng.exponential(1.0, 10000).tolist()
    return lambda batch, start, engine: draws.pop()


@pytest.mark.parametrize("servers", [1, 2, 3])
def test_eager_and_event_paths_agree(servers):
    arrivals = np.cumsum(np.random.default_rng(5).exponential(0.4, 2000)).tolist()
    eager, _ = run(arrivals, exp_service(1), servers, eager=True)
    events, _ = run(arrivals, exp_service(1), servers, eager=False)
    assert eager == events  # the same floating-point operations: bit for bit


def test_fifo_single_server_lindley():
    done, _ = run([0.0, 0.25, 0.5, 3.0], lambda b, s, e: 1.0)
    assert [t for _, _, t in done] == [1.0, 2.0, 3.0, 4.0]


def test_two_servers_share_the_queue():
    done, _ = run([0.0, 0.0, 0.0], lambda b, s, e: 1.0, servers=2)
    assert [t for _, _, t in done] == [1.0, 1.0, 2.0]


def test_full_batch_dispatches_at_once():
    done, pool = run([0.0, 0.0, 0.0, 0.0], lambda b, s, e: 1.0 + 0.5 * (b - 1), max_batch=4, timeout_s=10.0)
    assert [t for _, _, t in done] == [2.5] * 4
    assert pool.batches == 1


def test_partial_batch_waits_for_its_timeout():
    # q0 at 0, q1 at 0.5: the batch of 2 goes at the timeout, 1.0, and takes 1 s.
    done, pool = run([0.0, 0.5], lambda b, s, e: 1.0, max_batch=4, timeout_s=1.0)
    assert [t for _, _, t in done] == [2.0, 2.0]
    assert pool.batches == 1


def test_busy_engine_batches_what_queued_meanwhile():
    # Zero timeout: q0 goes alone; q1..q3 arrive while it runs and go together at 1.0.
    done, pool = run([0.0, 0.1, 0.2, 0.3], lambda b, s, e: 1.0, max_batch=8)
    assert [t for _, _, t in done] == [1.0, 2.0, 2.0, 2.0]
    assert pool.batches == 2


def test_multi_sample_query_split_across_batches():
    done, _ = run([0.0], lambda b, s, e: float(b), max_batch=3, samples=8)
    assert done == [(0, 2, 8.0), (0, 3, 3.0), (0, 3, 6.0)]


def test_service_time_sees_start_time_and_engine():
    seen = []
    run([0.0, 0.0, 5.0], lambda b, s, e: seen.append((s, e)) or 1.0, servers=2, eager=False)
    assert seen == [(0.0, 0), (0.0, 1), (5.0, 1)]


def test_timeout_deadline_is_reached_despite_rounding():
    # 0.1 + 0.2 - 0.1 != 0.2 in floating point: the dispatch test must use the timer's own
    # deadline (arrival + timeout), or the timer re-arms at the same instant forever.
    done, pool = run([0.1, 0.1 + 1e-9], lambda b, s, e: 1.0, max_batch=4, timeout_s=0.2)
    assert [t for _, _, t in done] == [0.1 + 0.2 + 1.0] * 2
    assert pool.batches == 1


class ClosedLoopSink(Sink):
    """A load generator that issues nothing more until a completion (single/multi-stream)."""

    def waits_for_completion(self):
        return True


def run_closed(arrivals, service, servers, max_batch, samples):
    env = Environment()
    sink = ClosedLoopSink(env)
    pool = ServicePool(servers, max_batch, 10.0, service)
    pool.start(env, sink)
    for q, t in enumerate(arrivals):
        env.at(t, pool.issue, q, samples)
    env.run()
    return sorted(sink.done), pool


def test_closed_loop_batch_goes_at_once_instead_of_waiting_for_its_timeout():
    done, pool = run_closed([0.0], lambda b, s, e: 1.0, servers=1, max_batch=8, samples=1)
    assert done == [(0, 1, 1.0)] and pool.batches == 1  # not 10 s of timeout + 1 s


def test_closed_loop_query_spreads_evenly_over_idle_engines():
    seen = []
    service = lambda b, s, e: seen.append((b, e)) or 0.5 * b  # noqa: E731
    done, _ = run_closed([0.0], service, servers=3, max_batch=8, samples=8)
    assert sorted(seen) == [(2, 2), (3, 0), (3, 1)]  # 3 + 3 + 2, not 8 on one engine
    assert max(t for _, _, t in done) == 1.5


def test_closed_loop_query_larger_than_the_engines_fills_them_first():
    seen = []
    service = lambda b, s, e: seen.append(b) or 1.0  # noqa: E731
    run_closed([0.0], service, servers=2, max_batch=4, samples=10)
    # full batches while they fill every idle engine; the last 2 go to the first engine free
    assert seen == [4, 4, 2]
