"""Real time: the wall-clock environment and the worker pool that real SUT adapters share.

`RealTimeEnvironment` differs from the virtual one in its clock and its step, as SimPy's real-time
environment does: `now` is seconds since the run's start on `time.perf_counter()`; `step` sleeps
until an event is due (most of the gap in a blocking wait that wakes as soon as a SUT thread posts
work, the last `spin_s` in short yields that release the GIL) and, with nothing scheduled, waits for
posted work while queries are outstanding; `post` is thread-safe; the clock never jumps. During a
run the GIL switch interval is shortened so SUT threads get the interpreter promptly while the loop
is busy. The scenario code (harness.measure.loadgen) is the same as in virtual time: queries go out at their
scheduled offsets, late ones at once, and latency counts from the scheduled time.

A real-time run has a deadline (harness.measure.engine.Deadline): it ends at `max_duration_ms +
run_grace_ms` when max_duration_ms is set, and in any case once queries have been outstanding for
`run_grace_ms` with no report from the SUT — no sample done or failed, no first token — (the SUT is
stuck; an offline query answered sample by sample, or long token streams, are progress). The loop
checks it while it waits; a SUT call made on the loop thread (`workers = 0`) is interrupted by a
timer signal at the deadline, or when it outlives its own `timeout_s` (then only its batch fails).
What is still outstanding at the deadline fails with the reason, and the result is written as usual.

`WorkerPool` runs a SUT's batches on `workers` threads (or inline on the issuing thread when
`workers = 0`), batches samples dynamically, and turns an exception or a batch that outlives
`timeout_s` into failed queries. Completions are timestamped on the worker thread when the batch
returns and handed to the load generator through `post`.
"""

from __future__ import annotations

import heapq
import math
import queue
import signal
import sys
import threading
import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from harness.measure.engine import CallTimeout, Environment, RunDeadline
from harness.spec import Reader, batching
from harness.judge.stats import percentile

SPIN_S = 150e-6          # spin (GIL released between checks) for the last part of a wait
IDLE_POLL_S = 0.25       # how often an idle loop re-checks for Ctrl-C and the outstanding count
SWITCH_INTERVAL_S = 100e-6  # GIL hand-over interval while a real-time run is going

_perf_counter = _time.perf_counter


class RealTimeEnvironment(Environment):
    time_mode = "real"
    jumps = False

    def __init__(self, spin_s: float = SPIN_S) -> None:
        self._origin = _perf_counter()
        super().__init__()
        self.spin_s = spin_s
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()

    @property
    def now(self) -> float:
        return _perf_counter() - self._origin

    @now.setter
    def now(self, value: float) -> None:
        self._origin = _perf_counter() - value

    def post(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call `callback(*args)` on the loop thread as soon as it is free; any thread."""
        self._inbox.put((callback, args))

    def step(self) -> bool:
        """Sleep until the next event is due and run it, or run the work SUT threads posted
        meanwhile; with nothing scheduled, wait for posted work while queries are outstanding.
        False when the run is over."""
        heap = self._heap
        if not heap:
            return self._idle()
        if self._wait_until(heap[0][0]):
            _, _, callback, args = heapq.heappop(heap)
            callback(*args)
        return True

    def run(self) -> None:
        """The run's time 0 is now; the GIL is handed over often so SUT threads answer promptly."""
        self.now = 0.0
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, SWITCH_INTERVAL_S))
        try:
            super().run()
        finally:
            sys.setswitchinterval(interval)

    def _wait_until(self, time: float) -> bool:
        """Sleep until `time`; False as soon as posted work has been run instead."""
        inbox, origin, spin = self._inbox, self._origin, self.spin_s
        while True:
            gap = time - (_perf_counter() - origin)
            if gap <= spin:
                break
            try:
                callback, args = inbox.get(timeout=min(gap - spin, IDLE_POLL_S))
            except queue.Empty:
                check_deadline(self)
                continue
            callback(*args)
            self._drain()
            return False
        while _perf_counter() - origin < time:
            if not inbox.empty():
                self._drain()
                return False
            _time.sleep(0)
        return True

    def _idle(self) -> bool:
        """Wait for posted work while queries are outstanding; False when the run is over."""
        self._drain()
        while not self._heap and self.outstanding() > 0:
            check_deadline(self)
            try:
                callback, args = self._inbox.get(timeout=IDLE_POLL_S)
            except queue.Empty:
                continue
            callback(*args)
            self._drain()
        return bool(self._heap)

    def _drain(self) -> None:
        inbox = self._inbox
        while not inbox.empty():
            callback, args = inbox.get_nowait()
            callback(*args)


