"""Outside truth for the load generator: the server scenario on the synthetic SUT reproduces
queueing theory. Poisson arrivals at rate λ (bench's LoadGen-exact schedule) into one FIFO
queue with c servers give the sojourn time whose p90 and p99 must be within 2% of
- M/D/1: Erlang's waiting-time distribution (1909),
- M/M/1: the exponential sojourn time, rate μ − λ,
- M/M/c: Erlang C waiting plus the exponential service (Gross & Harris),
computed in tests/queueing.py (itself checked against closed-form means and independent
recursions in tests/test_queueing_theory_reference.py).

Sample sizes give the simulated p99 a margin of about four standard deviations inside the 2%
tolerance, measured over 20-40 seeds: at ρ = 0.8 the p99 of 1 M queries spreads by 1.2% (M/D/1)
and of 4 M by 0.9% (M/M/1), so those cases run 6 M, 12 M and 6 M queries. `test_sample_path`
checks the same queue without statistical noise: identical draws, identical completions.
"""

import heapq

import numpy as np
import pytest

from harness.measure.engine import Environment
from harness.measure.loadgen import LoadGen
from harness.measure.runner import RunRequest, execute, prepare
from harness.measure.schedule import generate
from harness.measure.settings import effective
from harness.sut.synthetic import _BLOCK, SyntheticConfig, SyntheticSUT
from queueing import sojourn_quantile

MEAN_S = 1e-3

CASES = [  # distribution, servers, utilisation, queries
    ("deterministic", 1, 0.5, 1_000_000),
    ("deterministic", 1, 0.8, 6_000_000),
    ("exponential", 1, 0.5, 1_000_000),
    ("exponential", 1, 0.8, 12_000_000),
    ("exponential", 4, 0.5, 1_000_000),
    ("exponential", 4, 0.8, 6_000_000),
]


@pytest.mark.slow
@pytest.mark.parametrize("distribution, servers, rho, queries", CASES,
                         ids=[f"{'M/D' if d[0] == 'd' else 'M/M'}/{c}-rho{r}" for d, c, r, _ in CASES])
def test_server_latency_matches_queueing_theory(synthetic, distribution, servers, rho, queries):
    lam = rho * servers / MEAN_S
    system = synthetic(distribution=distribution, mean_s=MEAN_S, servers=servers)
    sets = (f"server_target_latency_ns={10**9}", f"min_duration_ms={queries / lam * 1e3}")
    run = execute(prepare(RunRequest("server", str(system), "tiny", target_qps=lam, sets=sets)))
    latency = run.result["latency_s"]
    for key, p in (("p90", 0.90), ("p99", 0.99)):
        expected = sojourn_quantile(distribution, p, lam, MEAN_S, servers)
        assert latency[key] == pytest.approx(expected, rel=0.02), key


@pytest.mark.parametrize("servers", [1, 3])
def test_sample_path_equals_the_fifo_recursion(servers):
    """Same arrivals, same service draws: bench's completions are the Kiefer-Wolfowitz
    recursion's (start = max(arrival, earliest free server)), to the last bit."""
    settings = effective("server", {"server_target_qps": 0.7 * servers / MEAN_S, "min_duration_ms": 60_000.0}, 5)
    sut = SyntheticSUT("q", SyntheticConfig("exponential", MEAN_S, 0.5, "", (), servers, 1, 0.0, 0.0), 11)
    records = LoadGen(Environment(), sut, settings, generate(settings)).run()
    rng = np.random.default_rng(11)
    draws = np.concatenate([rng.exponential(MEAN_S, _BLOCK) for _ in range(records.count // _BLOCK + 1)])
    free, expected = [0.0] * servers, []
    for arrival, service in zip(records.scheduled_s.tolist(), draws.tolist()):
        start = max(arrival, free[0])
        heapq.heapreplace(free, start + service)
        expected.append(start + service)
    assert records.completed_s.tolist() == expected


def test_a_pool_that_served_for_no_time_has_no_utilization_not_zero():
    sut = SyntheticSUT("q", SyntheticConfig("exponential", MEAN_S, 0.5, "", (), 2, 1, 0.0, 0.0), 11)
    assert sut.finish(0.0)["sut_stats"] == {"batches": 0, "utilization": None}
    assert sut.finish(1.0)["sut_stats"] == {"batches": 0, "utilization": 0.0}   # idle for 1 s: 0
