"""The clock seam: a discrete-event loop whose notion of "now" is the only thing that differs
between virtual time (simulated SUTs) and real time (SUTs on the wall clock).

Events are (time, sequence, callback, args) on a heap; ties break by the sequence number, so a
run is reproducible. `Environment` (virtual time) jumps the clock to each event; a real-time
environment (harness.realtime) overrides `wait_until` to sleep, and accepts callbacks from
other threads through `post`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any


class RunDeadline(BaseException):
    """A real-time run passed its deadline (harness.realtime): raised on the loop thread, also
    out of a SUT call running there; the load generator fails what is outstanding and ends."""


class CallTimeout(BaseException):
    """A SUT call on the loop thread ran past its own time limit (harness.realtime): the call
    is interrupted and its batch fails."""


class Environment:
    time_mode = "virtual"

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self.stopped = False
        self.outstanding: Callable[[], int] = lambda: 0  # queries the load generator awaits
        self.finished: Callable[[], int] = lambda: 0     # SUT reports so far (progress)

    def at(self, time: float, callback: Callable[..., Any], *args: Any) -> None:
        """Call `callback(*args)` at `time` (never earlier than now)."""
        heapq.heappush(self._heap, (max(time, self.now), next(self._seq), callback, args))

    def after(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        self.at(self.now + delay, callback, *args)

    def post(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call soon, from any thread (virtual time: at the current instant)."""
        self.at(self.now, callback, *args)

    def stop(self) -> None:
        self.stopped = True

    def set_deadline(self, end_s: float, grace_s: float) -> None:
        """Real time only (harness.realtime): virtual time cannot hang."""

    def sut_call(self, limit_s: float = 0.0) -> AbstractContextManager:
        """Around a SUT call made on the loop thread (real time: interrupted at the run's
        deadline, or after `limit_s` > 0 seconds)."""
        return nullcontext()

    def wait_until(self, time: float) -> bool:
        """Advance the clock to `time`; False if interrupted by other work (real time only)."""
        self.now = time
        return True

    def advance(self, time: float) -> bool:
        """Jump to `time` if no event is due before it (virtual time only): a fast path for
        issuing a pre-generated schedule without the heap."""
        heap = self._heap
        if heap and heap[0][0] <= time:
            return False
        if time > self.now:
            self.now = time
        return True

    def pending(self) -> bool:
        return bool(self._heap)

    def idle(self) -> bool:
        """Nothing is scheduled: True to go on, False to end the run. Virtual time ends here;
        real time waits for work posted from SUT threads while queries are outstanding."""
        return False

    def run(self) -> None:
        """Process events in time order until none are left or `stop` is called."""
        heap, pop = self._heap, heapq.heappop
        while not self.stopped and (heap or self.idle()):
            time = heap[0][0]
            if time > self.now and not self.wait_until(time):
                continue
            _, _, callback, args = pop(heap)
            callback(*args)

