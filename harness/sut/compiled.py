"""The load generator and the serving pool compiled: one numba call runs a whole simulated run.

This is harness.loadgen.LoadGen, harness.engine.Environment and harness.sut.pool.ServicePool
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
"""

from __future__ import annotations

import numpy as np
from numba import njit

from harness.accel import fluid

ISSUE_OPEN, ISSUE_CLOSED, FINISH, FLUSH, TIMER = 0, 1, 2, 3, 4   # event kinds
DRAWS, ALONE, SHARED = 0, 1, 2                                  # how a batch's time is known
# integer configuration
SERVERS, MAX_BATCH, SPQ, COUNT, LAST, MIN_QUERIES, MAX_COUNT, CLOSED, OFFLINE, EAGER, \
    SERVICE, WHOLE_SCHEDULE = range(12)
# float configuration
TIMEOUT, MAX_TIME, TARGET_S, MEAN_S, PER_SAMPLE_S = range(5)
# integer state
HEAD, TAIL, IDLE, ISSUED, ISSUING, FLUSHED, BATCHES, SEQ, END_SEQ, HEAP, LOG, SC, RAN_OUT, \
    DRAW, REPORTS, TIMER_SEQ, ABORTED = range(17)
# float state
NOW, TIMER_AT, BUSY, BUSY_ACC = range(4)
INF = np.inf


# ---------------------------------------------------------------- the event heap


@njit(cache=True, inline="always")
def _before(t1, s1, t2, s2):
    return t1 < t2 or (t1 == t2 and s1 < s2)


@njit(cache=True)
def _push(heap, S, F, time, kind, arg):
    """Environment.at: never earlier than now; numbered in push order."""
    i = S[HEAP]
    S[HEAP] += 1
    heap[i, 0], heap[i, 1], heap[i, 2], heap[i, 3] = max(time, F[NOW]), S[SEQ], kind, arg
    S[SEQ] += 1
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(heap[i, 0], heap[i, 1], heap[parent, 0], heap[parent, 1]):
            break
        for c in range(4):
            heap[i, c], heap[parent, c] = heap[parent, c], heap[i, c]
        i = parent


@njit(cache=True)
def _pop(heap, S):
    S[HEAP] -= 1
    last = S[HEAP]
    for c in range(4):
        heap[0, c] = heap[last, c]
    i = 0
    while True:
        small, left = i, 2 * i + 1
        for child in (left, left + 1):
            if child < last and _before(heap[child, 0], heap[child, 1], heap[small, 0], heap[small, 1]):
                small = child
        if small == i:
            return
        for c in range(4):
            heap[i, c], heap[small, c] = heap[small, c], heap[i, c]
        i = small


# ---------------------------------------------------------------- the shared DRAM


@njit(cache=True)
def _fluid_until(limit, S, dram):
    """The engine whose batch ends first at or before `limit` (the state left there), else
    -1; ABORTED when the bins run out."""
    eng, clock, band, phases, rec = dram[0], dram[1], dram[2], dram[3], dram[4]
    ended = fluid.advance(eng, clock, limit, band, phases, rec)
    if ended == fluid.GROW:
        S[ABORTED] = 1
        return -1
    return ended


@njit(cache=True)
def _commit(now, S, dram):
    """JointDram._step's commit of the state to `now` (a batch starts or ends there)."""
    eng, clock, band, phases, rec = dram[0], dram[1], dram[2], dram[3], dram[4]
    if now >= (rec[0].shape[0] - 2) * rec[6][fluid.BIN_S]:
        S[ABORTED] = 1
        return
    fluid.run(eng, clock, now, False, band, phases, rec)


@njit(cache=True)
def _plan_id(e, size, dram):
    """JointDram.plan_id: the first batch on an engine loads its resident weights (cold)."""
    resident, warm = dram[5], dram[6]
    cold = resident[size - 1] and not warm[e]
    warm[e] = True
    return 2 * (size - 1) + int(cold)


@njit(cache=True)
def _begin(e, size, now, S, dram):
    plan = _plan_id(e, size, dram)
    _commit(now, S, dram)
    fluid.start(dram[0], e, plan, now, dram[3], dram[4][6][fluid.DOUBLE_BUFFERING] > 0)
    return plan


