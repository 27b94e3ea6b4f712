"""The load generator and the serving pool compiled: one numba call runs a whole simulated run.

This is harness.measure.loadgen.LoadGen, harness.measure.engine.Environment and harness.sut.pool.ServicePool
ported operation for operation, so the records are bit-identical to the event engine's (which
stays the reference: tests/test_compiled.py checks the identity for every scenario and preset).
The pieces of the port, with what they keep from the Python code:

* the event heap: entries (time, sequence, kind, argument) in the order Environment pops
  them, every push numbered as Environment numbers it;
* two events are slots instead of heap entries, as only the latest of each can act: the
  batching timer (ServicePool._arm_timer: a timer whose deadline is no longer `timer_at` does
  nothing) and the shared engines' next batch end (ServicePool._expect: an end whose version is
  stale does nothing). A stale entry left out of the heap changes nothing but how often
  `Environment.advance` declines, which only decides whether an issue is deferred to an event
  at the same instant - the same records either way;
* the next batch end of engines sharing the DRAM is not speculated: the fluid simulation
  (harness.accel.fluid.advance) steps forward to the next pool event and reports an end
  before it, with exactly the steps and cuts that JointDram's begin/end commit;
* the queue: queries are issued in id order and leave FIFO, so waiting samples are a range
  [head, tail) of sample numbers (query q owns q * spq .. q * spq + spq - 1) and a batch is
  such a range.

A kernel that would record DRAM bins past its buffer stops (ABORTED) and is run again from the
start with a larger one; nothing is approximated.

State lives in a few packed arrays (I, R, P, the DRAM's four, LoadGen's own) because a call
between compiled functions costs in proportion to the arrays it passes. Every function is
compiled without numba's reference counting (`_nrt=False`, as harness/accel/fluid.py): none
allocates, and the Python caller of `run` holds every array, so the atomic increments and
decrements numba would otherwise emit around each array handed to a call are pure overhead:
npu_v2's 600 s server kernel 0.82 -> 0.46 s, the records bit for bit the same (an earlier
version passed views without a reference instead, which left part of that cost). For the same
reason the functions on the per-query and per-batch paths are inlined into their callers at
numba's level (`inline="always"`): 1.30 -> 0.69 s before that, for about 30 s of compilation
once per machine (cached after; inlining the heap and the rest gained nothing and cost 12 s
more). numba keys this file's cached machine code on this file alone, though the kernel
compiles harness/accel/fluid.py's functions into it: `drop_stale_cache` removes it when fluid.py
is newer.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from harness.accel import fluid
from harness.jit import njit

ISSUE_OPEN, ISSUE_CLOSED, FINISH, FLUSH, TIMER = 0, 1, 2, 3, 4   # event kinds
DRAWS, ALONE, SHARED = 0, 1, 2                                  # how a batch's time is known
# I (int64): the configuration, then the state
SERVERS, MAX_BATCH, SPQ, COUNT, LAST, MIN_QUERIES, MAX_COUNT, CLOSED, OFFLINE, EAGER, \
    SERVICE, WHOLE_SCHEDULE, HEAD, TAIL, IDLE, ISSUED, ISSUING, FLUSHED, BATCHES, SEQ, END_SEQ, \
    HEAP, LOG, SC, RAN_OUT, DRAW, REPORTS, TIMER_SEQ, ABORTED = range(29)
# R (float64): the configuration, then the state
TIMEOUT, MAX_TIME, TARGET_S, MEAN_S, PER_SAMPLE_S, NOW, TIMER_AT, BUSY, BUSY_ACC = range(9)
# lg: LoadGen's own arrays (scheduled, issued, completed, remaining, latest: empty when a query
# has one sample); P (float64, a row per engine): the pool's
IDLE_E, RUN_S0, RUN_S1, RUN_START, RUN_PLAN, FREE_T, FREE_E = range(7)
# the shared DRAM: (eng with a sixth column WARM, clock [t, the next end or the end of the
# pending step or NaN, the engine ending then or -1] (_fluid_until),
# fl: every float array of JointDram's band, phases and records end to end, di: where each
# starts (PIECES), then the dimensions (DIMS), the phases' first indices and `resident`)
WARM = 5
PIECES = ("edges", "cum", "rate", "per", "period", "c", "d", "a", "bins", "gcum", "grate",
          "gper", "zoom_t", "zoom_n", "meta", "zoom_w")
E_, N1_, ROWS_, COLS_, G_, FIRST_AT, RESIDENT_AT = range(16, 23)
INF = np.inf


# ---------------------------------------------------------------- the event heap


@njit(cache=True, inline="always", _nrt=False)
def _before(t1, s1, t2, s2):
    return t1 < t2 or (t1 == t2 and s1 < s2)


@njit(cache=True, _nrt=False)
def _push(heap, I, R, time, kind, arg):
    """Environment.at: never earlier than now; numbered in push order."""
    i = I[HEAP]
    I[HEAP] += 1
    heap[i, 0], heap[i, 1], heap[i, 2], heap[i, 3] = max(time, R[NOW]), I[SEQ], kind, arg
    I[SEQ] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(heap[i, 0], heap[i, 1], heap[parent, 0], heap[parent, 1]):
            break
        for c in range(4):
            heap[i, c], heap[parent, c] = heap[parent, c], heap[i, c]
        i = parent


@njit(cache=True, _nrt=False)
def _sift_down(a, n, c0, width):
    """Restore a min-heap of (a[i, c0], a[i, c0 + 1]) rows 0..n-1 whose top grew."""
    i = 0
    while True:
        small, left = i, 2 * i + 1
        for child in (left, left + 1):
            if child < n and _before(a[child, c0], a[child, c0 + 1], a[small, c0], a[small, c0 + 1]):
                small = child
        if small == i:
            return
        for c in range(c0, c0 + width):
            a[i, c], a[small, c] = a[small, c], a[i, c]
        i = small


@njit(cache=True, _nrt=False)
def _pop(heap, I):
    I[HEAP] -= 1
    last = I[HEAP]
    for c in range(4):
        heap[0, c] = heap[last, c]
    _sift_down(heap, last, 0, 4)


# ---------------------------------------------------------------- the shared DRAM


@intrinsic
def _matrix(typingctx, flat, start, rows, cols):
    """flat[start:start + rows * cols] as a C-contiguous rows x cols view: what reshape gives,
    without its call into numba's helper library (a tenth of the kernel's time went to building
    these views)."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"):
        return None
    matrix = types.Array(flat.dtype, 2, "C")

    def codegen(context, builder, signature, args):
        source = context.make_array(flat)(context, builder, args[0])
        start, rows, cols = (context.cast(builder, v, t, types.intp)
                             for v, t in zip(args[1:], signature.args[1:]))
        view = context.make_array(matrix)(context, builder)
        itemsize = source.itemsize
        populate_array(view, data=builder.gep(source.data, [start]),
                       shape=cgutils.pack_array(builder, [rows, cols]),
                       strides=cgutils.pack_array(builder, [builder.mul(cols, itemsize), itemsize]),
                       itemsize=itemsize, meminfo=cgutils.get_null_value(view.meminfo.type))
        return view._getvalue()
    return matrix(flat, start, rows, cols), codegen


