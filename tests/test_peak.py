"""Find-peak (harness.measure.peak): short runs and an analytic bound narrow the bracket, full-length
runs decide; the peak agrees with LoadGen's doubling search and with queueing theory."""

import math

import pytest
from scipy.optimize import brentq

import queueing as qt  # tests/ is on sys.path under pytest's default "prepend" import mode
from harness.judge import early_stopping
from harness.measure import peak
from harness.measure.runner import RunRequest, prepare


@pytest.fixture
def md1(synthetic):
    """M/D/1: one server, 1 ms per query; the tiny workload's bound is 10 ms."""
    return str(synthetic(mean_s=0.001))


def _peak(search: peak.Search) -> float:
    return search.run.result["settings"]["effective"]["target_qps"]


def _full(search: peak.Search) -> list[peak.Probe]:
    return [p for p in search.probes if p.full_length]


def test_probe_sequence_on_md1(md1):
    """The whole search, pinned: short runs from the target up to the bound (1000/s) and back,
    then full-length runs aimed across the grid of 0.1 QPS until VALID and INVALID meet."""
    search = peak.find_peak(prepare(RunRequest("server", md1, "tiny", 100, 600)))
    got = [(round(p.target_qps, 3), "full" if p.full_length else "short",
            p.valid if p.full_length else p.predicts_valid) for p in search.probes]
    assert got == [
        (100.0, "short", True), (1000.0, "short", False), (827.513, "short", False),
        (784.599, "short", False), (759.075, "short", True), (769.121, "short", False),
        (768.02, "short", True),
        (768.316, "full", False), (765.102, "full", False), (764.402, "full", True),
        (764.598, "full", True), (764.698, "full", False)]
    assert (search.method, search.saturation_qps, _peak(search)) == ("bracketed", 1000.0, 764.598)
    assert search.run.result["valid"]


def test_short_runs_never_decide(md1):
    search = peak.find_peak(prepare(RunRequest("server", md1, "tiny", 100, 600)))
    short = [p for p in search.probes if not p.full_length]
    assert short and all(p.valid is None and p.predicts_valid is not None for p in short)
    assert all(len(p.reasons) == 1 and "short run" in p.reasons[0] for p in short)
    full = _full(search)
    peak_qps = _peak(search)
    assert any(p.target_qps == peak_qps and p.valid for p in full)
    assert not any(p.valid for p in full if p.target_qps > peak_qps)
    failed = [p for p in full if not p.valid]
    assert failed and all(p.reasons for p in failed)   # each INVALID probe says why
    above = min(p.target_qps for p in failed if p.target_qps > peak_qps)
    assert not peak._narrow(peak_qps, above, 1)   # LoadGen's stopping rule holds


@pytest.mark.parametrize("sut, workload, duration", [("md1", "tiny", 600), ("npu_v2", "resnet50", 60)])
def test_same_peak_as_loadgens_doubling_search(request, sut, workload, duration):
    """Within LoadGen's own stopping rule (floor(lo * 10) + 1 >= floor(hi * 10): a bracket up to
    0.2 QPS wide), with fewer full-length runs (a 60 s run's tail is noisy at 0.1 QPS, which
    costs the end of the search a few more)."""
    system = request.getfixturevalue("md1") if sut == "md1" else sut
    prepared = prepare(RunRequest("server", system, workload, 100 if sut == "md1" else None, duration))
    old, new = peak.doubling(prepared), peak.find_peak(prepared)
    assert old.method == "doubling" and len(_full(old)) == len(old.probes)
    assert abs(_peak(new) - _peak(old)) < 0.2
    assert len(_full(new)) <= 0.6 * len(old.probes)   # 9 of 16 on npu_v2 (60 s), 6 of 16 on M/D/1


def _md1_peak(d: float, bound: float, duration: float, p: float = 0.99) -> float:
    """The rate at which M/D/1's share of sojourn times over `bound` equals what early stopping
    allows a run of that rate's query count (Erlang's waiting-time distribution)."""
    def excess(lam: float) -> float:
        allowed = peak.allowed_share(math.ceil(lam * duration) + 1, p)
        return 1 - qt.md1_sojourn_cdf(bound, lam, d) - allowed
    return brentq(excess, 0.5 / d, 0.95 / d, xtol=1e-6)


