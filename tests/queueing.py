"""Analytic queueing-theory reference values for the load generator's tests.

Importable helper module (not a test file). Everything here is a pure function
of the queue parameters; nothing depends on ``bench`` itself, so the numbers
can serve as outside truth for the server scenario on a synthetic SUT:

    Poisson arrivals at rate ``lam`` (1/s), one FIFO queue, ``c`` identical
    servers, service time deterministic ``d`` (s) or exponential with mean
    ``1/mu`` (s).

"Sojourn time" T is waiting plus service, i.e. latency measured from arrival
(MLPerf server-scenario latency). All times are in seconds (any consistent
unit works; the functions are scale-free).

Sources
-------
[Erlang09]  A. K. Erlang, "The theory of probabilities and telephone
            conversations", Nyt Tidsskrift for Matematik B 20 (1909) 33-39;
            waiting-time distribution of M/D/1 (and M/D/c, Erlang 1917).
[Franx01]   G. J. Franx, "A simple solution for the M/D/c waiting time
            distribution", Operations Research Letters 29 (2001) 221-229;
            its M/D/c result for c = 1 is the alternating-sum form used below.
[Kleinrock] L. Kleinrock, "Queueing Systems, Vol. 1: Theory", Wiley 1975:
            M/M/1 sojourn distribution and M/M/m Erlang C (ch. 3),
            Pollaczek-Khinchine mean and Takacs' moment recurrence for M/G/1
            (ch. 5).
[Takacs62]  L. Takacs, "Introduction to the Theory of Queues", Oxford 1962:
            moments of the M/G/1 waiting time.
[GH]        D. Gross, C. M. Harris et al., "Fundamentals of Queueing Theory",
            4th ed., Wiley 2008, sec. 2.3: M/M/c waiting and sojourn
            distributions, incl. the c*mu - lam = mu special case.
"""

from __future__ import annotations

import math

import mpmath
from scipy.optimize import brentq

