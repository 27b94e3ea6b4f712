"""Outside truth for the load generator: the analytic queueing references are right.

Checks ``tests/queueing.py`` independently of bench:

(a) the mean (and second moment) integrated from each CDF equals the closed
    form (Pollaczek-Khinchine / Takacs for M/D/1, Erlang C for M/M/c);
(b) M/M/c with c = 1 is M/M/1;
(c) direct numpy simulations -- the Lindley recursion (M/D/1, M/M/1) and the
    Kiefer-Wolfowitz c-server FIFO recursion (M/M/2, M/M/4) -- reproduce the
    analytic sojourn p90/p99 within 2% at rho = 0.5 and 0.8;

and that the SimPy reference model (tests/benchmarks/simpy_reference.py)
produces exactly the completions of those recursions.

Statistical note for (c): with ~2e6 customers the p99 estimate at rho = 0.8
has a standard deviation of ~1-1.7% (queue autocorrelation), so a 2%
tolerance fails for roughly 1 seed in 5-10. The rho = 0.8 rows therefore
use 12-24 M customers, chosen so that 2% is >~ 3.5 standard deviations for
every row (measured over 8 other seeds: p99 sd 0.3-0.6%). The simulation
runs as independent replications vectorised across numpy columns (each
replication starts empty and drops a warm-up prefix).
"""

from __future__ import annotations

import functools
import heapq
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

import queueing as qt  # tests/ is on sys.path under pytest's default "prepend" import mode


