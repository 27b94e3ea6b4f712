"""`servers` engines behind one FIFO queue with dynamic batching, in virtual time.

Shared by every simulated SUT; only the service time differs (a distribution for the synthetic
SUT, the hardware model for the accelerator). A batch is dispatched to an idle engine when
`max_batch` samples wait, when the oldest waiting sample has waited `timeout_s`, or as soon as
no further sample can arrive before that timeout: the load generator waits for a completion
before it issues again (single-stream and multi-stream are closed loops, and every sample of
their outstanding query is already queued) or has issued everything (a flush). A batch that
goes because nothing more can come is spread over the idle engines: the waiting samples split
as evenly as possible, at most `max_batch` each, which finishes the query soonest when a batch
takes longer the more samples it holds. A full or timed-out batch fills one engine
(`max_batch` samples), which keeps the other engines free for the samples still to come.

With `max_batch = 1` and service times known at a batch's start, no dispatch decision depends
on later arrivals, so each sample's start is known when it arrives — max(arrival, earliest free
engine), the FIFO recursion of Kiefer and Wolfowitz — and the pool reports the completion ahead
of time without queue events. Both paths give identical results (tests/test_pool.py checks
this).

Engines that share a resource (the accelerator's DRAM) do not know a batch's duration when it
starts: another engine's start or end changes it. Such a SUT passes `shared` (`Shared`): the
pool tells it every start and end and schedules the one next end it predicts, dropping that
prediction (a version counter) when a later start or end changes it.

In virtual time a `SimulatedPoolSUT` runs the whole schedule compiled instead (`simulate`,
harness.sut.fast and harness.sut.compiled: this pool and the load generator ported to numba,
bit-identical records); this event-driven pool is the reference.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import Optional, Protocol

from harness.sut import fifo

# service(batch_samples, start_s, engine) -> duration_s
ServiceTime = Callable[[int, float, int], float]
NextEnd = Optional[tuple[int, float]]  # (engine, instant) of the next batch end, if any


class Shared(Protocol):
    """Engines whose batches' durations depend on each other (see the module docstring)."""

    def begin(self, engine: int, samples: int, now: float) -> NextEnd: ...

    def end(self, engine: int, now: float) -> NextEnd: ...