@njit(cache=True)
def _log(e, start, end, size, plan, S, log):
    i = S[LOG]
    if i >= log.shape[0]:
        S[ABORTED] = 1
        return
    log[i, 0], log[i, 1], log[i, 2], log[i, 3], log[i, 4] = e, start, end, size, plan
    S[LOG] += 1


@njit(cache=True)
def _alone(e, size, start, S, dram, log):
    """AcceleratorSUT._alone: one engine, so the batch's end is known at its start."""
    plan = _begin(e, size, start, S, dram)
    if S[ABORTED]:
        return 0.0
    _fluid_until(INF, S, dram)
    end = dram[1][0]
    dram[0][e, fluid.PLAN] = -1.0
    _log(e, start, end, size, plan, S, log)
    return end - start


@njit(cache=True)
def _service(e, size, start, C, Fc, S, draws, dram, log):
    """A batch's duration where it is known at its start (ServiceSampler, or one engine)."""
    if C[SERVICE] == ALONE:
        return _alone(e, size, start, S, dram, log)
    base = Fc[MEAN_S]
    if draws.shape[0] > 0:
        if S[DRAW] >= draws.shape[0]:
            S[ABORTED] = 1
            return 0.0
        base = draws[S[DRAW]]
        S[DRAW] += 1
    return base + Fc[PER_SAMPLE_S] * (size - 1)


# ---------------------------------------------------------------- the load generator


@njit(cache=True)
def _complete(q, n, time, C, S, F, lg, heap):
    """LoadGen.complete: n samples of query q done at `time`."""
    scheduled, issued, completed, remaining, latest, sc = lg
    S[REPORTS] += 1
    at = time
    left = remaining[q] - n
    remaining[q] = left
    if C[SPQ] > 1:
        if time < latest[q]:
            time = latest[q]
        latest[q] = time
        if C[OFFLINE]:
            sc[S[SC], 0], sc[S[SC], 1] = at, n
            S[SC] += 1
    if left == 0:
        completed[q] = time
        if C[CLOSED] and S[ISSUING]:
            _push(heap, S, F, time, ISSUE_CLOSED, 0)


