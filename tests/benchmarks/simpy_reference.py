"""SimPy reference model of the synthetic-SUT server scenario (baseline for benchmarks).

A plain SimPy model of the queue the load generator's server scenario drives:
queries arrive at given times (Poisson in the MLPerf server scenario), wait in
one FIFO queue, and are served by ``servers`` identical servers, each holding
a query for its service time. It is written the way a SimPy user ordinarily
would -- a source process, a ``simpy.Resource(capacity=servers)``, one
process per query that requests, holds, releases and records its completion --
deliberately *not* tuned, because it is the baseline that bench's engine is
compared against (bench must be >= 5x faster on an MLPerf-default server run:
600 s at 2,000 QPS = 1.2 M queries).

``simulate`` returns completion times; latency (MLPerf "from arrival") is
``completions - arrival_times``. For any inputs the completions are exactly
the FIFO recursion ``start_n = max(a_n, earliest server free time)``,
``done_n = start_n + s_n`` (Lindley's recursion in departure form for one
server, Kiefer-Wolfowitz for several), computed in the same floating-point
operations; tests/test_queueing_theory_reference.py checks this bit for bit.

Run ``python tests/benchmarks/simpy_reference.py [n_queries]`` to time the
MLPerf-default case once (2,000 QPS, D = 0.25 ms, 1 server, rho = 0.5).
"""

from __future__ import annotations

import math

import numpy as np
import simpy

__all__ = ["simulate", "poisson_arrival_times"]


def poisson_arrival_times(qps: float, n: int, seed: int = 0) -> np.ndarray:
    """``n`` Poisson arrival times (s) at rate ``qps``: cumulative Exp(1/qps) gaps from t=0."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.exponential(1.0 / qps, size=n))


def _delay_until(now: float, t: float) -> float:
    """Delay ``d`` with ``now + d == t`` in floating point (SimPy schedules at now + delay).

    ``t - now`` almost always satisfies this already; the loop only guards the
    rare rounding case so arrivals happen at exactly the given instants.
    """
    d = t - now
    while now + d < t:
        d = math.nextafter(d, math.inf)
    while now + d > t and d > 0.0:
        d = math.nextafter(d, -math.inf)
    return d


def simulate(
    arrival_times: np.ndarray, service_s: float | np.ndarray, servers: int = 1
) -> np.ndarray:
    """Simulate the FIFO c-server queue in SimPy; return each query's completion time.

    arrival_times: non-decreasing arrival instants (s), one per query.
    service_s:     service time (s), a scalar (deterministic) or one per query.
    servers:       number of identical servers (``simpy.Resource`` capacity).
    """
    arrivals = np.asarray(arrival_times, dtype=np.float64)
    if arrivals.ndim != 1:
        raise ValueError("arrival_times must be one-dimensional")
    n = arrivals.size
    if n and (arrivals[0] < 0.0 or np.any(np.diff(arrivals) < 0.0)):
        raise ValueError("arrival_times must be non-negative and non-decreasing")
    service = np.broadcast_to(np.asarray(service_s, dtype=np.float64), (n,))
    if np.any(service < 0.0):
        raise ValueError("service times must be non-negative")
    if int(servers) != servers or servers < 1:
        raise ValueError(f"servers must be a positive integer, got {servers!r}")

    completions = np.full(n, np.nan)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=int(servers))

    def query(i: int, service_time: float):
        with server.request() as req:
            yield req
            yield env.timeout(service_time)
        completions[i] = env.now

    def source():
        for i, (t, s) in enumerate(zip(arrivals.tolist(), service.tolist())):
            yield env.timeout(_delay_until(env.now, t))
            env.process(query(i, s))

    env.process(source())
    env.run()
    return completions


def _main(argv: list[str]) -> None:  # pragma: no cover - manual timing helper
    import time

    n = int(argv[1]) if len(argv) > 1 else 1_200_000  # 600 s at 2,000 QPS
    qps, d = 2000.0, 0.25e-3
    arrivals = poisson_arrival_times(qps, n, seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    done = simulate(arrivals, d, servers=1)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    lat = done - arrivals
    print(
        f"SimPy reference: {n:,} queries, {qps:g} QPS, D={d * 1e3:g} ms, 1 server "
        f"(rho={qps * d:g}): {elapsed:.2f} s wall, {cpu:.2f} s CPU ({elapsed / n * 1e6:.1f} us/query); "
        f"p90={np.quantile(lat, 0.9) * 1e3:.4f} ms p99={np.quantile(lat, 0.99) * 1e3:.4f} ms"
    )


if __name__ == "__main__":  # pragma: no cover
    import sys

    _main(sys.argv)