@njit(cache=True, inline="always", _nrt=False)
def _views(dram):
    """JointDram's (band, phases, rec) tuples as views of the packed arrays."""
    fl, di = dram[2], dram[3]
    e, n1, rows, cols, g = di[E_], di[N1_], di[ROWS_], di[COLS_], di[G_]
    o = di[:16]
    band = (fl[o[0]:o[1]], _matrix(fl, o[1], n1, e), _matrix(fl, o[2], n1, e - 1),
            fl[o[3]:o[4]], fl[o[4]])
    first = di[di[FIRST_AT]:di[RESIDENT_AT]]
    phases = (fl[o[5]:o[6]], fl[o[6]:o[7]], first, fl[o[7]:o[8]])
    rec = (_matrix(fl, o[8], rows, cols), _matrix(fl, o[9], g, e),
           _matrix(fl, o[10], g, e - 1), fl[o[11]:o[12]], fl[o[12]:o[13]],
           fl[o[13]:o[14]], fl[o[14]:o[15]], fl[o[15]:])
    return band, phases, rec


@njit(cache=True, inline="always", _nrt=False)
def _fluid_until(limit, I, dram):
    """The engine whose batch ends first at or before `limit` (the state left there), else
    -1; ABORTED when the bins run out. What the last call learnt saves the next: the next end
    (clock[1], engine clock[2]) or the end of the pending step (clock[2] = -1), until a batch
    starts or ends. With no engine idle no batch can start before the next end, so nothing
    cuts the steps up to it: they are taken at once."""
    clock = dram[1]
    if clock[1] == clock[1]:  # known (NaN: not)
        if clock[2] >= 0:
            return int(clock[2]) if clock[1] <= limit else -1
        if clock[1] > limit:
            return -1
    band, phases, rec = _views(dram)
    reach = INF if I[IDLE] == 0 else limit
    ended = fluid.advance(dram[0], clock, reach, band, phases, rec)
    if ended == fluid.GROW:
        I[ABORTED] = 1
        return -1
    if ended < 0:
        clock[2] = -1.0
        return -1
    clock[1], clock[2] = clock[0], ended
    return ended if clock[0] <= limit else -1


