"""The compiled core of harness.accel.joint: engines sharing one DRAM, stepped event by event.

Arrays (all float64; built and documented by joint.JointDram):

    eng[e]    PLAN, K, R, CEND, START of engine e: its batch plan (-1 idle), current phase (an
              index into the flat phase arrays), bytes its phase still has to move, the instant
              its compute is done (inf until its transfer is done without double buffering),
              the batch's start
    clock     [T]: the instant the state describes (a view of meta[CLOCK])
    band      (edges, cum, rate, per, period): one engine's bandwidth while n engines request,
              row n of cum/rate/per (row 0 unused); periodic in `period`
    phases    (c, d, first, a): compute seconds and DRAM bytes (in bytes of DRAM time, see
              dram_cost.py) of every phase of every plan, plan p owning phases first[p] ..
              first[p+1] - 1; a: the bytes really moved per byte of DRAM time
    rec       (bins, gcum, grate, gper, zoom_t, zoom_n, meta, zoom_w): bytes per BIN_S bin
              (column 0 the NPU, 1 + j best-effort master j, whose grant while n engines request
              is row n * masters + j of gcum/grate/gper); instants where n or w (the requesters'
              sum of a) changes before meta[ZOOM_END]
    seg       the last speculation's steps, so that a commit replays them instead of stepping
              again: row 0 the clock and state it started from, row 1 + i its step i
              (T0, T1, N, W, Y0, DY as `_record` takes them, then the state after the step,
              engine by engine); meta[SEG_COUNT] steps are kept (at most seg.shape[0] - 1; a
              commit past them steps on from the last one)

The pool's entry point, `step`, takes these packed into few arrays (a call then unboxes 7
arrays, not 17 inside tuples): meta, zoom (rows zoom_t, zoom_n, zoom_w), bins and seg as they
are; band, phases and the best-effort grants flat in `const`, with `layout` giving each one's
(offset, rows, columns), then `first`. joint.JointDram packs them.

Every function here is compiled without numba's reference counting (`_nrt=False`): none
allocates, and the arrays they slice outlive the call, so the atomic increments and decrements
numba would emit around each array handed to an inlined helper (most of the time per step,
measured with perf) are pure overhead.

Between two events the number n of requesting engines is constant, so every requester moves
the same bytes, the exact integral of its bandwidth (`_cum`); the smallest remaining transfer
ends first (`_inv`). Nothing is discretised in time.
"""

from __future__ import annotations

import numpy as np

from harness.jit import njit

PLAN, K, R, CEND, START = 0, 1, 2, 3, 4
BIN_S, ZOOM_END, ZOOM_COUNT, LAST_N, DOUBLE_BUFFERING, LAST_W, SEG_COUNT = 0, 1, 2, 3, 4, 5, 6
CLOCK, SPEC_CLOCK, META_SIZE = 7, 8, 9
# the parts of `const`, in layout order
EDGES, CUM, RATE, PER, PERIOD, C, D, A, GCUM, GRATE, GPER, PARTS = range(12)
T0, T1, N, W, Y0, DY, STATE = 0, 1, 2, 3, 4, 5, 6
INF = np.inf


@njit(cache=True, inline="always", _nrt=False)
def _find(values, x, last):
    """The largest i <= last with values[i] <= x (0 if none): bisect_right - 1, clipped. A scan:
    the arrays are a period's few edges, where it beats bisection's unpredictable branches."""
    i, top = 0, values.shape[0] - 1
    while i < top and values[i + 1] <= x:
        i += 1
    return min(i, last)


@njit(cache=True, inline="always", _nrt=False)
def _cum(edges, cum, rate, per, n, period, t):
    """Integral over [0, t] of the periodic piecewise-constant rate of row n (as
    contention.Leftover.cumulative, operation for operation)."""
    q = np.floor(t / period)
    u = t - q * period
    i = _find(edges, u, rate.shape[1] - 1)
    return q * per[n] + cum[n, i] + rate[n, i] * (u - edges[i])


@njit(cache=True, inline="always", _nrt=False)
def _inv(edges, cum, rate, per, n, period, y):
    """The first instant t with _cum(t) = y (as contention.Leftover.inverse)."""
    q = np.floor(y / per[n])
    v = y - q * per[n]
    i = _find(cum[n], v, rate.shape[1] - 1)
    return q * period + edges[i] + (v - cum[n, i]) / rate[n, i]