def _due(env: Environment) -> float:
    return env.deadline.due(env.now, env.finished(), env.outstanding()) if env.deadline else math.inf


def check_deadline(env: Environment) -> None:
    """Raise RunDeadline once a real-time run is past its deadline (harness.measure.engine.Deadline)."""
    now = env.now
    if now >= _due(env):
        raise RunDeadline(env.deadline.reason(now, env.outstanding()))


@contextmanager
def sut_call(env: Environment, limit_s: float = 0.0):
    """A SUT call on the loop thread, interrupted by SIGALRM at the run's deadline
    (RunDeadline) or after `limit_s` > 0 seconds (CallTimeout); unbounded in virtual time, off
    the main thread, or when SIGALRM is taken by someone else."""
    free = signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    if env.time_mode != "real" or env.deadline is None or not free \
            or threading.current_thread() is not threading.main_thread():
        yield
        return
    check_deadline(env)
    wait = _due(env) - env.now
    if limit_s > 0:
        wait = min(wait, limit_s)

    def alarm(signum, frame) -> None:
        check_deadline(env)
        raise CallTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, max(wait, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def issue_lag_summary(lag_s: np.ndarray) -> dict[str, float]:
    """p50 / p99 / max (and mean) of actual minus scheduled issue time, seconds."""
    lag = np.sort(lag_s[~np.isnan(lag_s)])
    if len(lag) == 0:
        return {"mean": math.nan, "p50": math.nan, "p99": math.nan, "max": math.nan}
    return {"mean": float(np.mean(lag)), "p50": percentile(lag, 0.5),
            "p99": percentile(lag, 0.99), "max": float(lag[-1])}


# ---------------------------------------------------------------- configuration


def positive_int(v: int) -> str | None:
    return None if v >= 1 else "must be >= 1"


def load_batching(b: Reader) -> dict[str, Any]:
    """The [batching] table of real-time adapters: max_batch samples, timeout_s partial wait."""
    max_batch, timeout_s = batching(b)
    return dict(max_batch=max_batch, batch_timeout_s=timeout_s)


def describe_batching(config: Any) -> dict[str, Any]:
    return {"max_batch": config.max_batch, "timeout_s": config.batch_timeout_s}


# ---------------------------------------------------------------- the worker pool

BatchCall = Callable[[list[int]], Any]   # runs one batch of sample indices; raises to fail it


class SUTError(Exception):
    """A failure the adapter diagnosed itself (HTTP 500, a wrong answer id, ...): its message
    is the failed queries' reason."""


class SampleFailures:
    """What a batch call may return when some of its samples failed: one reason per sample of
    the batch (None: answered), in the order the samples were given."""

    def __init__(self, reasons: list[str | None]):
        self.reasons = reasons


class WorkerPool:
    """Runs batches of samples on worker threads and reports them to the load generator.

    Items are single samples, (query, sample index, arrival time); a worker takes the oldest and
    gathers more until `max_batch` are held or the oldest has waited `batch_timeout_s` (no wait
    after a flush). `timeout_s` > 0 arms a watchdog: a batch still running by then fails its
    queries and its worker is replaced, so `workers` batches can still run.
    """

    def __init__(self, call: BatchCall, label: str, workers: int = 1, max_batch: int = 1,
                 batch_timeout_s: float = 0.0, timeout_s: float = 0.0):
        self.call, self.label = call, label
        self.workers, self.max_batch = workers, max_batch
        self.batch_timeout_s, self.timeout_s = batch_timeout_s, timeout_s
        self.batches = 0
        self.busy_s = 0.0
        self.timeouts = 0

    def start(self, env: Environment, done) -> None:
        self.env, self.done = env, done
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.flushed = self.closed = False
        self.lock = threading.Lock()
        self.running: list[tuple | None] = [None] * self.workers
        self.generation = [0] * self.workers
        for slot in range(self.workers):
            self._spawn(slot)
        if self.timeout_s > 0 and self.workers:
            threading.Thread(target=self._watch, name=f"{self.label}-watchdog", daemon=True).start()

    def _spawn(self, slot: int) -> None:
        self.generation[slot] += 1
        threading.Thread(target=self._work, args=(slot, self.generation[slot]), daemon=True,
                         name=f"{self.label}-{slot}.{self.generation[slot]}").start()

    # ------------------------------------------------------------ loop thread

    def issue(self, query: int, samples) -> None:
        if not self.workers:
            self._inline(query, samples)
            return
        now, put = self.env.now, self.queue.put
        for sample in samples:
            put((query, int(sample), now))

    def flush(self) -> None:
        self.flushed = True
        self.queue.put(None)  # wakes a worker waiting on a partial batch

    def close(self) -> None:
        """Stop the workers (a hung one is left behind: its thread is a daemon)."""
        self.closed = True
        for _ in range(self.workers):
            self.queue.put(None)

    def _inline(self, query: int, samples) -> None:
        samples = [int(s) for s in samples]
        for first in range(0, len(samples), self.max_batch):
            chunk = [(query, s, 0.0) for s in samples[first:first + self.max_batch]]
            start = self.env.now
            try:
                with sut_call(self.env, self.timeout_s):
                    error, tokens = self._call(chunk)
            except CallTimeout:
                error, tokens = self._timeout_reason(), None
            end = self.env.now
            if error is None and self.timeout_s and end - start > self.timeout_s:
                error = self._timeout_reason()
            self._report(chunk, start, end, error, tokens)

    # ------------------------------------------------------------ worker threads

    def _work(self, slot: int, generation: int) -> None:
        while not self.closed and self.generation[slot] == generation:
            batch = self._gather()
            if batch is None:
                continue
            start = self.env.now
            with self.lock:
                self.running[slot] = (start + self.timeout_s, batch)
            error, tokens = self._call(batch)
            end = self.env.now
            with self.lock:
                mine = self.running[slot] is not None and self.running[slot][1] is batch
                if mine:
                    self.running[slot] = None
            if mine:
                self.env.post(self._report, batch, start, end, error, tokens)

    def _gather(self) -> list[tuple] | None:
        first = self.queue.get()
        if first is None:
            return None
        batch = [first]
        if self.max_batch > 1:
            self._fill(batch, first[2] + self.batch_timeout_s)
        return batch

    def _fill(self, batch: list[tuple], deadline: float) -> None:
        get, env = self.queue.get, self.env
        while len(batch) < self.max_batch:
            wait = 0.0 if self.flushed else deadline - env.now
            try:
                item = get(timeout=wait) if wait > 0 else get(block=False)
            except queue.Empty:
                return
            if item is None:
                self.queue.put(None)  # pass the wake-up on
                return
            batch.append(item)

    def _call(self, batch: list[tuple]) -> tuple[str | None, int | None]:
        """(failure reason or None, output tokens of a streamed answer or None)."""
        try:
            out = self.call([sample for _, sample, _ in batch])
            if isinstance(out, Iterator):
                return None, self._stream(out, batch)
            if isinstance(out, SampleFailures):
                return [r and f"{self.label}: {r}" for r in out.reasons], None
        except SUTError as exc:
            return f"{self.label}: {exc}", None
        except Exception as exc:  # noqa: BLE001 - a SUT error fails its queries, with its reason
            return f"{self.label} raised {type(exc).__name__}: {exc}", None
        except (RunDeadline, CallTimeout):
            raise                 # on the loop thread: the run is over, or this call is
        except KeyboardInterrupt:
            if not self.workers:  # on the loop thread: the user's Ctrl-C
                raise
            return f"{self.label} raised KeyboardInterrupt", None
        except BaseException as exc:  # noqa: BLE001 - SystemExit & co. from SUT code: its
            return f"{self.label} raised {type(exc).__name__}: {exc}", None  # queries fail, bench goes on
        return None, None

    def _stream(self, tokens: Iterator, batch: list[tuple]) -> int:
        """Drain a streamed answer, one item per output token: the first token is reported when
        it arrives (LoadGen's FirstTokenComplete); the count is the sample's n_tokens."""
        if len(batch) != 1:
            raise SUTError("a streamed answer must be one sample's (set [batching] max_batch = 1)")
        count = 0
        try:
            for _ in tokens:
                if count == 0:
                    self._first_token(batch[0][0], self.env.now)
                count += 1
        except Exception as exc:  # noqa: BLE001 - a broken stream fails its sample, saying where
            raise SUTError(f"stream broke after {count} tokens: {type(exc).__name__}: {exc}") from None
        return count

    def _first_token(self, query: int, at: float) -> None:
        if self.workers:   # from a worker thread: to the loop thread, ahead of the completion
            self.env.post(self.done.first_token, query, at)
        else:
            self.done.first_token(query, at)

    # ------------------------------------------------------------ watchdog

    def _watch(self) -> None:
        tick = min(self.timeout_s / 4, 0.05)
        while not self.closed:
            _time.sleep(tick)
            now = self.env.now
            for slot in range(self.workers):
                with self.lock:
                    entry = self.running[slot]
                    expired = entry is not None and now > entry[0]
                    if expired:
                        self.running[slot] = None
                if expired:
                    self._expire(slot, entry)

    def _expire(self, slot: int, entry: tuple) -> None:
        self.timeouts += 1
        deadline, batch = entry
        self.env.post(self._report, batch, deadline - self.timeout_s, now_or(deadline, self.env),
                      self._timeout_reason())
        self._spawn(slot)

    def _timeout_reason(self) -> str:
        return f"{self.label} did not finish a batch within timeout_s = {self.timeout_s:g} s"

    # ------------------------------------------------------------ loop thread: results

    def _report(self, batch: list[tuple], start: float, end: float,
                error: str | list[str | None] | None, tokens: int | None = None) -> None:
        """A batch is over: its samples complete, or fail with `error` (one reason for all, or
        one per sample)."""
        self.batches += 1
        self.busy_s += end - start
        if isinstance(error, list):
            for item, reason in zip(batch, error):
                self._report_one(item, end, reason)
        elif error is None:
            complete = self.done.complete
            for query, _, _ in batch:
                if tokens is None:
                    complete(query, 1, end)
                else:
                    complete(query, 1, end, tokens=tokens)
        else:
            fail = self.done.fail
            for query, _, _ in batch:
                fail(query, error, end)

    def _report_one(self, item: tuple, end: float, reason: str | None) -> None:
        if reason is None:
            self.done.complete(item[0], 1, end)
        else:
            self.done.fail(item[0], reason, end)

    def stats(self, duration_s: float) -> dict[str, Any]:
        threads = max(self.workers, 1)
        busy = self.busy_s / (duration_s * threads) if duration_s > 0 else 0.0
        return {"batches": self.batches, "utilization": busy, "timed_out_batches": self.timeouts}


def now_or(deadline: float, env: Environment) -> float:
    """The time a timed-out batch is failed at: now, never before its deadline."""
    return max(deadline, env.now)


class WorkerPoolSUT:
    """A real SUT made of a `WorkerPool` (the SUT contract of harness.sut.base)."""

    def __init__(self, name: str, pool: WorkerPool, close: Callable[[], None] = lambda: None):
        self.name, self.pool, self._close = name, pool, close

    def start(self, env: Environment, done) -> None:
        self.pool.start(env, done)

    def issue(self, query: int, samples) -> None:
        self.pool.issue(query, samples)

    def flush(self) -> None:
        self.pool.flush()

    def finish(self, duration_s: float) -> dict[str, Any]:
        self.pool.close()
        self._close()
        return {"sut_stats": self.pool.stats(duration_s)}