@njit(cache=True, inline="always", _nrt=False)
def _begin(e, size, now, I, dram):
    """AcceleratorSUT.begin: the plan (the first batch on an engine loads its resident
    weights: cold), JointDram's commit of the state to `now`, the batch's start."""
    eng, clock, di = dram[0], dram[1], dram[3]
    cold = di[di[RESIDENT_AT] + size - 1] > 0 and eng[e, WARM] == 0
    eng[e, WARM] = 1.0
    plan = 2 * (size - 1) + int(cold)
    band, phases, rec = _views(dram)
    if now >= (rec[0].shape[0] - 2) * rec[6][fluid.BIN_S]:
        I[ABORTED] = 1
        return plan
    fluid.run(eng, clock, now, False, band, phases, rec, eng)  # a commit keeps no steps: any
    # 2-D array serves as fluid.run's `seg`
    fluid.start(eng, e, plan, now, phases, rec[6][fluid.DOUBLE_BUFFERING] > 0)
    clock[1], clock[2] = np.nan, -1.0
    return plan


@njit(cache=True, inline="always", _nrt=False)
def _end(e, dram):
    """JointDram.end, the state already stepped to the end: the engine is idle."""
    dram[0][e, fluid.PLAN] = -1.0
    dram[1][1], dram[1][2] = np.nan, -1.0


@njit(cache=True, inline="always", _nrt=False)
def _log(e, start, end, size, plan, I, log):
    i = I[LOG]
    if i >= log.shape[0]:
        I[ABORTED] = 1
        return
    log[i, 0], log[i, 1], log[i, 2], log[i, 3], log[i, 4] = e, start, end, size, plan
    I[LOG] += 1


@njit(cache=True, _nrt=False)
def _alone(e, size, start, I, dram, log):
    """AcceleratorSUT._alone: one engine, so the batch's end is known at its start."""
    plan = _begin(e, size, start, I, dram)
    if I[ABORTED]:
        return 0.0
    _fluid_until(INF, I, dram)
    end = dram[1][0]
    _end(e, dram)
    _log(e, start, end, size, plan, I, log)
    return end - start


