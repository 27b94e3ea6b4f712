"""Finding the peak server QPS: the highest target QPS whose full-length run is VALID.

LoadGen's FindPeakPerformance (mlperf-loadgen.md §6.1) runs every probe at full length: from the
requested target QPS (the lower bound) it multiplies by (1 + step) until a run fails, then
bisects until floor(lower * 10^d) + 1 >= floor(upper * 10^d). That search (`doubling`) stays for
SUTs in real time and for token runs. A simulated SUT is searched with fewer full-length runs:

1. an analytic upper bound: a rate the SUT cannot sustain (the adapter's `saturation_qps`: the
   accelerator's service-time table, the synthetic pool's mean service), when it has one;
2. short runs narrow the bracket: the same seeds with 1/16 of the duration and queries (a prefix
   of the full-length schedule). Each predicts the full-length verdict from its `tail`: the
   latency exceeded by the share of queries the full-length run's early stopping allows over the
   bound. The bracket closes by regula falsi (Illinois) on 1 - bound / tail, which stays finite
   past saturation where the latency itself explodes;
3. full-length runs decide: each is aimed just below or just above where the full-length tail
   crosses the bound (interpolated from the runs so far; bisection when that stalls) until a
   VALID and an INVALID full-length probe are within LoadGen's precision. Once a VALID and an
   INVALID probe bracket the crossing, the probe that would follow if the current one turns out
   as likely runs beside it on the second core (`_guess`); a guess the search does not take is
   dropped unreported, so the probes and the answer do not depend on it or on timing. On npu_v2
   (600 s) that takes about one full-length probe's time off five: 6.3-7.0 s -> 5.1-6.1 s
   in-process.

Only full-length runs are VALID or INVALID: a short run moves the bracket, never the verdict, and
every probe is reported with its reason. Nothing below the requested target QPS is probed; when
its full-length run fails, that run is the answer (as in LoadGen). The search holds the records
of the best full-length run, the current probe's and a guess's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from harness.judge import early_stopping
from harness.measure.loadgen import Records
from harness.measure.runner import Judged, Prepared, RunOutput, described, judged, records_only
from harness.measure.settings import Settings
from harness.record.build import clean
from harness.record.schema import from_dict
from harness.judge.stats import percentile_index

MAX_PROBES = 64
SHORT = 16                 # a short run: 1/SHORT of the full run's duration and queries
MIN_SHORT_QUERIES = 5_000  # fewer and the tail is too noisy to aim by: no short runs
MAX_SHORT = 10
SHORT_CLOSE = 0.005        # stop the short runs once the bracket is this narrow (relative) ...
SHORT_NEAR = 0.005         # ... or a tail is this close to the bound (relative)
OVERSHOOT = 0.5            # from one side, aim this share of the secant's step past its crossing


@dataclass(frozen=True)
class Probe:
    target_qps: float
    valid: bool | None          # a full-length run's verdict; None for a short run
    p99_s: float | None
    metric: float
    reasons: tuple[str, ...]    # why a full-length run failed; what a short run predicts
    full_length: bool = True
    queries: int = 0
    tail_s: float | None = None  # latency over which the full run's early stopping allows its share
    predicts_valid: bool | None = None  # a short run: its tail is within the bound


@dataclass(frozen=True)
class Point:
    qps: float
    f: float                    # 1 - bound / tail: <= 0 on the VALID side


@dataclass
class Search:
    """The run found, every probe in order, and the analytic bound used (None: none known)."""

    run: RunOutput
    probes: list[Probe]
    saturation_qps: float | None
    method: str                 # "bracketed" | "doubling"


# ------------------------------------------------------------------ the tail statistic


def allowed_share(queries: int, p: float) -> float:
    """The share of a run of `queries` that may be over the bound and still pass early stopping
    (stricter than the percentile's own 1 - p)."""
    return early_stopping.largest_rank(queries, p) / queries if queries else 0.0


def tail_s(records: Records, share: float) -> float:
    """The latency with floor(share * queries) queries above it. With the full run's own share,
    the run passes early stopping iff this is within the bound."""
    return order_statistic(records, records.count - math.floor(share * records.count) - 1)


def order_statistic(records: Records, index: int) -> float:
    """The index-th smallest latency (an incomplete query counts as infinitely late), in O(n)."""
    if not 0 <= index < records.count:
        return math.inf
    latencies = records.completed_s - records.scheduled_s
    latencies[np.isnan(latencies)] = math.inf
    latencies.partition(index)   # in place: the difference is this function's own
    return float(latencies[index])


def _f(tail: float, bound: float) -> float:
    return 1.0 - bound / tail if tail > 0 else -math.inf


def full_queries(settings: Settings, qps: float) -> int:
    """Roughly how many queries a full-length run at `qps` schedules."""
    return max(settings.min_query_count, math.ceil(qps * settings.min_duration_s)) + 1


def full_run(prepared: Prepared, settings: Settings) -> tuple[Judged, float]:
    """A full-length probe judged, and its tail (on the probe's own thread when run ahead: the
    O(n) selection then overlaps the other probe instead of holding up the search)."""
    run = judged(prepared, settings)
    return run, tail_s(run.records, allowed_share(run.records.count, settings.target_percentile))


def short_settings(settings: Settings, qps: float) -> Settings:
    return dataclasses.replace(settings, target_qps=qps, min_duration_s=settings.min_duration_s / SHORT,
                               min_query_count=math.ceil(settings.min_query_count / SHORT))


# ------------------------------------------------------------------ the search


class _Searcher:
    def __init__(self, prepared: Prepared, on_probe: Callable[[Probe], None]):
        self.prepared, self.on_probe = prepared, on_probe
        self.s = prepared.settings
        self.probes: list[Probe] = []
        self.best: Judged | None = None
        self.failed: Judged | None = None

    def _add(self, probe: Probe) -> None:
        self.probes.append(probe)
        self.on_probe(probe)

    @property
    def left(self) -> int:
        return MAX_PROBES - len(self.probes)

    def _tidy(self, qps: float) -> float:
        """Probe rates to 1/1000 of the precision (no float noise in what is printed)."""
        return round(qps, self.s.find_peak_decimals + 3)

    def short(self, qps: float) -> Point:
        s, qps = self.s, self._tidy(qps)
        records = records_only(self.prepared, short_settings(s, qps))
        share = allowed_share(full_queries(s, qps), s.target_percentile)
        tail = tail_s(records, share)
        p99 = order_statistic(records, percentile_index(records.count, s.target_percentile))
        f = _f(tail, s.target_latency_s)
        word = "<=" if f <= 0 else ">"
        reason = (f"short run, {records.count} queries: {tail * 1e3:.3f} ms with {share * 100:.3f} % "
                  f"of queries above (the full-length run's early-stopping allowance) {word} bound "
                  f"{s.target_latency_s * 1e3:g} ms")
        self._add(Probe(qps, None, p99, math.nan, (reason,), False, records.count, tail, f <= 0))
        return Point(qps, f)

    def full(self, qps: float, probed: tuple[Judged, float] | None = None) -> tuple[Point, bool]:
        """The full-length probe at `qps` (`probed`: its run and tail, already made)."""
        s = self.s
        run, tail = probed or full_run(self.prepared, s.with_target_qps(qps))
        o, records = run.outcome, run.records
        f = _f(tail, s.target_latency_s)
        f = min(f, -1e-12) if o.valid else max(f, 1e-12)  # other checks can fail at any tail
        self._add(Probe(qps, o.valid, o.latency_s.get("p99"), o.metric["value"],
                        tuple(o.invalid_reasons), True, records.count, tail))
        if o.valid:
            self.best, self.failed = run, None
        elif self.best is None:
            self.failed = run   # the answer while nothing is VALID: the lowest failed run
        return Point(qps, f), o.valid

    def answer(self) -> RunOutput:
        return described(self.best or self.failed, self.prepared)


def _interpolate(lo: Point, hi: Point) -> float:
    """Where the line through two points (f(lo) <= 0 < f(hi)) crosses zero."""
    if not (math.isfinite(lo.f) and math.isfinite(hi.f)) or hi.f == lo.f:
        return lo.qps + (hi.qps - lo.qps) / 2
    return lo.qps + (hi.qps - lo.qps) * (-lo.f) / (hi.f - lo.f)


def _short_bracket(search: _Searcher, upper: float | None) -> tuple[float, float]:
    """Short runs from the target QPS up to the crossing: its estimate and the slope of f there
    (nan when unknown)."""
    s = search.s
    lo = search.short(s.target_qps)
    if lo.f > 0:
        return s.target_qps, math.nan
    qps = upper if upper and upper > s.target_qps else s.target_qps * (1 + s.find_peak_step)
    hi = search.short(qps)
    while hi.f <= 0 and len(search.probes) < MAX_SHORT:   # the bound did not hold: step up
        lo, hi = hi, search.short(hi.qps * (1 + s.find_peak_step))
    if hi.f <= 0:
        return hi.qps, math.nan
    side, seen = 0, [lo, hi]
    while len(search.probes) < MAX_SHORT and hi.qps - lo.qps > SHORT_CLOSE * lo.qps:
        point = search.short(_interpolate(lo, hi))
        seen.append(point)
        if point.f <= 0:
            lo, side = point, (side - 1 if side < 0 else -1)
            hi = Point(hi.qps, hi.f / 2) if side <= -2 else hi   # Illinois
        else:
            hi, side = point, (side + 1 if side > 0 else 1)
            lo = Point(lo.qps, lo.f / 2) if side >= 2 else lo
        if abs(point.f) < SHORT_NEAR:
            break
    return _interpolate(lo, hi), _straddling_slope(seen)


def _straddling_slope(seen: list[Point]) -> float:
    """The secant through the nearest short runs on either side of the crossing: two runs on
    one side a few QPS apart give a slope that is mostly the tail's noise."""
    under = [p for p in seen if p.f <= 0]
    over = [p for p in seen if p.f > 0 and math.isfinite(p.f)]
    if not under or not over:
        return _secant_slope(seen[-1], seen[-2])
    return _secant_slope(max(under, key=lambda p: p.f), min(over, key=lambda p: p.f))


def _inverse_quadratic(a: Point, b: Point, c: Point) -> float:
    """Where the parabola qps(f) through three points has f = 0 (Brent's step): it follows the
    tail's curvature, which a line through two misses."""
    fa, fb, fc = a.f, b.f, c.f
    if not all(map(math.isfinite, (fa, fb, fc))) or len({fa, fb, fc}) < 3:
        return math.nan
    return (a.qps * fb * fc / ((fa - fb) * (fa - fc)) + b.qps * fa * fc / ((fb - fa) * (fb - fc))
            + c.qps * fa * fb / ((fc - fa) * (fc - fb)))


def _secant_slope(a: Point, b: Point) -> float:
    df = a.f - b.f
    return df / (a.qps - b.qps) if a.qps != b.qps and math.isfinite(df) else math.nan


def _narrow(lower: float, upper: float, decimals: int) -> bool:
    scale = 10 ** decimals
    return math.floor(lower * scale) + 1 < math.floor(upper * scale)


def _estimate(lo: Point | None, hi: Point | None, recent: list[Point], slope: float,
              step: float, upper: float | None) -> float:
    """Where the full-length tail crosses the bound. Within a bracket: through the last three
    full-length probes, else regula falsi (the Illinois weights are in the bracket's ends). From one side: the secant through the two latest
    full-length probes (through the first, the short runs' slope), overshot by half its step
    (the tail grows faster than linearly towards saturation, so the secant falls short), never
    past the analytic bound; without a slope, the line to the bound (where the tail is
    infinite), else a step up (down)."""
    if lo and hi:
        c = _inverse_quadratic(*recent[-3:]) if len(recent) >= 3 else math.nan
        return c if lo.qps < c < hi.qps else _interpolate(lo, hi)
    if len(recent) >= 2:
        slope = _secant_slope(recent[-1], recent[-2])
    last = recent[-1]
    c = math.nan
    if math.isfinite(slope) and slope > 0 and math.isfinite(last.f):
        c = last.qps - last.f / slope
        c += OVERSHOOT * (c - last.qps)
    if lo and upper and upper > lo.qps:
        return min(c, upper) if math.isfinite(c) else _interpolate(lo, Point(upper, 1.0))
    if not math.isfinite(c):
        return lo.qps * (1 + step) if lo else hi.qps / (1 + step)
    return c


def _aim(lo: Point | None, hi: Point | None, c: float, scale: float, stalled: bool) -> float:
    """The next full-length probe. The search ends once floor(lo * scale) + 1 >= floor(hi *
    scale), so above a VALID `lo` the farthest probe that can end it is just below
    (floor(lo * scale) + 2) / scale, and below an INVALID `hi` just above (floor(hi * scale) - 1)
    / scale: that one, if the estimate `c` says it falls on the right side (or nearly); else next
    to `c`, on the side still missing, on a grid line's edge that reaches past `c`. When the
    bracket stopped halving (the tail is noisy at this scale), the middle grid cell."""
    margin = 0.02 / scale
    if lo and hi and stalled:
        a, b = math.floor(lo.qps * scale), math.floor(hi.qps * scale)
        return (a + b) // 2 / scale + 0.5 / scale
    ends = []
    if lo:
        up = (math.floor(lo.qps * scale) + 2) / scale - margin
        if hi is None or up < hi.qps:
            ends.append((up - c, up))
    if hi:
        down = (math.floor(hi.qps * scale) - 1) / scale + margin
        if lo is None or down > lo.qps:
            ends.append((c - down, down))
    if ends and max(ends)[0] > -0.5 / scale:
        x = max(ends)[1]
    elif lo is None or (hi is not None and c - lo.qps > hi.qps - c):   # a new VALID end
        x = (round(c * scale) - 1) / scale + margin
    else:
        x = (round(c * scale) + 1) / scale - margin
    if lo and hi and not lo.qps < x < hi.qps:
        return lo.qps + (hi.qps - lo.qps) / 2
    return x


@dataclass(frozen=True)
class _Bracket:
    """What the full-length probes so far say: the highest VALID (`lo`) and the lowest INVALID
    (`hi`) probe, the latest three, and how many grid cells apart the ends were after each."""

    s: Settings
    slope: float               # the short runs' slope of f per QPS (nan: unknown)
    upper: float | None        # the analytic bound
    lo: Point | None = None
    hi: Point | None = None
    recent: tuple[Point, ...] = ()
    last: bool | None = None
    cells: tuple[int, ...] = ()
    ended: bool = False

    @property
    def scale(self) -> float:
        return 10.0 ** self.s.find_peak_decimals

    def absorb(self, point: Point, valid: bool) -> _Bracket:
        s, lo, hi = self.s, self.lo, self.hi
        if not valid and point.qps <= s.target_qps:
            return dataclasses.replace(self, ended=True)   # the lower bound itself fails
        if lo and hi and valid == self.last:   # Illinois: the end kept twice weighs half
            lo, hi = (lo, Point(hi.qps, hi.f / 2)) if valid else (Point(lo.qps, lo.f / 2), hi)
        lo, hi = (point, hi) if valid else (lo, point)
        ended = bool(lo and hi and not _narrow(lo.qps, hi.qps, s.find_peak_decimals))
        cells = self.cells
        if lo and hi and not ended:
            cells = (*cells, math.floor(hi.qps * self.scale) - math.floor(lo.qps * self.scale))
        return dataclasses.replace(self, lo=lo, hi=hi, recent=(*self.recent[-2:], point),
                                   last=valid, cells=cells, ended=ended)

    def next(self) -> tuple[float, float]:
        """The crossing's estimate and the next full-length probe aimed from it."""
        s, lo, hi = self.s, self.lo, self.hi
        c = _estimate(lo, hi, list(self.recent), self.slope, s.find_peak_step, self.upper)
        stalled = len(self.cells) >= 3 and self.cells[-1] > self.cells[-3] / 2
        x = _aim(lo, hi, c, self.scale, stalled)
        if not lo:
            return c, max(x, s.target_qps)
        if not hi:
            upper = self.upper
            return c, min(x, upper if upper and upper > lo.qps else lo.qps * (1 + s.find_peak_step))
        return c, x

    def likely(self, qps: float, c: float) -> tuple[Point, bool] | None:
        """Within a bracket, what a probe at `qps` aimed from `c` most likely gives: f on the
        line through the bracket's ends, moved to cross zero at c (None outside a bracket)."""
        lo, hi = self.lo, self.hi
        slope = _secant_slope(hi, lo) if lo and hi else math.nan
        if not (math.isfinite(slope) and slope > 0 and math.isfinite(c)):
            return None
        f = slope * (qps - c)
        return Point(qps, min(f, -1e-12) if f <= 0 else f), f <= 0


class _Ahead:
    """Full-length runs on two worker threads (the compiled kernel releases the GIL; one thread
    when nothing is guessed): the probe the search needs and, beside it, a guess at the one it
    needs next. A guess the search does not take is dropped unreported: the probes, and so the
    answer, are the sequential search's whatever the timing. Two runs at once share the prepared
    SUT's model only to read it: a guess starts after two full-length runs, and the first run of
    a SUT makes every batch plan it uses (harness.accel.joint)."""

    def __init__(self, search: _Searcher, guess: bool):
        self.search = search
        self.pool = ThreadPoolExecutor(max_workers=2 if guess else 1, thread_name_prefix="find-peak")
        self.runs: dict[float, Future] = {}

    def start(self, qps: float) -> None:
        if qps not in self.runs:
            prepared = self.search.prepared
            settings = prepared.settings.with_target_qps(qps)
            self.runs[qps] = self.pool.submit(full_run, prepared, settings)

    def only(self, qps: float) -> None:
        """The search goes on at `qps`: a guess at any other rate missed, and goes (cancelled
        if it has not started; a running one ends on its own thread, unread)."""
        for q in [q for q in self.runs if q != qps]:
            self.runs.pop(q).cancel()

    def take(self, qps: float) -> tuple[Judged, float]:
        self.start(qps)
        return self.runs.pop(qps).result()

    def close(self) -> None:
        """A guess not started is cancelled; a running one ends on its own thread, beside what
        the caller does next (describing and writing the answer)."""
        self.runs.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)


