"""The clock seam: a discrete-event loop whose notion of "now" is the only thing that differs
between virtual time (simulated SUTs) and real time (SUTs on the wall clock).

Events are (time, sequence, callback, args) on a heap; ties break by the sequence number, so a
run is reproducible. `Environment` (virtual time) jumps the clock to each event; a real-time
environment (harness.measure.realtime) overrides the clock (`now`), `step` (wait for the next event or
for work posted by SUT threads) and `post` (thread-safe), as SimPy's real-time environment
overrides its step.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any


class RunDeadline(BaseException):
    """A real-time run passed its deadline (harness.measure.realtime): raised on the loop thread, also
    out of a SUT call running there; the load generator fails what is outstanding and ends."""


class CallTimeout(BaseException):
    """A SUT call on the loop thread ran past its own time limit (harness.measure.realtime): the call
    is interrupted and its batch fails."""


class Deadline:
    """When a real-time run must end: at `end_s` (inf without max_duration), or `grace_s` after
    the SUT's last report (`finished`: a count that grows with every first token, sample done
    or failure) while queries are outstanding (the SUT is stuck). Virtual time cannot hang and
    ignores it."""

    def __init__(self, end_s: float, grace_s: float):
        self.end_s, self.grace_s = end_s, grace_s
        self.seen, self.since = -1, 0.0

    def due(self, now: float, finished: int, outstanding: int) -> float:
        """The instant the run must end by, given the progress seen until `now`."""
        if finished != self.seen or outstanding == 0:
            self.seen, self.since = finished, now
        return min(self.end_s, self.since + self.grace_s)

    def reason(self, now: float, outstanding: int) -> str:
        if now >= self.end_s:
            return f"the run reached its deadline, max_duration_ms + run_grace_ms = {self.end_s:g} s"
        return (f"no query was answered for run_grace_ms = {self.grace_s * 1e3:g} ms while "
                f"{outstanding} were outstanding: the SUT is stuck")


class Environment:
    time_mode = "virtual"
    jumps = True  # the clock may jump ahead to a time nothing is due before (`advance`)

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[..., Any], tuple]] = []
        self._seq = itertools.count()
        self.stopped = False
        self.deadline: Deadline | None = None
        self.outstanding: Callable[[], int] = lambda: 0  # queries the load generator awaits
        self.finished: Callable[[], int] = lambda: 0     # SUT reports so far (progress)

    def at(self, time: float, callback: Callable[..., Any], *args: Any) -> None:
        """Call `callback(*args)` at `time`. A time already past is due now: in virtual time at
        now, after what is due now already; in real time at once, in time order (events set
        before the run starts, whose clock is reset then, keep their times)."""
        if self.jumps and time < self.now:
            time = self.now
        heapq.heappush(self._heap, (time, next(self._seq), callback, args))

    def after(self, delay: float, callback: Callable[..., Any], *args: Any) -> None:
        self.at(self.now + delay, callback, *args)

    def post(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call soon, from any thread (virtual time: at the current instant)."""
        self.at(self.now, callback, *args)

    def stop(self) -> None:
        self.stopped = True

    def set_deadline(self, end_s: float, grace_s: float) -> None:
        self.deadline = Deadline(end_s, grace_s)

    def advance(self, time: float) -> bool:
        """Jump to `time` if no event is due before it and the clock can jump (virtual time):
        a fast path for issuing a pre-generated schedule without the heap."""
        heap = self._heap
        if not self.jumps or heap and heap[0][0] <= time:
            return False
        if time > self.now:
            self.now = time
        return True

    def pending(self) -> bool:
        return bool(self._heap)

    def step(self) -> bool:
        """Run the next event, the clock jumping to its time; False when none is left."""
        if not self._heap:
            return False
        time, _, callback, args = heapq.heappop(self._heap)
        if time > self.now:
            self.now = time
        callback(*args)
        return True

    def run(self) -> None:
        """Process events in time order until none are left or `stop` is called."""
        step = self.step
        while not self.stopped and step():
            pass