@njit(cache=True, inline="always", _nrt=False)
def _service(e, size, start, I, R, draws, dram, log):
    """A batch's duration where it is known at its start (ServiceSampler, or one engine)."""
    if I[SERVICE] == ALONE:
        return _alone(e, size, start, I, dram, log)
    duration, draw = _known(draws, I[DRAW], R[MEAN_S], R[PER_SAMPLE_S], size)
    if draw < 0:
        I[ABORTED] = 1
    else:
        I[DRAW] = draw
    return duration


@njit(cache=True, inline="always", _nrt=False)
def _known(draws, draw, mean_s, per_sample_s, size):
    """A batch's time when it is drawn beforehand (the next of `draws`) or fixed (the mean):
    (seconds, the next draw's index; -1 when the draws ran out and the run is redone with more)."""
    base = mean_s
    if draws.shape[0] > 0:
        if draw >= draws.shape[0]:
            return 0.0, -1
        base = draws[draw]
        draw += 1
    return base + per_sample_s * (size - 1), draw


# ---------------------------------------------------------------- the load generator


@njit(cache=True, inline="always", _nrt=False)
def _complete(q, n, time, I, R, lg, sc, heap):
    """LoadGen.complete: n samples of query q done at `time`."""
    I[REPORTS] += 1
    at = time
    left = lg[3][q] - n
    lg[3][q] = left
    if I[SPQ] > 1:
        if time < lg[4][q]:
            time = lg[4][q]
        lg[4][q] = time
        if I[OFFLINE]:
            sc[I[SC], 0], sc[I[SC], 1] = at, n
            I[SC] += 1
    if left == 0:
        lg[2][q] = time
        if I[CLOSED] and I[ISSUING]:
            _push(heap, I, R, time, ISSUE_CLOSED, 0)