def _full_search(search: _Searcher, estimate: float, slope: float, upper: float | None,
                 guess: bool) -> None:
    bracket = _Bracket(search.s, slope, upper)
    c = x = max(estimate, search.s.target_qps)
    ahead = _Ahead(search, guess)
    try:
        while search.left > 0:
            x = search._tidy(x)
            ahead.only(x)
            ahead.start(x)
            if guess:
                _guess(search, ahead, bracket, x, c)
            point, valid = search.full(x, ahead.take(x))
            bracket = bracket.absorb(point, valid)
            if bracket.ended:
                return
            c, x = bracket.next()
    finally:
        ahead.close()


def _guess(search: _Searcher, ahead: _Ahead, bracket: _Bracket, qps: float, c: float) -> None:
    """Within a bracket, start the probe that follows `qps` if it turns out as likely; not
    when that would end the search or no probe is left for it."""
    likely = bracket.likely(qps, c)
    if likely is None or search.left < 2:
        return
    then = bracket.absorb(*likely)
    if not then.ended:
        ahead.start(search._tidy(then.next()[1]))


def _bracketed(prepared: Prepared, on_probe: Callable[[Probe], None], upper: float | None,
               guess: bool = True) -> Search:
    search = _Searcher(prepared, on_probe)
    s = search.s
    near = max(s.target_qps, (upper or 0.0) / 2)   # about where the search will probe
    if full_queries(s, near) // SHORT >= MIN_SHORT_QUERIES:
        estimate, slope = _short_bracket(search, upper)
    else:   # too few queries to aim by a short run: start from the target, as LoadGen does
        estimate, slope = s.target_qps, math.nan
    _full_search(search, estimate, slope, upper, guess)
    return Search(search.answer(), search.probes, upper, "bracketed")