@njit(cache=True, inline="always", _nrt=False)
def _begin_phase(eng, e, k, t, c, d, double_buffering):
    eng[e, K] = k
    eng[e, R] = d[k]
    eng[e, CEND] = t + c[k] if (double_buffering or d[k] <= 0) else INF


@njit(cache=True, _nrt=False)
def start(eng, e, plan, t, phases, double_buffering):
    c, d, first, _ = phases
    eng[e, PLAN] = plan
    eng[e, START] = t
    _begin_phase(eng, e, first[plan], t, c, d, double_buffering)


@njit(cache=True, inline="always", _nrt=False)
def _transitions(eng, t, phases, double_buffering):
    """Engines whose phase is over at t enter their next one; the first whose batch ends is
    returned (it is left at its last phase), else -1."""
    c, d, first, _ = phases
    for e in range(eng.shape[0]):
        while eng[e, PLAN] >= 0 and eng[e, R] == 0 and eng[e, CEND] <= t:
            k = int(eng[e, K]) + 1
            if k == first[int(eng[e, PLAN]) + 1]:
                return e
            _begin_phase(eng, e, k, t, c, d, double_buffering)
    return -1


@njit(cache=True, inline="always", _nrt=False)
def _scan(eng, a):
    """(requesting engines, smallest remaining transfer, earliest compute end of the others,
    bytes the requesters really move per byte of DRAM time each moves)."""
    n, rmin, tph, w = 0, INF, INF, 0.0
    for e in range(eng.shape[0]):
        if eng[e, PLAN] < 0:
            continue
        if eng[e, R] > 0:
            n += 1
            w += a[int(eng[e, K])]
            rmin = min(rmin, eng[e, R])
        else:
            tph = min(tph, eng[e, CEND])
    return n, rmin, tph, w


@njit(cache=True, inline="always", _nrt=False)
def _move(eng, dy, t, phases):
    """Every requester has moved dy more bytes by t; a transfer that is done starts its
    compute (without double buffering)."""
    c = phases[0]
    for e in range(eng.shape[0]):
        if eng[e, PLAN] >= 0 and eng[e, R] > 0:
            left = eng[e, R] - dy
            if left <= 0:
                eng[e, R] = 0.0
                if eng[e, CEND] == INF:
                    eng[e, CEND] = t + c[int(eng[e, K])]
            else:
                eng[e, R] = left


@njit(cache=True, inline="always", _nrt=False)
def _record(t0, t1, n, w, y0, dy, edges, cum, rate, per, period, bins, gcum, grate, gper,
            zoom_t, zoom_n, zoom_w, meta):
    """Bytes moved in [t0, t1], where n engines each moved dy of DRAM time from their
    cumulative y0 (w x dy bytes in all), into the bins; (n, w)'s changes into the zoom."""
    changed = n != meta[LAST_N] or w != meta[LAST_W]
    if changed and t0 < meta[ZOOM_END] and meta[ZOOM_COUNT] < zoom_t.shape[0]:
        i = int(meta[ZOOM_COUNT])
        zoom_t[i], zoom_n[i], zoom_w[i] = t0, n, w
        meta[ZOOM_COUNT] += 1
        meta[LAST_N], meta[LAST_W] = n, w
    b = int(t0 / meta[BIN_S])
    if t1 <= (b + 1) * meta[BIN_S] and bins.shape[1] == 1:
        bins[b, 0] += w * dy  # the usual case: within one bin, no best-effort master
    else:
        _record_split(t0, t1, n, w, y0, dy, edges, cum, rate, per, period, bins, gcum, grate,
                      gper, meta[BIN_S])


@njit(cache=True, _nrt=False)
def _record_split(t0, t1, n, w, y0, dy, edges, cum, rate, per, period, bins, gcum, grate, gper,
                  width):
    """_record's bytes, bin by bin, each best-effort master's too."""
    b = int(t0 / width)
    a, ya = t0, y0
    while b < bins.shape[0]:  # the caller grows the bins before they could run out
        edge = (b + 1) * width
        last = t1 <= edge
        e2 = t1 if last else edge
        y2 = y0 + dy if last else (_cum(edges, cum, rate, per, n, period, e2) if n > 0 else 0.0)
        bins[b, 0] += w * (y2 - ya)
        _record_masters(a, e2, n, edges, gcum, grate, gper, period, bins, b)
        if last:
            return
        a, ya, b = e2, y2, b + 1