@njit(cache=True, inline="always", _nrt=False)
def _complete_range(s0, s1, time, I, R, lg, sc, heap):
    spq = I[SPQ]
    for q in range(s0 // spq, (s1 - 1) // spq + 1):
        n = min(s1, (q + 1) * spq) - max(s0, q * spq)
        _complete(q, n, time, I, R, lg, sc, heap)


@njit(cache=True, _nrt=False)
def _stop_issuing(I, R, heap):
    if I[ISSUING]:
        I[ISSUING] = 0
        _push(heap, I, R, R[NOW], FLUSH, 0)


@njit(cache=True, _nrt=False)
def _issue_closed(I, R, lg, sc, heap, P, draws, dram, log):
    """LoadGen._issue_closed."""
    if not I[ISSUING]:
        return
    q = I[ISSUED]
    if q >= I[COUNT]:
        I[RAN_OUT] = 1
        _stop_issuing(I, R, heap)
        return
    lg[0][q], lg[1][q] = R[NOW], R[NOW]
    I[ISSUED] = q + 1
    _issue(q, I, R, lg, sc, heap, P, draws, dram, log)
    met = I[ISSUED] >= I[MIN_QUERIES] and R[NOW] >= R[TARGET_S]
    if met or I[ISSUED] >= I[MAX_COUNT] or R[NOW] >= R[MAX_TIME]:
        _stop_issuing(I, R, heap)


@njit(cache=True, inline="always", _nrt=False)
def _due(t, I, R, heap, dram):
    """Environment.advance's refusal: an event at or before t (a batch end among them)."""
    if I[HEAP] > 0 and heap[0, 0] <= t:
        return True
    if R[TIMER_AT] <= t:  # NaN (no timer) compares False
        return True
    return I[END_SEQ] >= 0 and _fluid_until(t, I, dram) >= 0


@njit(cache=True, inline="always", _nrt=False)
def _issue_open(q, offsets, I, R, lg, sc, heap, P, draws, dram, log):
    """LoadGen._issue_open: runs of queries without the heap."""
    while True:
        lg[0][q], lg[1][q] = offsets[q], R[NOW]
        I[ISSUED] = q + 1
        _issue(q, I, R, lg, sc, heap, P, draws, dram, log)
        if q >= I[LAST] or R[NOW] >= R[MAX_TIME]:
            if I[WHOLE_SCHEDULE]:  # ServicePool.issue_schedule adds its busy time once
                R[BUSY] += R[BUSY_ACC]
            _stop_issuing(I, R, heap)
            return
        q += 1
        if _due(offsets[q], I, R, heap, dram):
            _push(heap, I, R, offsets[q], ISSUE_OPEN, q)
            return
        if I[ABORTED]:
            return
        if offsets[q] > R[NOW]:
            R[NOW] = offsets[q]


# ---------------------------------------------------------------- the serving pool


@njit(cache=True, inline="always", _nrt=False)
def _issue(q, I, R, lg, sc, heap, P, draws, dram, log):
    """ServicePool.issue."""
    if I[EAGER]:
        _issue_eager(q, I, R, lg, sc, heap, P, draws, dram, log)
        return
    I[TAIL] += I[SPQ]
    if I[IDLE] > 0:
        _dispatch(I, R, lg, sc, heap, P, draws, dram, log)


@njit(cache=True, _nrt=False)
def _issue_eager(q, I, R, lg, sc, heap, P, draws, dram, log):
    """ServicePool._issue_eager: each sample on the earliest free engine (P's FREE columns:
    a heap of (ready, engine))."""
    busy = 0.0
    for _ in range(I[SPQ]):
        ready, e = P[0, FREE_T], int(P[0, FREE_E])
        start = ready if ready > R[NOW] else R[NOW]
        duration = _service(e, 1, start, I, R, draws, dram, log)
        P[0, FREE_T] = start + duration
        _sift_down(P, I[SERVERS], FREE_T, 2)
        busy += duration
        _complete(q, 1, start + duration, I, R, lg, sc, heap)
    if I[WHOLE_SCHEDULE]:
        R[BUSY_ACC] += busy
    else:
        R[BUSY] += busy
    I[BATCHES] += I[SPQ]


@njit(cache=True, inline="always", _nrt=False)
def _dispatch(I, R, lg, sc, heap, P, draws, dram, log):
    """ServicePool._dispatch (P's IDLE_E column: the idle engines' stack)."""
    while I[IDLE] > 0 and I[TAIL] > I[HEAD] and not I[ABORTED]:
        waiting = I[TAIL] - I[HEAD]
        final = I[FLUSHED] or I[CLOSED] or not I[ISSUING]
        deadline = lg[1][I[HEAD] // I[SPQ]] + R[TIMEOUT]
        if not (waiting >= I[MAX_BATCH] or final or R[NOW] >= deadline):
            if R[TIMER_AT] != deadline:  # _arm_timer (NaN: none armed)
                R[TIMER_AT] = deadline
                I[TIMER_SEQ] = I[SEQ]
                I[SEQ] += 1
            return
        size = I[MAX_BATCH]
        if not (waiting >= I[MAX_BATCH] * I[IDLE] or not final):
            size = -(-waiting // I[IDLE])
        I[IDLE] -= 1
        e = int(P[I[IDLE], IDLE_E])
        s0 = I[HEAD]
        s1 = s0 + min(size, waiting)
        I[HEAD] = s1
        _start_batch(e, s0, s1, I, R, heap, P, draws, dram, log)


@njit(cache=True, inline="always", _nrt=False)
def _start_batch(e, s0, s1, I, R, heap, P, draws, dram, log):
    """ServicePool._start_batch: shared engines learn their end later (END_SEQ); the others
    at once (a FINISH event)."""
    P[e, RUN_S0], P[e, RUN_S1], P[e, RUN_START] = s0, s1, R[NOW]
    I[BATCHES] += 1
    if I[SERVICE] == SHARED:
        P[e, RUN_PLAN] = _begin(e, s1 - s0, R[NOW], I, dram)
        I[END_SEQ] = I[SEQ]  # _expect: a batch is running, so an end is predicted
        I[SEQ] += 1
        return
    duration = _service(e, s1 - s0, R[NOW], I, R, draws, dram, log)
    R[BUSY] += duration
    _push(heap, I, R, R[NOW] + duration, FINISH, e)


@njit(cache=True, inline="always", _nrt=False)
def _finish(e, I, R, lg, sc, heap, P, draws, dram, log):
    """ServicePool._finish."""
    _complete_range(int(P[e, RUN_S0]), int(P[e, RUN_S1]), R[NOW], I, R, lg, sc, heap)
    P[I[IDLE], IDLE_E] = e
    I[IDLE] += 1
    _dispatch(I, R, lg, sc, heap, P, draws, dram, log)


@njit(cache=True, inline="always", _nrt=False)
def _on_end(e, I, R, lg, sc, heap, P, draws, dram, log):
    """ServicePool._on_end with AcceleratorSUT.end: the fluid state is already at the end."""
    eng = dram[0]
    R[BUSY] += R[NOW] - P[e, RUN_START]
    _end(e, dram)
    busy = False
    for k in range(eng.shape[0]):
        busy = busy or eng[k, fluid.PLAN] >= 0
    I[END_SEQ] = I[SEQ] if busy else -1
    I[SEQ] += int(busy)
    _log(e, P[e, RUN_START], R[NOW], int(P[e, RUN_S1] - P[e, RUN_S0]), int(P[e, RUN_PLAN]), I, log)
    _finish(e, I, R, lg, sc, heap, P, draws, dram, log)


# ---------------------------------------------------------------- the run


@njit(cache=True, _nrt=False)
def _next(I, R, heap):
    """The next heap entry or the timer, whichever Environment would pop first:
    (exists, time, sequence, is_timer)."""
    t, seq, timer = INF, -1, False
    if I[HEAP] > 0:
        t, seq = heap[0, 0], int(heap[0, 1])
    if R[TIMER_AT] == R[TIMER_AT] and (seq < 0 or _before(R[TIMER_AT], I[TIMER_SEQ], t, seq)):
        t, seq, timer = R[TIMER_AT], I[TIMER_SEQ], True
    return seq >= 0, t, seq, timer


@njit(cache=True, inline="always", _nrt=False)
def _event(kind, arg, offsets, I, R, lg, sc, heap, P, draws, dram, log):
    if kind == ISSUE_OPEN:
        _issue_open(arg, offsets, I, R, lg, sc, heap, P, draws, dram, log)
    elif kind == ISSUE_CLOSED:
        _issue_closed(I, R, lg, sc, heap, P, draws, dram, log)
    elif kind == FINISH:
        _finish(arg, I, R, lg, sc, heap, P, draws, dram, log)
    elif kind == FLUSH:
        I[FLUSHED] = 1
        if not I[EAGER]:
            _dispatch(I, R, lg, sc, heap, P, draws, dram, log)
    else:  # TIMER
        R[TIMER_AT] = np.nan
        _dispatch(I, R, lg, sc, heap, P, draws, dram, log)


@njit(cache=True, _nrt=False)
def _whole_schedule(offsets, I, R, lg, P, draws, dram, log):
    """LoadGen._issue_schedule into ServicePool.issue_schedule: one sample per query, each on
    the earliest free engine (the FIFO recursion), no event in between; then the flush."""
    if I[SERVERS] == 1 and I[SERVICE] == DRAWS:
        q, busy = _one_server_known_times(offsets, I, R, lg, P, draws)
    else:
        q, busy = _each_on_the_earliest_free(offsets, I, R, lg, P, draws, dram, log)
    I[ISSUED], I[REPORTS], I[BATCHES] = q + 1, q + 1, q + 1
    I[ISSUING], I[FLUSHED] = 0, 1
    R[BUSY], R[NOW] = busy, offsets[q]


@njit(cache=True, _nrt=False)
def _one_server_known_times(offsets, I, R, lg, P, draws):
    """_each_on_the_earliest_free for one server whose times are drawn beforehand or fixed:
    the same operations, with the state in locals (the arrays may alias, so the compiler
    otherwise reloads and stores every counter each query: 19x a plain loop, now 1.1x).
    harness.sut.fifo computes the same floats in numpy without loading numba; this takes the
    runs whose ends do not settle there (a long busy period)."""
    scheduled, issued, completed, remaining = lg[0], lg[1], lg[2], lg[3]
    last, max_time, mean, per = I[LAST], R[MAX_TIME], R[MEAN_S], R[PER_SAMPLE_S]
    ready, draw = P[0, FREE_T], I[DRAW]
    busy, q, aborted = 0.0, 0, False
    while True:
        now = offsets[q]
        scheduled[q], issued[q] = now, now
        start = ready if ready > now else now
        duration, following = _known(draws, draw, mean, per, 1)
        if following < 0:
            aborted = True   # as _service: this query's time is unknown, the run is redone
        else:
            draw = following
        ready = start + duration
        busy += duration
        remaining[q], completed[q] = 0, ready
        if q >= last or now >= max_time or aborted:
            break
        q += 1
    P[0, FREE_T], I[DRAW] = ready, draw
    if aborted:
        I[ABORTED] = 1
    return q, busy


@njit(cache=True, _nrt=False)
def _each_on_the_earliest_free(offsets, I, R, lg, P, draws, dram, log):
    busy, q = 0.0, 0
    while True:
        now = offsets[q]
        lg[0][q], lg[1][q] = now, now
        ready, e = P[0, FREE_T], int(P[0, FREE_E])
        start = ready if ready > now else now
        duration = _service(e, 1, start, I, R, draws, dram, log)
        P[0, FREE_T] = start + duration
        if I[SERVERS] > 1:
            _sift_down(P, I[SERVERS], FREE_T, 2)
        busy += duration
        lg[3][q], lg[2][q] = 0, start + duration
        if q >= I[LAST] or now >= R[MAX_TIME] or I[ABORTED]:
            break
        q += 1
    return q, busy


@njit(cache=True, nogil=True, _nrt=False)
def run(offsets, I, R, lg, sc, heap, P, draws, dram, log):
    """Environment.run over LoadGen.run's events, without holding the GIL; I[ABORTED] = 1 when
    a buffer ran out."""
    if I[WHOLE_SCHEDULE]:
        _whole_schedule(offsets, I, R, lg, P, draws, dram, log)
        return
    _push(heap, I, R, 0.0, ISSUE_CLOSED if I[CLOSED] else ISSUE_OPEN, 0)
    while not I[ABORTED]:
        exists, t, seq, timer = _next(I, R, heap)
        if I[END_SEQ] >= 0:
            e = _fluid_until(t, I, dram)
            if I[ABORTED]:
                return
            end_t = dram[1][0]
            if e >= 0 and (not exists or _before(end_t, I[END_SEQ], t, seq)):
                R[NOW] = max(R[NOW], end_t)
                _on_end(e, I, R, lg, sc, heap, P, draws, dram, log)
                continue
        if not exists:
            return
        kind, arg = TIMER, 0
        if not timer:
            kind, arg = int(heap[0, 2]), int(heap[0, 3])
            _pop(heap, I)
        if t > R[NOW]:
            R[NOW] = t
        _event(kind, arg, offsets, I, R, lg, sc, heap, P, draws, dram, log)


def drop_stale_cache() -> None:
    """Remove this file's cached kernel when harness/accel/fluid.py changed after it was cached
    (numba checks only this file's stamp)."""
    folder = Path(run._cache._cache_path)
    changed = os.stat(fluid.__file__).st_mtime
    for path in folder.glob(f"{Path(__file__).stem}.*.nb[ic]"):
        if path.stat().st_mtime < changed:
            path.unlink(missing_ok=True)