class ServicePool:
    def __init__(self, servers: int, max_batch: int, timeout_s: float, service: ServiceTime,
                 eager: bool | None = None, shared: Shared | None = None):
        self.servers, self.max_batch, self.timeout_s = servers, max_batch, timeout_s
        self.service = service
        self.shared = shared
        self.eager = (max_batch == 1 and shared is None) if eager is None else eager
        self.batches = 0
        self.busy_s = 0.0

    def release(self) -> None:
        """After a run: drop the references back to the SUT (its methods) and to the load
        generator. They close reference cycles, which kept a dropped run's memory until the
        next garbage collection: find-peak held every probe it had run, 1.3 GB on npu_v2."""
        self.service = self.shared = self.done = self.closed = self.env = None

    def start(self, env, done) -> None:
        self.env, self.done = env, done
        self.free = [(0.0, engine) for engine in range(self.servers)]  # eager path
        self.idle = list(range(self.servers - 1, -1, -1))            # event path
        self.queue: deque[list] = deque()                             # [query, samples, arrival]
        self.waiting = 0
        self.timer_at = None
        self.flushed = False
        self.running: dict[int, tuple[list, float]] = {}            # shared: engine -> batch, start
        self.version = 0
        self.closed = getattr(done, "waits_for_completion", lambda: False)

    # ------------------------------------------------------------ issue

    def issue(self, query: int, samples: int) -> None:
        if self.eager:
            self._issue_eager(query, samples)
        else:
            self.queue.append([query, samples, self.env.now])
            self.waiting += samples
            if self.idle:
                self._dispatch()

    def issue_query(self, query: int, samples) -> None:
        """The SUT contract's issue(query, sample indices): SUTs bind their `issue` to this.
        (`issue` inlined: once per query.)"""
        if self.eager:
            self._issue_eager(query, len(samples))
            return
        self.queue.append([query, len(samples), self.env.now])
        self.waiting += len(samples)
        if self.idle:
            self._dispatch()

    def _issue_eager(self, query: int, samples: int) -> None:
        """Start each sample on the earliest free engine (FIFO) and report when it ends."""
        now, free, complete, service = self.env.now, self.free, self.done.complete, self.service
        busy = 0.0
        for _ in range(samples):
            ready, engine = free[0]
            start = ready if ready > now else now
            duration = service(1, start, engine)
            heapq.heapreplace(free, (start + duration, engine))
            busy += duration
            complete(query, 1, start + duration)
        self.busy_s += busy
        self.batches += samples

    def issue_schedule(self, arrivals, count: int) -> None:
        """Virtual time, eager pool only: queries 0..count-1 arrive at arrivals[q], one sample
        each. The same FIFO recursion as `_issue_eager`, without a call per query on the way in
        (the optional fast path of the SUT contract; see LoadGen._issue_schedule)."""
        free, complete, service, replace = self.free, self.done.complete, self.service, heapq.heapreplace
        busy = 0.0
        for query in range(count):
            now = arrivals[query]
            ready, engine = free[0]
            start = ready if ready > now else now
            duration = service(1, start, engine)
            replace(free, (start + duration, engine))
            busy += duration
            complete(query, 1, start + duration)
        self.busy_s += busy
        self.batches += count

    def flush(self) -> None:
        self.flushed = True
        if not self.eager:
            self._dispatch()

    # ------------------------------------------------------------ event path

    def _batch_size(self, final: bool) -> int:
        """max_batch, or an even share of the idle engines when nothing more can come."""
        if self.waiting >= self.max_batch * len(self.idle) or not final:
            return self.max_batch
        return -(-self.waiting // len(self.idle))

    def _dispatch(self) -> None:
        """Start batches while an engine is idle and a batch is ready: full, final (no further
        sample can arrive before a completion: what waits is all there is), or its oldest
        sample has waited `timeout_s`; else arm the timer for that instant, once."""
        idle, queue = self.idle, self.queue
        while idle and self.waiting:
            final = self.flushed or self.closed()
            if self.waiting < self.max_batch and not final:
                deadline = queue[0][2] + self.timeout_s
                if self.env.now < deadline:
                    if self.timer_at != deadline:
                        self.timer_at = deadline
                        self.env.at(deadline, self._on_timer, deadline)
                    return
            batch, size = self._take(self._batch_size(final))
            self._start_batch(idle.pop(), batch, size)

    def _on_timer(self, deadline: float) -> None:
        if self.timer_at == deadline:
            self.timer_at = None
            self._dispatch()

    def _take(self, limit: int) -> tuple[list[tuple[int, int]], int]:
        """Up to `limit` samples from the head of the queue: [(query, samples)], their sum."""
        batch, taken, queue = [], 0, self.queue
        while taken < limit and queue:
            head = queue[0]
            n = min(head[1], limit - taken)
            batch.append((head[0], n))
            taken += n
            head[1] -= n
            if head[1] == 0:
                queue.popleft()
        self.waiting -= taken
        return batch, taken

    def _start_batch(self, engine: int, batch: list[tuple[int, int]], size: int) -> None:
        self.batches += 1
        now = self.env.now
        if self.shared is not None:
            self.running[engine] = (batch, now)
            self._expect(self.shared.begin(engine, size, now))
            return
        duration = self.service(size, now, engine)
        self.busy_s += duration
        self.env.after(duration, self._finish, engine, batch)

    def _expect(self, end: NextEnd) -> None:
        """Schedule the shared engines' next batch end; any earlier prediction is void."""
        self.version += 1
        if end is not None:
            self.env.at(end[1], self._on_end, self.version, end[0])

    def _on_end(self, version: int, engine: int) -> None:
        if version != self.version:
            return
        now = self.env.now
        batch, start = self.running.pop(engine)
        self.busy_s += now - start
        self._expect(self.shared.end(engine, now))
        self._finish(engine, batch)

    def _finish(self, engine: int, batch: list[tuple[int, int]]) -> None:
        complete = self.done.complete
        for query, n in batch:
            complete(query, n)
        self.idle.append(engine)
        self._dispatch()


class SimulatedPoolSUT:
    """The SUT contract for a simulated system served by a `ServicePool` (`self.pool`)."""

    pool: ServicePool

    def start(self, env, done) -> None:
        self.pool.start(env, done)
        self.issue = self.pool.issue_query
        if self.pool.eager:  # answers never depend on later events: take whole schedules
            self.issue_schedule = self.pool.issue_schedule

    def flush(self) -> None:
        self.pool.flush()

    def simulate(self, loadgen) -> bool:
        """Run `loadgen`'s whole schedule at once, with the records the event loop would make:
        one server of known times in numpy (harness.sut.fifo) when its ends settle, else in one
        compiled call (harness.sut.fast); False (nothing done) where neither applies."""
        service = self.compiled_service(loadgen)
        if service is None:
            return False
        if not fifo.run(loadgen, self.pool, service):
            from harness.sut import fast  # numba: imported by runs that use it
            fast.run(loadgen, self.pool, service)
        self.pool.release()   # the run is over (the pool keeps its counters)
        return True

    def compiled_service(self, loadgen):
        """How the run learns a batch's time (harness.sut.service.Service); None: the event
        loop only."""
        return None