@functools.cache
def _load_simpy_reference():
    path = Path(__file__).parent / "benchmarks" / "simpy_reference.py"
    spec = importlib.util.spec_from_file_location("_bench_simpy_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MS = 1e-3  # service mean used throughout: 1 ms
MU = 1.0 / MS
RHOS = (0.5, 0.8)


# --------------------------------------------------------------------------- #
# (a) moments from the CDFs equal the closed forms
# --------------------------------------------------------------------------- #
def _md1_wait_moments_from_cdf(lam: float, d: float) -> tuple[float, float]:
    """E[W], E[W^2] by integrating 1 - F_W (Erlang's CDF) piecewise over [kD, (k+1)D].

    On each piece the CDF is a finite sum of polynomial * exponential terms
    (entire), so 32-point Gauss-Legendre is accurate to rounding. Pieces stop
    once 1 - F < 1e-11; the neglected tail is ~1e-11 / (decay rate), far
    below the 1e-6 tolerance.
    """
    nodes, weights = np.polynomial.legendre.leggauss(32)
    m1 = m2 = 0.0
    k = 0
    while True:
        x = (k + 0.5 + 0.5 * nodes) * d  # nodes mapped to [kD, (k+1)D]
        sf = np.array([1.0 - qt.md1_wait_cdf(float(v), lam, d) for v in x])
        m1 += 0.5 * d * float(weights @ sf)
        m2 += 0.5 * d * float(weights @ (2.0 * x * sf))
        k += 1
        if 1.0 - qt.md1_wait_cdf(k * d, lam, d) < 1e-11:
            return m1, m2


@pytest.mark.parametrize("rho", RHOS)
def test_md1_moments_from_erlang_cdf_match_pollaczek_khinchine_and_takacs(rho):
    lam, d = rho / MS, MS
    m1, m2 = _md1_wait_moments_from_cdf(lam, d)
    assert m1 == pytest.approx(qt.md1_mean_wait(lam, d), rel=1e-6)
    assert m2 == pytest.approx(qt.md1_wait_second_moment(lam, d), rel=1e-6)
    assert m1 + d == pytest.approx(qt.md1_mean_sojourn(lam, d), rel=1e-6)


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("c", [1, 2, 4])
def test_mmc_moments_from_cdf_match_erlang_c(rho, c):
    lam = rho * c * MU
    sf = lambda t: qt.mmc_sojourn_sf(t, lam, MU, c)  # noqa: E731
    m1 = quad(sf, 0.0, np.inf, epsabs=0.0, epsrel=1e-12, limit=200)[0]
    m2 = quad(lambda t: 2.0 * t * sf(t), 0.0, np.inf, epsabs=0.0, epsrel=1e-12, limit=200)[0]
    assert m1 == pytest.approx(qt.mmc_mean_sojourn(lam, MU, c), rel=1e-6)
    assert m2 == pytest.approx(qt.mmc_sojourn_second_moment(lam, MU, c), rel=1e-6)


def test_mm1_mean_from_cdf():
    lam = 0.8 * MU
    m1 = quad(lambda t: 1.0 - qt.mm1_sojourn_cdf(t, lam, MU), 0.0, np.inf, epsrel=1e-12)[0]
    assert m1 == pytest.approx(qt.mm1_mean_sojourn(lam, MU), rel=1e-6)


# --------------------------------------------------------------------------- #
# quantile functions invert their CDFs; edge cases
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("rho", (0.3, 0.5, 0.8, 0.95))
@pytest.mark.parametrize("p", (0.5, 0.9, 0.99, 0.999))
def test_quantiles_invert_cdfs(rho, p):
    lam = rho * MU
    t = qt.md1_sojourn_quantile(p, lam, MS)
    if p <= 1.0 - rho:
        assert t == MS  # atom P(W = 0) = 1 - rho: quantile is the bare service time
    else:
        assert qt.md1_sojourn_cdf(t, lam, MS) == pytest.approx(p, abs=1e-12)
    assert qt.mm1_sojourn_cdf(qt.mm1_sojourn_quantile(p, lam, MU), lam, MU) == pytest.approx(p, abs=1e-12)
    for c in (2, 4):
        t = qt.mmc_sojourn_quantile(p, c * lam, MU, c)
        assert qt.mmc_sojourn_cdf(t, c * lam, MU, c) == pytest.approx(p, abs=1e-12)


def test_md1_wait_cdf_first_interval_and_atom():
    lam, d = 0.8 / MS, MS
    assert qt.md1_wait_cdf(0.0, lam, d) == pytest.approx(0.2, abs=1e-15)  # P(W = 0) = 1 - rho
    for x in (0.1 * d, 0.5 * d, 0.999 * d):  # k = 0 term only: (1 - rho) e^{lam x}
        assert qt.md1_wait_cdf(x, lam, d) == pytest.approx(0.2 * math.exp(lam * x), rel=1e-14)
    assert qt.md1_wait_quantile(0.2, lam, d) == 0.0
    assert qt.md1_wait_cdf(200 * d, lam, d) == pytest.approx(1.0, abs=1e-15)  # deep tail: no cancellation blow-up
    with pytest.raises(ValueError):
        qt.md1_sojourn_quantile(0.9, 1.0 / d, d)  # rho = 1


def test_mmc_special_case_c_mu_minus_lam_equals_mu_is_continuous():
    # c = 2, lam = mu  =>  c*mu - lam == mu: the hypoexponential (gamma e^{-mu t} - mu e^{-gamma t})/(gamma - mu)
    # degenerates to (1 + mu t) e^{-mu t}; the sf must be continuous through it.
    c, t = 2, 3.0 * MS
    at = qt.mmc_sojourn_sf(t, MU, MU, c)
    cw = qt.erlang_c(c, 1.0)
    assert cw == pytest.approx(1.0 / 3.0, rel=1e-15)  # C(2, 1) = 1/3
    assert at == pytest.approx((1 - cw) * math.exp(-3.0) + cw * 4.0 * math.exp(-3.0), rel=1e-14)
    for eps in (1e-9, 1e-6, 1e-3):
        for lam in (MU * (1 + eps), MU * (1 - eps)):
            g, mu = c * MU - lam, MU
            hypo = (g * math.exp(-mu * t) - mu * math.exp(-g * t)) / (g - mu)
            cw = qt.erlang_c(c, lam / MU)
            direct = (1 - cw) * math.exp(-mu * t) + cw * hypo
            assert qt.mmc_sojourn_sf(t, lam, MU, c) == pytest.approx(direct, rel=max(1e-12, 1e-15 / eps))
            assert qt.mmc_sojourn_sf(t, lam, MU, c) == pytest.approx(at, rel=10 * eps)


def test_erlang_c_known_values():
    assert qt.erlang_c(1, 0.8) == pytest.approx(0.8, rel=1e-15)  # M/M/1: P(wait) = rho
    assert qt.erlang_c(2, 1.6) == pytest.approx(2 * 0.8**2 / (1 + 0.8), rel=1e-14)  # M/M/2: 2 rho^2 / (1 + rho)
    # direct textbook formula for c = 4, a = 3.2
    a, c = 3.2, 4
    top = a**c / math.factorial(c) * c / (c - a)
    assert qt.erlang_c(c, a) == pytest.approx(top / (sum(a**k / math.factorial(k) for k in range(c)) + top), rel=1e-14)


# --------------------------------------------------------------------------- #
# (b) M/M/c at c = 1 is M/M/1
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("rho", (0.1, 0.5, 0.8, 0.99))
def test_mmc_with_one_server_is_mm1(rho):
    lam = rho * MU
    for p in (0.5, 0.9, 0.99, 0.9999):
        assert qt.mmc_sojourn_quantile(p, lam, MU, 1) == pytest.approx(qt.mm1_sojourn_quantile(p, lam, MU), rel=1e-12)
    for t in (0.1 * MS, MS, 10 * MS, 100 * MS):
        assert qt.mmc_sojourn_cdf(t, lam, MU, 1) == pytest.approx(qt.mm1_sojourn_cdf(t, lam, MU), rel=1e-12, abs=1e-15)
    assert qt.mmc_mean_sojourn(lam, MU, 1) == pytest.approx(qt.mm1_mean_sojourn(lam, MU), rel=1e-14)
    assert qt.sojourn_quantile("exponential", 0.99, lam, MS, 1) == qt.mm1_sojourn_quantile(0.99, lam, MU)


# --------------------------------------------------------------------------- #
# (c) direct simulation: Lindley / Kiefer-Wolfowitz recursions
# --------------------------------------------------------------------------- #
def lindley_waits(interarrival: np.ndarray, service: np.ndarray) -> np.ndarray:
    """FIFO single-server waits by Lindley's recursion, vectorised along axis 0.

    W_0 = 0, W_n = max(0, W_{n-1} + S_{n-1} - tau_n) has the closed form
    W_n = X_n - min_{0<=k<=n} X_k with X_n = sum_{i<=n} (S_{i-1} - tau_i), X_0 = 0.
    Columns are independent replications.
    """
    x = np.zeros_like(interarrival)
    np.cumsum(service[:-1] - interarrival[1:], axis=0, out=x[1:])
    x -= np.minimum.accumulate(x, axis=0)
    return x


def kiefer_wolfowitz_waits(interarrival: np.ndarray, service: np.ndarray, c: int) -> np.ndarray:
    """FIFO c-server waits by the Kiefer-Wolfowitz recursion, vectorised across columns.

    Customer n starts at max(A_n, earliest server-free time) and makes that
    server free at start + S_n (the workload-vector recursion
    V_{n+1} = R(V_n + S_n e_1 - tau_{n+1} 1)^+ written in absolute time).
    """
    arrivals = np.cumsum(interarrival, axis=0)
    n, reps = arrivals.shape
    free = np.zeros((reps, c))
    rows = np.arange(reps)
    waits = np.empty_like(arrivals)
    for j in range(n):
        k = free.argmin(axis=1)
        a = arrivals[j]
        start = np.maximum(a, free[rows, k])
        waits[j] = start - a
        free[rows, k] = start + service[j]
    return waits


def fifo_departures(arrivals, service, c: int = 1) -> np.ndarray:
    """Departure times by the scalar FIFO recursion (reference for the SimPy model).

    c = 1: D_n = max(A_n, D_{n-1}) + S_n (Lindley's recursion in departure form);
    c > 1: Kiefer-Wolfowitz with a heap of server-free times.
    """
    free = [0.0] * c
    out = []
    for a, s in zip(np.asarray(arrivals, float).tolist(), np.broadcast_to(service, np.shape(arrivals)).tolist()):
        f = free[0]
        done = (a if a > f else f) + s
        heapq.heapreplace(free, done)
        out.append(done)
    return np.array(out)


LENGTH, WARMUP = 20_000, 2_000  # customers per replication, dropped prefix (>> relaxation time)

# model, service, servers, rho, replications (customers = replications * LENGTH), seed
SIM_CASES = [
    ("M/D/1", "deterministic", 1, 0.5, 100, 11),
    ("M/M/1", "exponential", 1, 0.5, 100, 12),
    ("M/M/2", "exponential", 2, 0.5, 100, 13),
    ("M/M/4", "exponential", 4, 0.5, 100, 14),
    ("M/D/1", "deterministic", 1, 0.8, 600, 21),
    ("M/M/1", "exponential", 1, 0.8, 1200, 22),
    ("M/M/2", "exponential", 2, 0.8, 800, 23),
    ("M/M/4", "exponential", 4, 0.8, 600, 24),
]


def simulate_sojourn_quantiles(service, servers, rho, reps, seed, ps=(0.9, 0.99), block=200):
    """Sojourn-time quantiles pooled over ``reps`` independent replications (blocks bound memory)."""
    rng = np.random.default_rng(seed)
    lam = rho * servers * MU
    pooled = np.empty((LENGTH - WARMUP, reps))
    for start in range(0, reps, block):
        r = min(block, reps - start)
        tau = rng.exponential(1.0 / lam, size=(LENGTH, r))
        if service == "deterministic":
            s = np.full((LENGTH, r), MS)
        else:
            s = rng.exponential(MS, size=(LENGTH, r))
        w = lindley_waits(tau, s) if servers == 1 else kiefer_wolfowitz_waits(tau, s, servers)
        np.add(w[WARMUP:], s[WARMUP:], out=pooled[:, start : start + r])
    return np.quantile(pooled.ravel(), ps, overwrite_input=True)


@pytest.mark.parametrize(
    "model, service, servers, rho, reps, seed", SIM_CASES, ids=[f"{m}-rho{r}" for m, _, _, r, _, _ in SIM_CASES]
)
def test_recursion_simulation_matches_analytic_quantiles(model, service, servers, rho, reps, seed):
    lam = rho * servers * MU
    analytic = np.array([qt.sojourn_quantile(service, p, lam, MS, servers) for p in (0.9, 0.99)])
    simulated = simulate_sojourn_quantiles(service, servers, rho, reps, seed)
    np.testing.assert_allclose(simulated, analytic, rtol=0.02, err_msg=f"{model} rho={rho} p90/p99")


def test_vectorised_recursions_agree_with_scalar_recursion():
    rng = np.random.default_rng(5)
    tau = rng.exponential(1.25 * MS, size=(3000, 3))
    s = rng.exponential(MS, size=(3000, 3))
    arrivals = np.cumsum(tau, axis=0)
    for col in range(3):
        ref1 = fifo_departures(arrivals[:, col], s[:, col], 1) - arrivals[:, col] - s[:, col]
        np.testing.assert_allclose(lindley_waits(tau, s)[:, col], ref1, rtol=0, atol=1e-12)
        ref3 = fifo_departures(arrivals[:, col], s[:, col], 3) - arrivals[:, col] - s[:, col]
        np.testing.assert_allclose(kiefer_wolfowitz_waits(tau, s, 3)[:, col], ref3, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- #
# SimPy reference model == recursion, bit for bit
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("servers", [1, 3])
@pytest.mark.parametrize("service", ["deterministic", "exponential"])
def test_simpy_reference_completions_equal_fifo_recursion_exactly(service, servers):
    simpy_reference = _load_simpy_reference()
    n, d = 20_000, 0.25e-3
    arrivals = simpy_reference.poisson_arrival_times(0.8 * servers / d, n, seed=7)
    s = d if service == "deterministic" else np.random.default_rng(8).exponential(d, n)
    done = simpy_reference.simulate(arrivals, s, servers)
    expected = fifo_departures(arrivals, s, servers)
    assert done.dtype == np.float64 and done.shape == (n,)
    np.testing.assert_array_equal(done, expected)
    assert np.all(done >= arrivals + s)


def test_simpy_reference_handles_simultaneous_arrivals_and_empty_input():
    simpy_reference = _load_simpy_reference()
    arrivals = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 5.0])
    np.testing.assert_array_equal(simpy_reference.simulate(arrivals, 2.0, 1), [2.0, 4.0, 6.0, 8.0, 10.0, 12.0])
    np.testing.assert_array_equal(simpy_reference.simulate(arrivals, 2.0, 2), [2.0, 2.0, 4.0, 4.0, 6.0, 7.0])
    assert simpy_reference.simulate(np.array([]), 1.0, 1).shape == (0,)
    with pytest.raises(ValueError):
        simpy_reference.simulate(np.array([1.0, 0.5]), 1.0, 1)
