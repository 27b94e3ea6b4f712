"""Issuing a schedule to a SUT and recording what happened to every query.

The scenario rules (mlperf-loadgen.md §2, §4):
- single-stream / multi-stream: closed loop; the next query is issued the instant the previous
  one completes, its scheduled time being that instant; issuing ends with the first query issued
  once both the minimum duration and the minimum query count are met.
- server: every generated query is issued at its scheduled offset; latency counts from there.
- offline: one query holding every sample, issued at the start.

The same code runs in virtual and real time: only the environment's clock differs.
"""

from __future__ import annotations

import functools
import math
from array import array
from dataclasses import dataclass, field

import numpy as np

from harness.judge.ascending import ascending
from harness.measure.engine import Environment, RunDeadline
from harness.measure.schedule import NS, Schedule
from harness.measure.settings import Settings


@dataclass
class Records:
    """Raw per-query records; times in seconds from the run's start, NaN where not reached."""

    scheduled_s: np.ndarray
    issued_s: np.ndarray
    completed_s: np.ndarray
    samples: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)        # failed query -> reason
    sample_completions: list[tuple[float, int]] = field(default_factory=list)  # offline: (t, n)
    runtime_errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    first_token_s: np.ndarray | None = None   # per query: first token reported; None: no tokens
    tokens: np.ndarray | None = None          # per query: output tokens reported (int64)

    @property
    def count(self) -> int:
        return len(self.scheduled_s)

    def issue_lag(self) -> np.ndarray:
        """Actual minus scheduled issue time of each query (0 in virtual time)."""
        return self.issued_s - self.scheduled_s

    def latencies(self) -> np.ndarray:
        """Latency of each completed query, ascending."""
        lat = self.completed_s - self.scheduled_s
        missing = np.isnan(lat)
        return ascending(lat[~missing] if missing.any() else lat)


def _array(code: str, values: np.ndarray) -> array:
    out = array(code)
    out.frombytes(memoryview(np.ascontiguousarray(values, dtype=np.dtype(code))).cast("B"))   # one copy
    return out


