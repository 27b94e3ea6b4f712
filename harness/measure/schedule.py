"""The query schedule, generated before the run from named seeds (LoadGen §4 and §7).

A schedule is data: how many queries, which samples each holds, and (server only) when each is
due. Issuing it is a separate step, the same for virtual and real time.

Server arrival times reproduce LoadGen bit for bit: an mt19937 seeded with the low 32 bits of
`schedule_rng_seed`, a uniform double from two 32-bit draws, gap = -ln(1 - u) / qps seconds
truncated to integer nanoseconds. Sample picks use the same semantics (a shuffled loaded set,
uniform picks with replacement, 8 contiguous samples for multi-stream, the set repeated for
offline) from their own seeded streams, but not LoadGen's exact draw order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.measure.settings import Settings

NS = 1_000_000_000
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Schedule:
    count: int                    # queries generated
    samples_per_query: int
    loaded: np.ndarray            # the loaded sample set: a permutation of the performance set
    first: np.ndarray             # per query: position in `loaded` of its first sample
    offsets_ns: np.ndarray | None  # server: scheduled issue offsets (int64 ns); else None
    generated_duration_ns: int    # offset the next, ungenerated query would have had

    def samples(self, query: int) -> np.ndarray:
        """Sample indices of one query: spq contiguous entries of the loaded set, wrapping."""
        positions = (self.first[query] + np.arange(self.samples_per_query)) % len(self.loaded)
        return self.loaded[positions]


def mt19937(seed: int) -> np.random.MT19937:
    """std::mt19937(seed): the standard init_genrand on the seed's low 32 bits."""
    bits = np.random.MT19937()
    bits._legacy_seeding(seed & 0xFFFFFFFF)
    return bits


def exponential_gaps_ns(bits: np.random.MT19937, qps: float, n: int) -> np.ndarray:
    """n inter-arrival gaps as libstdc++'s exponential_distribution draws them, in whole ns."""
    raw = bits.random_raw(2 * n)
    u = raw[1::2].astype(np.float64)     # each step in place: the same operations, in order, as
    u *= 4294967296.0                    # trunc(-log(1 - min((lo + hi * 2^32) / 2^64, 1-)) / qps * 1e9)
    u += raw[0::2]
    del raw
    u /= 18446744073709551616.0
    np.minimum(u, np.nextafter(1.0, 0.0), out=u)
    np.subtract(1.0, u, out=u)
    np.log(u, out=u)
    np.negative(u, out=u)
    u /= qps
    u *= 1e9
    return np.trunc(u, out=u).astype(np.int64)


def _count_until(offsets: np.ndarray, window_ns: float, min_queries: int) -> int | None:
    """LoadGen keeps generating while the previous query is inside the window or too few exist."""
    beyond = np.flatnonzero(offsets >= window_ns)
    if len(beyond) == 0 or max(int(beyond[0]), min_queries - 1) + 1 >= len(offsets):
        return None
    return max(int(beyond[0]), min_queries - 1) + 1


def poisson_offsets_ns(seed: int, qps: float, window_ns: float, min_queries: int) -> tuple[np.ndarray, int]:
    """Scheduled offsets for the server scenario and the generated duration."""
    bits = mt19937(seed)
    offsets = np.zeros(1, dtype=np.int64)
    while True:
        expected = int(max(window_ns * qps / NS, min_queries) * 1.02) + _CHUNK
        gaps = exponential_gaps_ns(bits, qps, expected)
        offsets = np.concatenate([offsets, offsets[-1] + np.cumsum(gaps)])
        count = _count_until(offsets, window_ns, min_queries)
        if count is not None:
            return offsets[:count].copy(), int(offsets[count])


def periodic_count(qps: float, window_ns: float, min_queries: int) -> tuple[int, int]:
    """Query count for closed-loop scenarios: a fixed period bounds the pre-generation only."""
    period = int(NS / qps)
    first_beyond = -(-int(window_ns) // period) if period > 0 else 0
    count = max(first_beyond, min_queries - 1) + 1
    return count, count * period


def generate(settings: Settings) -> Schedule:
    """The whole schedule for one run, from the settings' seeds."""
    loaded = np.random.Generator(mt19937(settings.qsl_rng_seed)).permutation(
        settings.performance_sample_count).astype(np.int32)
    offsets = None
    if settings.is_server:
        offsets, duration = poisson_offsets_ns(settings.schedule_rng_seed, settings.target_qps,
                                               settings.min_duration_s * NS, settings.min_query_count)
        count = len(offsets)
    elif settings.scenario == "offline":
        count, duration = 1, 0
    else:
        count, duration = periodic_count(settings.target_qps, 2 * settings.target_duration_s * NS,
                                          settings.min_query_count)
    if settings.max_query_count:
        count = min(count, settings.max_query_count)
        offsets = offsets[:count] if offsets is not None else None
    picks = np.random.Generator(mt19937(settings.sample_index_rng_seed))
    first = (np.zeros(1, dtype=np.int32) if settings.scenario == "offline"
             else picks.integers(0, len(loaded), count, dtype=np.int32))
    return Schedule(count, settings.samples_per_query, loaded, first, offsets, duration)