@njit(cache=True, _nrt=False)
def _record_masters(a, b, n, edges, gcum, grate, gper, period, bins, row):
    masters = bins.shape[1] - 1
    for j in range(masters):
        k = n * masters + j
        bins[row, 1 + j] += (_cum(edges, gcum, grate, gper, k, period, b)
                             - _cum(edges, gcum, grate, gper, k, period, a))


@njit(cache=True, _nrt=False)
def run(eng, clock, t_target, speculate, band, phases, rec, seg):
    """Step the state to t_target (events at exactly t_target are left pending), or, when
    speculating, until the first batch ends (returned; -1 if none is busy). Records when
    not speculating; when speculating, keeps each step in seg instead. -2: a batch ended
    before t_target (the caller missed an end)."""
    edges, cum, rate, per, period = band
    bins, gcum, grate, gper, zoom_t, zoom_n, meta, zoom_w = rec
    double_buffering = meta[DOUBLE_BUFFERING] > 0
    t = clock[0]
    while True:
        if speculate or t < t_target:
            ended = _transitions(eng, t, phases, double_buffering)
            if ended >= 0:
                clock[0] = t
                return ended if speculate else -2
        if not speculate and t >= t_target:
            clock[0] = t
            return -1
        n, rmin, tph, w = _scan(eng, phases[3])
        if n == 0 and tph == INF and speculate:
            return -1
        y0, ttr = 0.0, INF
        if n > 0:
            y0 = _cum(edges, cum, rate, per, n, period, t)
            ttr = max(_inv(edges, cum, rate, per, n, period, y0 + rmin), t)
        t_next = min(ttr, tph)
        if not speculate and t_next > t_target:
            t_next, ttr = t_target, INF
        dy = rmin if t_next == ttr else (
            _cum(edges, cum, rate, per, n, period, t_next) - y0 if n > 0 else 0.0)
        _move(eng, dy, t_next, phases)
        if speculate:
            _keep(seg, meta, t, t_next, n, w, y0, dy, eng)
        else:
            _record(t, t_next, n, w, y0, dy, edges, cum, rate, per, period, bins, gcum, grate,
                    gper, zoom_t, zoom_n, zoom_w, meta)
        t = t_next


@njit(cache=True, inline="always", _nrt=False)
def _keep(seg, meta, t0, t1, n, w, y0, dy, eng):
    """A speculated step and the state after it, into seg (while there is room)."""
    i = int(meta[SEG_COUNT]) + 1
    if i < seg.shape[0]:
        row = seg[i]
        row[T0], row[T1], row[N], row[W], row[Y0], row[DY] = t0, t1, n, w, y0, dy
        _save(row, eng)
        meta[SEG_COUNT] = i


@njit(cache=True, inline="always", _nrt=False)
def _save(row, eng):
    columns = eng.shape[1]
    for e in range(eng.shape[0]):
        for j in range(columns):
            row[STATE + e * columns + j] = eng[e, j]


@njit(cache=True, inline="always", _nrt=False)
def _same(row, eng):
    columns = eng.shape[1]
    for e in range(eng.shape[0]):
        for j in range(columns):
            if row[STATE + e * columns + j] != eng[e, j]:
                return False
    return True


@njit(cache=True, _nrt=False)
def _replay(eng, clock, t, band, rec, seg):
    """Commit towards t the speculated steps that end by t, as `run` would step them: record
    them and take the state after the last. Only when the speculation started from the
    present state; the speculation is spent either way."""
    edges, cum, rate, per, period = band
    bins, gcum, grate, gper, zoom_t, zoom_n, meta, zoom_w = rec
    count = int(meta[SEG_COUNT])
    meta[SEG_COUNT] = 0
    if count == 0 or seg[0, T0] != clock[0] or not _same(seg[0], eng):
        return
    k = 0
    while k < count and seg[k + 1, T0] < t and seg[k + 1, T1] <= t:
        r = seg[k + 1]
        _record(r[T0], r[T1], int(r[N]), r[W], r[Y0], r[DY], edges, cum, rate, per, period,
                bins, gcum, grate, gper, zoom_t, zoom_n, zoom_w, meta)
        k += 1
    if k > 0:
        _load(eng, seg[k])
        clock[0] = seg[k, T1]


@njit(cache=True, inline="always", _nrt=False)
def _load(eng, row):
    columns = eng.shape[1]
    for e in range(eng.shape[0]):
        for j in range(columns):
            eng[e, j] = row[STATE + e * columns + j]