__all__ = [
    "erlang_c",
    "md1_wait_cdf",
    "md1_sojourn_cdf",
    "md1_wait_quantile",
    "md1_sojourn_quantile",
    "md1_mean_wait",
    "md1_mean_sojourn",
    "md1_wait_second_moment",
    "mm1_sojourn_cdf",
    "mm1_sojourn_quantile",
    "mm1_mean_sojourn",
    "mmc_sojourn_sf",
    "mmc_sojourn_cdf",
    "mmc_sojourn_quantile",
    "mmc_mean_wait",
    "mmc_mean_sojourn",
    "mmc_sojourn_second_moment",
    "sojourn_quantile",
]


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #
def _check_p(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise ValueError(f"quantile level p must be in (0, 1), got {p!r}")


def _check_stable(lam: float, capacity: float) -> float:
    """Return rho = lam / capacity, requiring 0 < rho < 1."""
    if lam <= 0.0 or capacity <= 0.0:
        raise ValueError(f"rates must be positive (lam={lam!r}, capacity={capacity!r})")
    rho = lam / capacity
    if rho >= 1.0:
        raise ValueError(f"unstable queue: utilisation rho={rho!r} >= 1")
    return rho


def _upper_bracket(cdf, p: float, start: float) -> float:
    """Smallest start * 2**k with cdf(.) >= p (the CDFs here are continuous, increasing)."""
    hi = start
    for _ in range(200):
        if cdf(hi) >= p:
            return hi
        hi *= 2.0
    raise RuntimeError("could not bracket the quantile")  # pragma: no cover


# --------------------------------------------------------------------------- #
# M/D/1  [Erlang09], [Franx01]
# --------------------------------------------------------------------------- #
def _md1_wait_cdf_mp(u, rho) -> mpmath.mpf:
    """P(W <= u*D) in units of D, as an mpf at the *current* mpmath precision.

    Erlang's formula with x = u*D and rho = lam*D:

        P(W <= x) = (1 - rho) * sum_{k=0}^{floor(u)} [rho (k - u)]^k / k! * exp(-rho (k - u))

    For k < u the bases are negative, so the sum alternates and its terms grow
    like exp(2 rho u) while the result is <= 1: catastrophic cancellation in
    double precision for large u. The caller sets the precision.
    """
    u = mpmath.mpf(u)
    rho = mpmath.mpf(rho)
    total = mpmath.mpf(0)
    for k in range(int(mpmath.floor(u)) + 1):
        y = rho * (k - u)  # <= 0
        total += y**k / mpmath.factorial(k) * mpmath.exp(-y)
    return (1 - rho) * total


def _md1_dps(u: float, rho: float) -> int:
    # Largest term is <= exp(2 rho u); keep ~30 significant digits beyond it.
    return 30 + int(math.ceil(2.0 * rho * max(u, 0.0) / math.log(10.0)))


def md1_wait_cdf(x: float, lam: float, d: float) -> float:
    """P(W <= x) for the FIFO M/D/1 queue: Erlang's waiting-time distribution.

    Source: Erlang (1909); in the form of Franx (2001) with c = 1:
    ``P(W <= x) = (1-rho) sum_{k=0}^{floor(x/D)} [lam(kD-x)]^k/k! e^{-lam(kD-x)}``.
    Evaluated with mpmath at a precision that grows with x, since the sum
    alternates (see ``_md1_wait_cdf_mp``). Note the atom P(W = 0) = 1 - rho.
    """
    rho = _check_stable(lam, 1.0 / d)
    if x < 0.0:
        return 0.0
    u = x / d
    with mpmath.workdps(_md1_dps(u, rho)):
        return float(_md1_wait_cdf_mp(u, rho))


def md1_sojourn_cdf(t: float, lam: float, d: float) -> float:
    """P(T <= t) for M/D/1, T = W + D (service is deterministic): P(W <= t - D)."""
    return md1_wait_cdf(t - d, lam, d)


def md1_wait_quantile(p: float, lam: float, d: float) -> float:
    """p-quantile of the M/D/1 waiting time W (Erlang 1909 / Franx 2001).

    W has an atom P(W = 0) = 1 - rho, so the quantile is 0 for p <= 1 - rho;
    otherwise the continuous part of Erlang's CDF is inverted with Brent's
    method (the CDF is continuous and strictly increasing on x > 0).
    """
    _check_p(p)
    rho = _check_stable(lam, 1.0 / d)
    if p <= (1.0 - rho) + 1e-15:  # atom at 0 (tolerance: 1 - rho is itself rounded)
        return 0.0

    def cdf(u: float) -> float:
        with mpmath.workdps(_md1_dps(u, rho)):
            return float(_md1_wait_cdf_mp(u, rho))

    hi = _upper_bracket(cdf, p, 1.0)
    u = brentq(lambda v: cdf(v) - p, 0.0, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
    return u * d


def md1_sojourn_quantile(p: float, lam: float, d: float) -> float:
    """p-quantile of the M/D/1 sojourn time T = W + D.

    Equals D exactly when p <= 1 - rho (the atom of W at 0), else
    ``md1_wait_quantile(p) + D``. Source: Erlang (1909), Franx (2001).
    """
    return md1_wait_quantile(p, lam, d) + d


def md1_mean_wait(lam: float, d: float) -> float:
    """Pollaczek-Khinchine mean wait for M/D/1: E[W] = rho D / (2 (1 - rho)).

    Source: Kleinrock Vol. 1 ch. 5 (P-K mean value formula) with E[S^2] = D^2.
    """
    rho = _check_stable(lam, 1.0 / d)
    return rho * d / (2.0 * (1.0 - rho))


def md1_mean_sojourn(lam: float, d: float) -> float:
    """E[T] = E[W] + D for M/D/1 (Pollaczek-Khinchine)."""
    return md1_mean_wait(lam, d) + d


def md1_wait_second_moment(lam: float, d: float) -> float:
    """E[W^2] for M/D/1 by Takacs' recurrence for M/G/1.

    E[W^2] = 2 E[W]^2 + lam E[S^3] / (3 (1 - rho)), with E[S^3] = D^3.
    Source: Takacs (1962); Kleinrock Vol. 1 ch. 5. A check on the tail
    of Erlang's CDF that the mean alone would not give.
    """
    rho = _check_stable(lam, 1.0 / d)
    w = md1_mean_wait(lam, d)
    return 2.0 * w * w + lam * d**3 / (3.0 * (1.0 - rho))


# --------------------------------------------------------------------------- #
# M/M/1  [Kleinrock]
# --------------------------------------------------------------------------- #
def mm1_sojourn_cdf(t: float, lam: float, mu: float) -> float:
    """P(T <= t) = 1 - exp(-(mu - lam) t) for FIFO M/M/1 (Kleinrock Vol. 1 ch. 3)."""
    _check_stable(lam, mu)
    return 0.0 if t <= 0.0 else -math.expm1(-(mu - lam) * t)


def mm1_sojourn_quantile(p: float, lam: float, mu: float) -> float:
    """p-quantile of the FIFO M/M/1 sojourn time: -ln(1 - p) / (mu - lam).

    T ~ Exp(mu - lam). Source: Kleinrock Vol. 1 ch. 3 (M/M/1).
    """
    _check_p(p)
    _check_stable(lam, mu)
    return -math.log1p(-p) / (mu - lam)


def mm1_mean_sojourn(lam: float, mu: float) -> float:
    """E[T] = 1 / (mu - lam) for M/M/1 (Kleinrock Vol. 1 ch. 3)."""
    _check_stable(lam, mu)
    return 1.0 / (mu - lam)


# --------------------------------------------------------------------------- #
# M/M/c  [Kleinrock], [GH]
# --------------------------------------------------------------------------- #
def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability an arrival waits in M/M/c with offered load a = lam/mu.

    C(c, a) = [a^c/c! * c/(c-a)] / [sum_{k<c} a^k/k! + a^c/c! * c/(c-a)]
    (Erlang 1917; Kleinrock Vol. 1 ch. 3, M/M/m). Computed through the numerically
    stable Erlang-B recursion B_k = a B_{k-1} / (k + a B_{k-1}), B_0 = 1, and
    C = c B_c / (c - a (1 - B_c)).
    """
    if int(c) != c or c < 1:
        raise ValueError(f"servers c must be a positive integer, got {c!r}")
    if not 0.0 < a < c:
        raise ValueError(f"need 0 < a < c for a stable queue (a={a!r}, c={c!r})")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def _phi(z: float) -> float:
    """(1 - e^{-z}) / z for z >= 0, continuous at z = 0 (value 1); stable via expm1."""
    if z < 1e-300:
        return 1.0
    return -math.expm1(-z) / z


def mmc_sojourn_sf(t: float, lam: float, mu: float, c: int) -> float:
    """P(T > t) for the FIFO M/M/c sojourn time T = W + S.

    W = 0 with probability 1 - C, else W ~ Exp(gamma), gamma = c mu - lam
    (C = Erlang C); S ~ Exp(mu) independent of W. For a waiting customer,
    W + S is hypoexponential:

        h(t) = P(W + S > t) = (gamma e^{-mu t} - mu e^{-gamma t}) / (gamma - mu)   (gamma != mu)
                            = (1 + mu t) e^{-mu t}                                 (gamma == mu)

    h is symmetric in (gamma, mu); with m = min(gamma, mu), M = max(gamma, mu)
    both cases are the single overflow-free expression

        h(t) = e^{-m t} [1 + m t phi((M - m) t)],   phi(z) = (1 - e^{-z}) / z, phi(0) = 1,

    and P(T > t) = (1 - C) e^{-mu t} + C h(t). gamma < mu happens when
    lam > (c - 1) mu (e.g. M/M/4 at rho = 0.8); gamma == mu at c = 2, rho = 0.5.
    Source: Gross & Harris, 4th ed., sec. 2.3; Kleinrock Vol. 1 ch. 3.
    """
    rho = _check_stable(lam, c * mu)
    if t <= 0.0:
        return 1.0
    cw = erlang_c(c, c * rho)
    gamma = c * mu - lam
    m, big = (gamma, mu) if gamma < mu else (mu, gamma)
    h = math.exp(-m * t) * (1.0 + m * t * _phi((big - m) * t))
    return (1.0 - cw) * math.exp(-mu * t) + cw * h


def mmc_sojourn_cdf(t: float, lam: float, mu: float, c: int) -> float:
    """P(T <= t) = 1 - ``mmc_sojourn_sf`` for FIFO M/M/c (Gross & Harris sec. 2.3)."""
    return 1.0 - mmc_sojourn_sf(t, lam, mu, c)


def mmc_sojourn_quantile(p: float, lam: float, mu: float, c: int) -> float:
    """p-quantile of the FIFO M/M/c sojourn time (Erlang C; Gross & Harris sec. 2.3).

    Root of P(T > t) = 1 - p (see ``mmc_sojourn_sf``), found with
    scipy.optimize.brentq; T has no atom, so the root is unique.
    """
    _check_p(p)
    _check_stable(lam, c * mu)
    q = 1.0 - p

    def excess(t: float) -> float:
        return mmc_sojourn_sf(t, lam, mu, c) - q

    hi = 1.0 / mu
    while excess(hi) > 0.0:
        hi *= 2.0
    return brentq(excess, 0.0, hi, xtol=1e-300, rtol=1e-15, maxiter=500)


def mmc_mean_wait(lam: float, mu: float, c: int) -> float:
    """E[W] = C(c, a) / (c mu - lam) for M/M/c (Kleinrock Vol. 1 ch. 3; Gross & Harris sec. 2.3)."""
    rho = _check_stable(lam, c * mu)
    return erlang_c(c, c * rho) / (c * mu - lam)


def mmc_mean_sojourn(lam: float, mu: float, c: int) -> float:
    """E[T] = C(c, a) / (c mu - lam) + 1/mu for M/M/c (Kleinrock Vol. 1 ch. 3; Gross & Harris sec. 2.3)."""
    return mmc_mean_wait(lam, mu, c) + 1.0 / mu


def mmc_sojourn_second_moment(lam: float, mu: float, c: int) -> float:
    """E[T^2] for M/M/c: E[W^2] + 2 E[W] E[S] + E[S^2].

    E[W^2] = 2 C / (c mu - lam)^2 (W is 0 or exponential), E[S^2] = 2/mu^2.
    Source: Gross & Harris sec. 2.3.
    """
    rho = _check_stable(lam, c * mu)
    cw = erlang_c(c, c * rho)
    g = c * mu - lam
    return 2.0 * cw / g**2 + 2.0 * (cw / g) / mu + 2.0 / mu**2


# --------------------------------------------------------------------------- #
# convenience dispatcher
# --------------------------------------------------------------------------- #
def sojourn_quantile(
    service: str, p: float, lam: float, service_mean: float, servers: int = 1
) -> float:
    """Analytic sojourn-time p-quantile for ``service`` in {"deterministic", "exponential"}.

    deterministic & servers == 1 -> ``md1_sojourn_quantile`` (Erlang 1909);
    exponential                  -> ``mmc_sojourn_quantile`` (== M/M/1 closed
    form for servers == 1). M/D/c for c > 1 is not implemented.
    """
    if service in ("deterministic", "D"):
        if servers != 1:
            raise NotImplementedError("M/D/c with c > 1 is not implemented (see Franx 2001)")
        return md1_sojourn_quantile(p, lam, service_mean)
    if service in ("exponential", "M"):
        if servers == 1:
            return mm1_sojourn_quantile(p, lam, 1.0 / service_mean)
        return mmc_sojourn_quantile(p, lam, 1.0 / service_mean, servers)
    raise ValueError(f"unknown service distribution {service!r}")
