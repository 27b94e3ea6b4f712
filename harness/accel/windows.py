"""Energy per time window, compiled: each interval of constant power adds to the windows it
overlaps exactly what falls in each (no cumulative sum differenced, no sort). The peak power of
a run is the busiest of its 1 ms windows (energy.peak_power_w); a 600 s run has 600,000 windows
and about a million intervals (batches, and the spells engines are powered), which this walks
once. Imported only by the run's energy block, after the compiled kernel has loaded numba.
"""

from __future__ import annotations

from harness.jit import njit


@njit(cache=True)
def add_window_energy(edges, width, starts, ends, watts, out):
    """out[k] += the energy of powers watts[i] over [starts[i], ends[i]) inside [edges[k],
    edges[k + 1]): windows `width` wide from edges[0] (the last one may be shorter)."""
    m = edges.shape[0] - 1
    for i in range(starts.shape[0]):
        s, e = max(starts[i], edges[0]), min(ends[i], edges[m])
        if e <= s:
            continue
        k = _window(edges, width, s)
        while True:
            hi = edges[k + 1]
            out[k] += watts[i] * (min(e, hi) - max(s, edges[k]))
            if e <= hi or k == m - 1:
                break
            k += 1


@njit(cache=True, inline="always")
def _window(edges, width, t):
    """The window [edges[k], edges[k + 1]) that holds t (edges[0] <= t < edges[-1])."""
    m = edges.shape[0] - 1
    k = min(max(int((t - edges[0]) / width), 0), m - 1)
    while k + 1 < m and edges[k + 1] <= t:
        k += 1
    while k > 0 and edges[k] > t:
        k -= 1
    return k