def test_md1_peak_matches_queueing_theory(md1):
    """At 600 s the analytic peak is 771.9/s; a run's over-bound count fluctuates (busy periods
    are correlated), about +-5 % at this length, which moves the peak by about 1 %."""
    expected = _md1_peak(0.001, 0.010, 600)
    assert expected == pytest.approx(771.94, abs=0.01)
    search = peak.find_peak(prepare(RunRequest("server", md1, "tiny", 100, 600)))
    assert _peak(search) == pytest.approx(expected, rel=0.015)
    assert _peak(search) < search.saturation_qps == 1000.0


def test_allowed_share_is_early_stoppings():
    n = 459_000
    t = early_stopping.largest_rank(n, 0.99)
    assert peak.allowed_share(n, 0.99) == t / n < 0.01
    assert early_stopping.server(n, t, 0.99).met and not early_stopping.server(n, t + 1, 0.99).met


def test_saturation_bounds(synthetic):
    batched = prepare(RunRequest("server", str(synthetic(mean_s=0.002, servers=3, batching={
        "max_batch": 4, "timeout_s": 0.001, "per_sample_s": 0.0005})), "tiny"))
    assert peak.saturation_qps(batched) == pytest.approx(3 * 4 / 0.0035)
    npu = prepare(RunRequest("server", "npu_v2"))
    assert peak.saturation_qps(npu) == pytest.approx(4594.263, abs=1e-3)   # 2 engines x 8 / 3.483 ms


def test_real_time_suts_search_by_doubling(monkeypatch):
    prepared = prepare(RunRequest("server", "examples/sleepy/system.toml", "resnet50", 100, 1))
    assert prepared.adapter.time_mode == "real"
    monkeypatch.setattr(peak, "doubling", lambda p, on_probe: "doubling")
    assert peak.find_peak(prepared) == "doubling"


def test_the_slope_that_aims_the_full_runs_straddles_the_crossing():
    """npu_v2's short runs ended at 4345.580 and 4348.266 QPS, both under the bound: their
    secant (noise, 0.0007 per QPS) sent the second full-length run to the saturation bound,
    4594.263 QPS. The nearest runs either side of the crossing give the tail's own slope."""
    from harness.measure.peak import Point, _straddling_slope

    seen = [Point(4004.009, -0.856), Point(4289.164, -0.161), Point(4367.851, 0.061),
            Point(4345.580, -0.0101), Point(4348.266, -0.0082)]
    assert _straddling_slope(seen) == pytest.approx((0.061 + 0.0082) / (4367.851 - 4348.266))
    one_side = [Point(100.0, -0.5), Point(110.0, -0.3)]
    assert _straddling_slope(one_side) == pytest.approx(0.02)


@pytest.mark.parametrize("sut", ["npu_v2", "npu_v1"])
def test_a_dropped_probe_frees_its_run_at_once(sut):
    """No reference cycle keeps a run alive once it is dropped: numpy's arrays never trigger a
    garbage collection, so find-peak held every probe's SUT, log and records (1.3 GB on npu_v2)
    until it ended."""
    import gc
    import weakref

    from harness.measure.runner import judged

    prepared = prepare(RunRequest("server", sut, duration_s=2.0, min_queries=100))
    gc.disable()
    try:
        run = judged(prepared, prepared.settings)
        sut_ref, log_ref = weakref.ref(run.sut), weakref.ref(run.sut.log)
        del run
        assert sut_ref() is None and log_ref() is None
    finally:
        gc.enable()


def test_guessed_probes_run_beside_the_search_and_change_nothing(md1, monkeypatch):
    """Within a bracket, the probe that follows if the current one turns out as likely runs
    beside it on the other core; the search takes it or drops it unreported, so the probes and
    the answer are those of the search one probe at a time."""
    prepared = prepare(RunRequest("server", md1, "tiny", 100, 600))
    guessed = []
    real_guess = peak._guess

    def counting(search, ahead, bracket, qps, c):
        before = set(ahead.runs)
        real_guess(search, ahead, bracket, qps, c)
        guessed.extend(set(ahead.runs) - before)

    monkeypatch.setattr(peak, "_guess", counting)
    beside = peak.find_peak(prepared)
    taken = list(guessed)
    alone = peak.find_peak(prepared, guess=False)      # as a sweep's point searches
    assert guessed == taken                            # ... with no guess
    assert repr(beside.probes) == repr(alone.probes)   # every field, nan included
    assert _peak(beside) == _peak(alone) == 764.598
    full = [p.target_qps for p in alone.probes if p.full_length]
    assert taken and all(q not in full[:3] for q in taken)   # only once the bracket exists
    assert 764.698 in taken   # the last probe ran beside the one before it