@njit(cache=True)
def _complete_range(s0, s1, time, C, S, F, lg, heap):
    spq = C[SPQ]
    for q in range(s0 // spq, (s1 - 1) // spq + 1):
        n = min(s1, (q + 1) * spq) - max(s0, q * spq)
        _complete(q, n, time, C, S, F, lg, heap)


@njit(cache=True)
def _stop_issuing(S, F, heap):
    if S[ISSUING]:
        S[ISSUING] = 0
        _push(heap, S, F, F[NOW], FLUSH, 0)


@njit(cache=True)
def _issue_closed(C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """LoadGen._issue_closed."""
    if not S[ISSUING]:
        return
    q = S[ISSUED]
    if q >= C[COUNT]:
        S[RAN_OUT] = 1
        _stop_issuing(S, F, heap)
        return
    lg[0][q], lg[1][q] = F[NOW], F[NOW]
    S[ISSUED] = q + 1
    _issue(q, C, Fc, S, F, lg, heap, pool, draws, dram, log)
    met = S[ISSUED] >= C[MIN_QUERIES] and F[NOW] >= Fc[TARGET_S]
    if met or S[ISSUED] >= C[MAX_COUNT] or F[NOW] >= Fc[MAX_TIME]:
        _stop_issuing(S, F, heap)


@njit(cache=True)
def _due(t, S, F, heap, dram):
    """Environment.advance's refusal: an event at or before t (a batch end among them)."""
    if S[HEAP] > 0 and heap[0, 0] <= t:
        return True
    if F[TIMER_AT] <= t:  # NaN (no timer) compares False
        return True
    return S[END_SEQ] >= 0 and _fluid_until(t, S, dram) >= 0


@njit(cache=True)
def _issue_open(q, offsets, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """LoadGen._issue_open: runs of queries without the heap."""
    while True:
        lg[0][q], lg[1][q] = offsets[q], F[NOW]
        S[ISSUED] = q + 1
        _issue(q, C, Fc, S, F, lg, heap, pool, draws, dram, log)
        if q >= C[LAST] or F[NOW] >= Fc[MAX_TIME]:
            if C[WHOLE_SCHEDULE]:  # ServicePool.issue_schedule adds its busy time once
                F[BUSY] += F[BUSY_ACC]
            _stop_issuing(S, F, heap)
            return
        q += 1
        if _due(offsets[q], S, F, heap, dram):
            _push(heap, S, F, offsets[q], ISSUE_OPEN, q)
            return
        if S[ABORTED]:
            return
        if offsets[q] > F[NOW]:
            F[NOW] = offsets[q]


# ---------------------------------------------------------------- the serving pool


@njit(cache=True)
def _issue(q, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """ServicePool.issue."""
    if C[EAGER]:
        _issue_eager(q, C, Fc, S, F, lg, heap, pool, draws, dram, log)
        return
    S[TAIL] += C[SPQ]
    if S[IDLE] > 0:
        _dispatch(C, Fc, S, F, lg, heap, pool, draws, dram, log)


@njit(cache=True)
def _issue_eager(q, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """ServicePool._issue_eager: each sample on the earliest free engine (a heap of
    (ready, engine))."""
    free = pool[2]
    busy = 0.0
    for _ in range(C[SPQ]):
        ready, e = free[0, 0], int(free[0, 1])
        start = ready if ready > F[NOW] else F[NOW]
        duration = _service(e, 1, start, C, Fc, S, draws, dram, log)
        free[0, 0] = start + duration
        _sift_free(free)
        busy += duration
        _complete(q, 1, start + duration, C, S, F, lg, heap)
    if C[WHOLE_SCHEDULE]:
        F[BUSY_ACC] += busy
    else:
        F[BUSY] += busy
    S[BATCHES] += C[SPQ]


@njit(cache=True)
def _sift_free(free):
    """Restore the (ready, engine) min-heap after its top grew (heapq.heapreplace)."""
    i, n = 0, free.shape[0]
    while True:
        small, left = i, 2 * i + 1
        for child in (left, left + 1):
            if child < n and _before(free[child, 0], free[child, 1], free[small, 0], free[small, 1]):
                small = child
        if small == i:
            return
        for c in range(2):
            free[i, c], free[small, c] = free[small, c], free[i, c]
        i = small


@njit(cache=True)
def _final(C, S):
    return S[FLUSHED] or C[CLOSED] or not S[ISSUING]


@njit(cache=True)
def _dispatch(C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """ServicePool._dispatch."""
    idle = pool[0]
    while S[IDLE] > 0 and S[TAIL] > S[HEAD] and not S[ABORTED]:
        waiting = S[TAIL] - S[HEAD]
        final = _final(C, S)
        deadline = lg[1][S[HEAD] // C[SPQ]] + Fc[TIMEOUT]
        if not (waiting >= C[MAX_BATCH] or final or F[NOW] >= deadline):
            if F[TIMER_AT] != deadline:  # _arm_timer (NaN: none armed)
                F[TIMER_AT] = deadline
                S[TIMER_SEQ] = S[SEQ]
                S[SEQ] += 1
            return
        size = C[MAX_BATCH]
        if not (waiting >= C[MAX_BATCH] * S[IDLE] or not final):
            size = -(-waiting // S[IDLE])
        S[IDLE] -= 1
        e = idle[S[IDLE]]
        s0 = S[HEAD]
        s1 = s0 + min(size, waiting)
        S[HEAD] = s1
        _start_batch(e, s0, s1, C, Fc, S, F, heap, pool, draws, dram, log)


@njit(cache=True)
def _start_batch(e, s0, s1, C, Fc, S, F, heap, pool, draws, dram, log):
    """ServicePool._start_batch: shared engines learn their end later (END_SEQ); the others
    at once (a FINISH event)."""
    runs = pool[1]
    runs[e, 0], runs[e, 1], runs[e, 2] = s0, s1, F[NOW]
    S[BATCHES] += 1
    if C[SERVICE] == SHARED:
        runs[e, 3] = _begin(e, s1 - s0, F[NOW], S, dram)
        S[END_SEQ] = S[SEQ]  # _expect: a batch is running, so an end is predicted
        S[SEQ] += 1
        return
    duration = _service(e, s1 - s0, F[NOW], C, Fc, S, draws, dram, log)
    F[BUSY] += duration
    _push(heap, S, F, F[NOW] + duration, FINISH, e)


@njit(cache=True)
def _finish(e, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """ServicePool._finish."""
    runs, idle = pool[1], pool[0]
    _complete_range(int(runs[e, 0]), int(runs[e, 1]), F[NOW], C, S, F, lg, heap)
    idle[S[IDLE]] = e
    S[IDLE] += 1
    _dispatch(C, Fc, S, F, lg, heap, pool, draws, dram, log)


@njit(cache=True)
def _on_end(e, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """ServicePool._on_end with AcceleratorSUT.end: the fluid state is already at the end."""
    runs, eng = pool[1], dram[0]
    F[BUSY] += F[NOW] - runs[e, 2]
    eng[e, fluid.PLAN] = -1.0
    busy = False
    for k in range(eng.shape[0]):
        busy = busy or eng[k, fluid.PLAN] >= 0
    S[END_SEQ] = S[SEQ] if busy else -1
    S[SEQ] += int(busy)
    _log(e, runs[e, 2], F[NOW], int(runs[e, 1] - runs[e, 0]), int(runs[e, 3]), S, log)
    _finish(e, C, Fc, S, F, lg, heap, pool, draws, dram, log)


# ---------------------------------------------------------------- the run


@njit(cache=True)
def _next(S, F, heap):
    """The next heap entry or the timer, whichever Environment would pop first:
    (exists, time, sequence, is_timer)."""
    t, seq, timer = INF, -1, False
    if S[HEAP] > 0:
        t, seq = heap[0, 0], int(heap[0, 1])
    if F[TIMER_AT] == F[TIMER_AT] and (seq < 0 or _before(F[TIMER_AT], S[TIMER_SEQ], t, seq)):
        t, seq, timer = F[TIMER_AT], S[TIMER_SEQ], True
    return seq >= 0, t, seq, timer


@njit(cache=True)
def _event(kind, arg, offsets, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    if kind == ISSUE_OPEN:
        _issue_open(arg, offsets, C, Fc, S, F, lg, heap, pool, draws, dram, log)
    elif kind == ISSUE_CLOSED:
        _issue_closed(C, Fc, S, F, lg, heap, pool, draws, dram, log)
    elif kind == FINISH:
        _finish(arg, C, Fc, S, F, lg, heap, pool, draws, dram, log)
    elif kind == FLUSH:
        S[FLUSHED] = 1
        if not C[EAGER]:
            _dispatch(C, Fc, S, F, lg, heap, pool, draws, dram, log)
    else:  # TIMER
        F[TIMER_AT] = np.nan
        _dispatch(C, Fc, S, F, lg, heap, pool, draws, dram, log)


@njit(cache=True)
def run(offsets, C, Fc, S, F, lg, heap, pool, draws, dram, log):
    """Environment.run over LoadGen.run's events; S[ABORTED] = 1 when a buffer ran out."""
    _push(heap, S, F, 0.0, ISSUE_CLOSED if C[CLOSED] else ISSUE_OPEN, 0)
    while not S[ABORTED]:
        exists, t, seq, timer = _next(S, F, heap)
        if S[END_SEQ] >= 0:
            e = _fluid_until(t, S, dram)
            if S[ABORTED]:
                return
            end_t = dram[1][0]
            if e >= 0 and (not exists or _before(end_t, S[END_SEQ], t, seq)):
                F[NOW] = max(F[NOW], end_t)
                _on_end(e, C, Fc, S, F, lg, heap, pool, draws, dram, log)
                continue
        if not exists:
            return
        kind, arg = TIMER, 0
        if not timer:
            kind, arg = int(heap[0, 2]), int(heap[0, 3])
            _pop(heap, S)
        if t > F[NOW]:
            F[NOW] = t
        _event(kind, arg, offsets, C, Fc, S, F, lg, heap, pool, draws, dram, log)
