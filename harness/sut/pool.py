"""`servers` engines behind one FIFO queue with dynamic batching, in virtual time.

Shared by every simulated SUT; only the service time differs (a distribution for the synthetic
SUT, the hardware model for the accelerator). A batch is dispatched to an idle engine when
`max_batch` samples wait, or when the oldest waiting sample has waited `timeout_s`, or after a
flush. With `max_batch = 1` no dispatch decision depends on later arrivals, so each sample's
start is known when it arrives — max(arrival, earliest free engine), the FIFO recursion of
Kiefer and Wolfowitz — and the pool reports the completion ahead of time without queue events.
Both paths give identical results (tests/test_pool.py checks this).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable

# service(batch_samples, start_s, engine) -> duration_s
ServiceTime = Callable[[int, float, int], float]


class ServicePool:
    def __init__(self, servers: int, max_batch: int, timeout_s: float, service: ServiceTime,
                 eager: bool | None = None):
        self.servers, self.max_batch, self.timeout_s = servers, max_batch, timeout_s
        self.service = service
        self.eager = (max_batch == 1) if eager is None else eager
        self.batches = 0
        self.busy_s = 0.0

    def start(self, env, done) -> None:
        self.env, self.done = env, done
        self.free = [(0.0, engine) for engine in range(self.servers)]  # eager path
        self.idle = list(range(self.servers - 1, -1, -1))            # event path
        self.queue: deque[list] = deque()                             # [query, samples, arrival]
        self.waiting = 0
        self.timer_at = None
        self.flushed = False

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
        """The SUT contract's issue(query, sample indices): SUTs bind their `issue` to this."""
        if self.eager:
            self._issue_eager(query, len(samples))
        else:
            self.issue(query, len(samples))

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

    def _ready(self) -> bool:
        if self.waiting >= self.max_batch or self.flushed:
            return True
        return self.env.now >= self.queue[0][2] + self.timeout_s  # the timer's own deadline

    def _dispatch(self) -> None:
        while self.idle and self.waiting:
            if not self._ready():
                self._arm_timer(self.queue[0][2] + self.timeout_s)
                return
            self._start_batch(self.idle.pop(), self._take(self.max_batch))

    def _arm_timer(self, deadline: float) -> None:
        if self.timer_at != deadline:
            self.timer_at = deadline
            self.env.at(deadline, self._on_timer, deadline)

    def _on_timer(self, deadline: float) -> None:
        if self.timer_at == deadline:
            self.timer_at = None
            self._dispatch()

    def _take(self, limit: int) -> list[tuple[int, int]]:
        batch, taken = [], 0
        while taken < limit and self.queue:
            head = self.queue[0]
            n = min(head[1], limit - taken)
            batch.append((head[0], n))
            taken += n
            head[1] -= n
            if head[1] == 0:
                self.queue.popleft()
        self.waiting -= taken
        return batch

    def _start_batch(self, engine: int, batch: list[tuple[int, int]]) -> None:
        size = sum(n for _, n in batch)
        duration = self.service(size, self.env.now, engine)
        self.batches += 1
        self.busy_s += duration
        self.env.after(duration, self._finish, engine, batch)

    def _finish(self, engine: int, batch: list[tuple[int, int]]) -> None:
        for query, n in batch:
            self.done.complete(query, n)
        self.idle.append(engine)
        self._dispatch()


class PooledSUT:
    """The SUT contract for a simulated system served by a `ServicePool` (`self.pool`)."""

    pool: ServicePool

    def start(self, env, done) -> None:
        self.pool.start(env, done)
        self.issue = self.pool.issue_query
        if self.pool.eager:  # answers never depend on later events: take whole schedules
            self.issue_schedule = self.pool.issue_schedule

    def flush(self) -> None:
        self.pool.flush()