class LoadGen:
    """Drives one run: issues the schedule, receives completions (the SUT's `Completions`)."""

    def __init__(self, env: Environment, sut, settings: Settings, schedule: Schedule,
                 compiled: bool = True):
        self.env, self.sut, self.settings, self.schedule = env, sut, settings, schedule
        self.compiled = compiled  # False: the event loop even where a SUT could run compiled
        n = schedule.count
        nan = array("d", [math.nan])
        self.scheduled, self.issued, self.completed = nan * n, nan * n, nan * n
        self.remaining = array("q", [schedule.samples_per_query]) * n
        self.latest = nan * n if schedule.samples_per_query > 1 else None
        self.offsets = schedule.offsets_ns / NS if schedule.offsets_ns is not None else np.zeros(1)
        self.max_count = settings.max_query_count or math.inf
        self.max_time = settings.max_duration_s or math.inf
        self.errors: dict[int, str] = {}
        self.runtime_errors: list[str] = []
        self.sample_completions: list[tuple[float, int]] = []
        self.issued_count = 0
        self.finished_count = 0          # queries completed or failed
        self.reports = 0                 # SUT reports of known queries: first tokens, samples done, failures
        self.issuing = True
        self.closed_loop = settings.scenario in ("single-stream", "multi-stream")
        self.offline = settings.scenario == "offline"
        self.tokens = TokenLog(n) if settings.use_token_latencies else None
        self.final = False               # True once nothing writes the record arrays (compiled)

    # The event loop's per-query reads, as arrays whose items read fast from Python; a compiled
    # run reads neither (the kernel takes `offsets`, and samples are ranges of query ids).

    @functools.cached_property
    def offsets_s(self) -> array:
        return _array("d", self.offsets)

    @functools.cached_property
    def picks(self) -> array:
        return _array("q", self.schedule.loaded[self.schedule.first])

    # ------------------------------------------------------------------ run

    def run(self) -> Records:
        """Issue the schedule and collect completions; Ctrl-C ends the run early, its records
        kept and marked interrupted."""
        self.sut.start(self.env, self)
        if self._simulate():
            return self.records()
        first = self._issue_closed if self.closed_loop else self._issue_open
        self.env.at(0.0, first, *(() if self.closed_loop else (0,)))
        self.env.outstanding = self.outstanding
        self.env.finished = lambda: self.reports   # progress: a stuck SUT reports nothing
        grace = self.settings.grace_s
        self.env.set_deadline(self.max_time + grace, grace)
        try:
            self.env.run()
        except KeyboardInterrupt:
            if self.issued_count == 0:
                raise  # nothing to keep
            self.env.stop()
        except RunDeadline as exc:
            self._end_at_deadline(str(exc))
        return self.records()

    def _simulate(self) -> bool:
        """Let a simulated SUT run the whole schedule compiled (virtual time, nothing pending,
        no token run): the same records as the event loop's, or False to use it."""
        simulate = getattr(self.sut, "simulate", None)
        if not self.compiled or simulate is None or type(self.env) is not Environment or self.env.pending() \
                or self.tokens is not None:
            return False
        return simulate(self)

    def _end_at_deadline(self, why: str) -> None:
        """The run is over (harness.measure.engine.Deadline): what is outstanding fails, saying why."""
        self.issuing = False
        self.runtime_errors.append(f"Ending early: {why}.")
        for query in range(self.issued_count):
            if math.isnan(self.completed[query]):
                self.fail(query, f"not answered by the end of the run ({why})")

    def outstanding(self) -> int:
        """Queries issued and neither completed nor failed yet."""
        return self.issued_count - self.finished_count

    def waits_for_completion(self) -> bool:
        """True when no query will be issued before an outstanding one completes (closed loop,
        or issuing is over): every sample that can arrive before then has arrived. A serving
        pool then dispatches what waits instead of holding it for its batching timeout."""
        return self.closed_loop or not self.issuing

    def records(self) -> Records:
        """The records: copies while a SUT could still report (real time), else the arrays."""
        n = self.issued_count
        arrays = [np.frombuffer(a, dtype=np.float64)[:n]
                  for a in (self.scheduled, self.issued, self.completed)]
        if not self.final:
            arrays = [a.copy() for a in arrays]
        first, tokens = self.tokens.arrays(n) if self.tokens else (None, None)
        samples = np.broadcast_to(np.int64(self.schedule.samples_per_query), (n,))   # read-only
        return Records(*arrays, samples,
                       dict(self.errors), self.sample_completions, list(self.runtime_errors),
                       interrupted=self.env.stopped, first_token_s=first, tokens=tokens)

    def _issue(self, query: int, scheduled: float) -> None:
        self.scheduled[query] = scheduled
        self.issued[query] = self.env.now
        self.issued_count = query + 1
        samples = (self.picks[query],) if self.schedule.samples_per_query == 1 \
            else self.schedule.samples(query)
        self.sut.issue(query, samples)

    def _stop_issuing(self) -> None:
        if self.issuing:
            self.issuing = False
            self.env.post(self.sut.flush)

    def _limits_reached(self) -> bool:
        return self.issued_count >= self.max_count or self.env.now >= self.max_time

    # ------------------------------------------------------------------ open loop

    def _issue_schedule(self) -> bool:
        """Hand the whole schedule over at once, where the SUT takes it (virtual time, one
        sample per query, nothing else pending): the records are those `_issue_open` makes."""
        take = getattr(self.sut, "issue_schedule", None)
        if take is None or self.env.time_mode != "virtual" or self.env.pending() \
                or self.schedule.samples_per_query != 1:
            return False
        offsets = self.offsets_s
        n = min(self.schedule.count, self.max_count)
        if self.max_time != math.inf:  # the first query issued at or after max_duration is the last
            n = min(n, int(np.searchsorted(np.frombuffer(offsets, np.float64), self.max_time)) + 1)
        self.scheduled[:n] = offsets[:n]
        self.issued[:n] = offsets[:n]
        self.issued_count = n
        self.env.advance(offsets[n - 1])
        take(offsets, n)
        self._stop_issuing()
        return True

    def _issue_open(self, query: int) -> None:
        """Issue queries at their scheduled offsets; runs of them without the event heap.
        (The hot loop of a server run: `_issue` inlined, attributes held in locals.)"""
        if query == 0 and self._issue_schedule():
            return
        env, offsets, issue = self.env, self.offsets_s, self.sut.issue
        scheduled, issued, picks = self.scheduled, self.issued, self.picks
        last = min(self.schedule.count, self.max_count) - 1
        single = self.schedule.samples_per_query == 1
        while True:
            scheduled[query] = offsets[query]
            issued[query] = env.now
            self.issued_count = query + 1
            issue(query, (picks[query],) if single else self.schedule.samples(query))
            if query >= last or env.now >= self.max_time:
                self._stop_issuing()
                return
            query += 1
            if not env.advance(offsets[query]):
                env.at(offsets[query], self._issue_open, query)
                return

    # ------------------------------------------------------------------ closed loop

    def _issue_closed(self) -> None:
        if not self.issuing:
            return
        query = self.issued_count
        if query >= self.schedule.count:
            self.runtime_errors.append(
                f"Ending early: Ran out of generated queries to issue after {query} queries.")
            self._stop_issuing()
            return
        self._issue(query, self.env.now)
        s = self.settings
        met = self.issued_count >= s.min_query_count and self.env.now >= s.target_duration_s
        if met or self._limits_reached():
            self._stop_issuing()

    # ------------------------------------------------------------------ completions

    def first_token(self, query: int, at: float | None = None) -> None:
        """The first output token of `query` is out, now or (virtual time) at `at` (LoadGen's
        FirstTokenComplete). Only the first report counts; `complete` checks the order."""
        time = self.env.now if at is None else at
        if not 0 <= query < self.issued_count:
            self.runtime_errors.append(f"SUT reported a first token of unknown query id {query}.")
            return
        self.reports += 1
        if self.tokens is not None:   # else not a token run (use_token_latencies off)
            self.tokens.first(query, time)

    def complete(self, query: int, samples: int = 1, at: float | None = None,
                 tokens: int | None = None) -> None:
        """`samples` of `query` are done, now or (virtual time) at `at`, having produced
        `tokens` output tokens (LoadGen's n_tokens; required in a token run)."""
        time = self.env.now if at is None else at
        if not 0 <= query < self.issued_count:
            self.runtime_errors.append(f"SUT completed unknown query id {query}.")
            return
        self.reports += 1
        if self.tokens is not None and self._bad_tokens(query, tokens, time, at):
            return
        left = self.remaining[query] - samples
        self.remaining[query] = left
        if self.latest is not None:  # samples may finish out of order across engines
            latest = self.latest[query]
            time = latest if time < latest else time
            self.latest[query] = time
            if self.offline:
                self.sample_completions.append((self.env.now if at is None else at, samples))
        if left == 0 and query not in self.errors:
            self.completed[query] = time
            self.finished_count += 1
            if self.closed_loop and self.issuing:
                self.env.at(time, self._issue_closed)
        elif left < 0 and query not in self.errors:
            self.errors[query] = "SUT reported more samples complete than the query holds"
            if left + samples > 0:  # it had not finished before: it has now, failed
                self._finish_query(time)

    def _bad_tokens(self, query: int, tokens, time: float, at: float | None) -> bool:
        """Record a token run's completion report; a bad one fails the query (True)."""
        problem = self.tokens.done(query, tokens, time, first_required=not self.offline)
        if problem:
            self.fail(query, problem, at)
        return problem is not None

    def fail(self, query: int, reason: str, at: float | None = None) -> None:
        """The query failed (the SUT raised, timed out, ...): it never completes."""
        if not 0 <= query < self.issued_count:
            self.runtime_errors.append(f"SUT failed unknown query id {query}: {reason}")
            return
        self.reports += 1
        if query in self.errors or not math.isnan(self.completed[query]):
            return
        self.errors[query] = reason
        self.remaining[query] = 0
        self._finish_query(self.env.now if at is None else at)

    def _finish_query(self, time: float) -> None:
        self.finished_count += 1
        if self.closed_loop and self.issuing:
            self.env.at(time, self._issue_closed)


class TokenLog:
    """Per-query first-token times and output token counts of a token run, with the checks
    that turn a bad report into a failed sample (never a crash, never a silent zero)."""

    def __init__(self, n: int):
        self.first_s = array("d", [math.nan]) * n
        self.count = array("q", [0]) * n

    def first(self, query: int, time: float) -> None:
        """Record the first report of a first token (a repeated one is ignored)."""
        if math.isnan(self.first_s[query]):
            self.first_s[query] = time

    def done(self, query: int, tokens, time: float, first_required: bool) -> str | None:
        """Add a completion's token count; the reason it fails the query, if it does."""
        if tokens is None:
            return "SUT reported no output token count (a token run needs n_tokens)"
        if isinstance(tokens, bool) or not isinstance(tokens, (int, np.integer)) or tokens <= 0:
            return f"SUT reported {tokens!r} output tokens (must be a whole number >= 1)"
        first = self.first_s[query]
        if first_required and math.isnan(first):
            return "SUT reported no first token before the last"
        if first > time:
            return "SUT reported the first token after the last"
        self.count[query] += int(tokens)
        return None

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        return (np.frombuffer(self.first_s, dtype=np.float64)[:n].copy(),
                np.frombuffer(self.count, dtype=np.int64)[:n].copy())