def doubling(prepared: Prepared, on_probe: Callable[[Probe], None] = lambda p: None) -> Search:
    """LoadGen's search, every probe full length (real-time SUTs and token runs)."""
    s = prepared.settings
    searcher = _Searcher(prepared, on_probe)

    def attempt(qps: float) -> bool:
        return searcher.full(qps)[1]

    if not attempt(s.target_qps):
        return Search(searcher.answer(), searcher.probes, None, "doubling")
    lower, upper = s.target_qps, s.target_qps * (1 + s.find_peak_step)
    while searcher.left > 0 and attempt(upper):
        lower, upper = upper, upper * (1 + s.find_peak_step)
    while _narrow(lower, upper, s.find_peak_decimals) and searcher.left > 0:
        mid = lower + (upper - lower) / 2
        if attempt(mid):
            lower = mid
        else:
            upper = mid
    return Search(searcher.answer(), searcher.probes, None, "doubling")


def saturation_qps(prepared: Prepared) -> float | None:
    """The adapter's analytic bound, where it has one."""
    bound = getattr(prepared.adapter, "saturation_qps", None)
    return bound(prepared.system.config, prepared.workload) if bound else None


def find_peak(prepared: Prepared, on_probe: Callable[[Probe], None] = lambda p: None,
              guess: bool = True) -> Search:
    """The run at the highest VALID target QPS found, every probe tried (in order) and how.
    `guess`: run the likely next probe beside the current one on a spare core (the same probes
    and answer either way; off where every core is busy already, as in a sweep)."""
    s = prepared.settings
    if prepared.adapter.time_mode != "virtual" or s.use_token_latencies:
        return doubling(prepared, on_probe)
    return _bracketed(prepared, on_probe, saturation_qps(prepared), guess)


def peak_run(prepared: Prepared, on_probe: Callable[[Probe], None] = lambda p: None,
             guess: bool = True) -> RunOutput:
    """The search as a run (`bench run --find-peak`, a sweep's find-peak point): the run found,
    its result's `find_peak` block naming the peak, the method and every probe."""
    found = find_peak(prepared, on_probe, guess)
    run = found.run
    block = clean({"peak_qps": run.record.settings.effective.target_qps, "method": found.method,
                   "saturation_qps": found.saturation_qps,
                   "probes": [dataclasses.asdict(p) for p in found.probes]})
    return RunOutput(from_dict({**run.result, "find_peak": block}, "the run's result"), run.records,
                     run.outcome)