@njit(cache=True, _nrt=False)
def _event(eng, clock, t, e_begin, plan, e_end, band, phases, rec, seg):
    """One pool event at t: commit the state to t, start `plan` on e_begin and/or end e_end's
    batch (-1: none), then speculate. Returns (engine, instant) of the next batch end, engine
    -1 when none is busy; -2 when the caller's end does not match the simulation."""
    _replay(eng, clock, t, band, rec, seg)
    if run(eng, clock, t, False, band, phases, rec, seg) == -2:
        return -2, t
    meta = rec[6]
    double_buffering = meta[DOUBLE_BUFFERING] > 0
    if e_end >= 0:
        if _transitions(eng, t, phases, double_buffering) != e_end:
            return -2, t
        eng[e_end, PLAN] = -1.0
    if e_begin >= 0:
        start(eng, e_begin, plan, t, phases, double_buffering)
    seg[0, T0] = clock[0]
    _save(seg[0], eng)  # the speculation steps eng itself, which is restored from here
    meta[SPEC_CLOCK] = clock[0]
    ended = run(eng, meta[SPEC_CLOCK:SPEC_CLOCK + 1], INF, True, band, phases, rec, seg)
    _load(eng, seg[0])
    return ended, meta[SPEC_CLOCK]


@njit(cache=True, inline="always", _nrt=False)
def _vec(const, layout, part):
    o = layout[3 * part]
    return const[o:o + layout[3 * part + 1] * layout[3 * part + 2]]


@njit(cache=True, inline="always", _nrt=False)
def _mat(const, layout, part):
    return _vec(const, layout, part).reshape((layout[3 * part + 1], layout[3 * part + 2]))


@njit(cache=True, _nrt=False)
def step(eng, meta, zoom, bins, seg, const, layout, t, e_begin, plan, e_end):
    """`_event` on the packed arrays (see the module docstring)."""
    band = (_vec(const, layout, EDGES), _mat(const, layout, CUM), _mat(const, layout, RATE),
            _vec(const, layout, PER), const[layout[3 * PERIOD]])
    phases = (_vec(const, layout, C), _vec(const, layout, D), layout[3 * PARTS:],
              _vec(const, layout, A))
    rec = (bins, _mat(const, layout, GCUM), _mat(const, layout, GRATE), _vec(const, layout, GPER),
           zoom[0], zoom[1], meta, zoom[2])
    return _event(eng, meta[CLOCK:CLOCK + 1], t, e_begin, plan, e_end, band, phases, rec, seg)


GROW = -3  # advance: the bins end before the next step; grow them and call again


@njit(cache=True, _nrt=False)
def advance(eng, clock, limit, band, phases, rec):
    """Step the state forward, recording, while the next step ends at or before `limit`:
    the steps `run` takes between two of the pool's instants, whatever those turn out to be.
    Returns the first engine whose batch ends (the state left at that instant, as `step`
    leaves it for the end), -1 when the next step ends after `limit` or nothing is busy (the
    caller commits with `run` when a batch starts there; a clock of two elements then holds
    that step's end in clock[1], inf when nothing is busy), or GROW."""
    edges, cum, rate, per, period = band
    bins, gcum, grate, gper, zoom_t, zoom_n, meta, zoom_w = rec
    double_buffering = meta[DOUBLE_BUFFERING] > 0
    t = clock[0]
    while True:
        ended = _transitions(eng, t, phases, double_buffering)
        if ended >= 0:
            clock[0] = t
            return ended
        n, rmin, tph, w = _scan(eng, phases[3])
        y0, ttr = 0.0, INF
        if n > 0:
            y0 = _cum(edges, cum, rate, per, n, period, t)
            ttr = max(_inv(edges, cum, rate, per, n, period, y0 + rmin), t)
        t_next = min(ttr, tph)
        if t_next > limit or t_next == INF:
            clock[0] = t
            if clock.shape[0] > 1:  # the caller may keep when this state's next step ends
                clock[1] = t_next
            return -1
        if t_next >= (bins.shape[0] - 2) * meta[BIN_S]:
            clock[0] = t
            return GROW
        dy = rmin if t_next == ttr else (
            _cum(edges, cum, rate, per, n, period, t_next) - y0 if n > 0 else 0.0)
        _move(eng, dy, t_next, phases)
        _record(t, t_next, n, w, y0, dy, edges, cum, rate, per, period, bins, gcum, grate,
                gper, zoom_t, zoom_n, zoom_w, meta)
        t = t_next
