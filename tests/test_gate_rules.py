"""Gate rules and verdicts as tables: parsing, directions, exact and interval verdicts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.errors import BenchError
from harness.analyse.gate import (EXACT, INCONCLUSIVE, PASS, POOLED, REGRESSION, WELCH,
                                  check_rule, choose_method, log_ratio_interval)
from harness.analyse.gate_rules import (DROP_IS_BAD, HEADLINE, RISE_IS_BAD, max_regression_rule,
                                        parse_rule, parse_rules)
from harness.analyse.model import Metric, Result


@pytest.mark.parametrize("text,metric,pct,direction", [
    ("latency_s.p99:+5%", "latency_s.p99", 5.0, RISE_IS_BAD),
    ("latency_s.p99:5%", "latency_s.p99", 5.0, RISE_IS_BAD),
    ("latency_s.p99.9:+2.5", "latency_s.p99.9", 2.5, RISE_IS_BAD),
    ("p99:+10%", "latency_s.p99", 10.0, RISE_IS_BAD),
    ("samples_per_second:-3%", "samples_per_second", 3.0, DROP_IS_BAD),
    ("throughput:3%", "samples_per_second", 3.0, DROP_IS_BAD),
    ("energy.joules_per_sample:+1%", "energy.joules_per_sample", 1.0, RISE_IS_BAD),
    ("energy.samples_per_joule:-1%", "energy.samples_per_joule", 1.0, DROP_IS_BAD),
    ("energy.breakdown_j.dram:+4%", "energy.breakdown_j.dram", 4.0, RISE_IS_BAD),
    ("failed_queries:+0%", "failed_queries", 0.0, RISE_IS_BAD),
    ("early_stopping.estimate_s:+2%", "early_stopping.estimate_s", 2.0, RISE_IS_BAD),
    (" duration_s : -1 % ", "duration_s", 1.0, DROP_IS_BAD),
])
def test_rule_parsing(text, metric, pct, direction):
    rule = parse_rule(text)
    assert (rule.metric, rule.tolerance_pct, rule.direction) == (metric, pct, direction)


@pytest.mark.parametrize("text,message", [
    ("latency_s.p99", "expected METRIC:\\+PCT%"),
    ("latency_s.p99:+5%%", "expected METRIC"),
    ("latency_s.p99:-5%", "latency_s.p99 is lower is better, so its tolerated change is written \\+PCT%"),
    ("samples_per_second:+3%", "higher is better, so its tolerated change is written -PCT%"),
    ("duration_s:5%", "does not know whether duration_s is better higher or lower"),
    ("samples_per_second:-100%", "cannot happen"),
    (":5%", "expected METRIC"),
])
def test_bad_rules_are_refused_up_front(text, message):
    with pytest.raises(BenchError, match=message):
        parse_rule(text)


@pytest.mark.parametrize("scenario,direction", [
    ("single-stream", RISE_IS_BAD), ("multi-stream", RISE_IS_BAD),
    ("server", DROP_IS_BAD), ("offline", DROP_IS_BAD)])
def test_headline_direction_depends_on_scenario(scenario, direction):
    assert max_regression_rule("5").resolve(scenario).direction == direction
    assert parse_rule("metric:5%").resolve(scenario).direction == direction


def test_signed_headline_rule_checked_once_scenario_known():
    with pytest.raises(BenchError, match="higher is better"):
        parse_rule("metric:+5%").resolve("offline")


@pytest.mark.parametrize("text", ["abc", "-1", "nan"])
def test_bad_max_regression(text):
    with pytest.raises(BenchError, match="--max-regression"):
        max_regression_rule(text)


def test_default_rule_only_without_user_rules():
    assert [r.metric for r in parse_rules((), None, 5.0)] == [HEADLINE]
    assert [r.metric for r in parse_rules(("p99:+5%",), None, 5.0)] == ["latency_s.p99"]
    assert [r.metric for r in parse_rules(("p99:+5%",), "3%", 5.0)] == [HEADLINE, "latency_s.p99"]


# ---------------------------------------------------------------- verdicts


def run(value: float, mode: str = "real", seed: int = 0, name: str = "metric.value") -> Result:
    return Result(source="bench", path=Path("r"), system="s", workload="w", scenario="offline",
                  metric=Metric("samples_per_second", value, "samples/s"), valid=True,
                  figures={name: value}, time_mode=mode, seed=seed)


def runs(values, mode="real", same_seed=False, name="metric.value"):
    return [run(v, mode, 0 if same_seed else i, name) for i, v in enumerate(values)]


THROUGHPUT_5 = max_regression_rule("5").resolve("offline")      # drop > 5% fails
LATENCY_5 = parse_rule("latency_s.p99:+5%")                      # rise > 5% fails


@pytest.mark.parametrize("base,cand,rule,verdict", [
    ([100.0], [96.0], THROUGHPUT_5, PASS),
    ([100.0], [95.0], THROUGHPUT_5, PASS),          # exactly at the tolerance
    ([100.0], [94.9], THROUGHPUT_5, REGRESSION),
    ([100.0], [150.0], THROUGHPUT_5, PASS),          # improvement
    ([1.0], [1.05], LATENCY_5, PASS),
    ([1.0], [1.051], LATENCY_5, REGRESSION),
    ([1.0], [0.5], LATENCY_5, PASS),
])
def test_exact_verdicts(base, cand, rule, verdict):
    name = rule.metric
    check = check_rule(rule, runs(base, name=name), runs(cand, name=name), EXACT)
    assert check.verdict == verdict
    assert check.ci is None


QUIET = [100.0, 100.5, 99.5, 100.2, 99.8]
NOISY = [100.0, 80.0, 120.0, 95.0, 108.0]


@pytest.mark.parametrize("base,cand,verdict", [
    (QUIET, [v * 0.99 for v in QUIET], PASS),          # 1% slower, tight: surely within 5%
    (QUIET, [v * 0.80 for v in QUIET], REGRESSION),    # 20% slower, tight
    (QUIET, [v * 1.10 for v in QUIET], PASS),          # faster
    (NOISY, [v * 0.95 for v in NOISY], INCONCLUSIVE),  # noise swamps a 5% question
    (NOISY, [v * 0.50 for v in NOISY], REGRESSION),    # even noise cannot hide halving
])
def test_interval_verdicts(base, cand, verdict):
    check = check_rule(THROUGHPUT_5, runs(base), runs(cand), WELCH)
    assert check.verdict == verdict
    lo, hi = check.ci
    assert lo <= check.ratio <= hi


def test_interval_matches_welch_by_hand():
    b, c = (1.0, 1.1, 0.9), (2.0, 2.2, 1.8)
    d, lo, hi = log_ratio_interval(b, c)
    assert d == pytest.approx(math.log(2))
    assert lo < d < hi and hi - d == pytest.approx(d - lo)


def test_one_single_run_side_borrows_variance_from_the_other():
    check = check_rule(THROUGHPUT_5, runs([100.0]), runs(QUIET), POOLED)
    assert check.verdict == PASS and check.ci is not None


def test_zero_counts_compare_by_means():
    rule = parse_rule("failed_queries:+0%")
    same = check_rule(rule, runs([0.0], name="failed_queries"), runs([0.0], name="failed_queries"), EXACT)
    worse = check_rule(rule, runs([0.0], name="failed_queries"), runs([3.0], name="failed_queries"), EXACT)
    assert (same.verdict, worse.verdict) == (PASS, REGRESSION)


@pytest.mark.parametrize("base,cand,method", [
    (runs([1.0]), runs([1.0]), EXACT),
    (runs([1.0, 1.0], "virtual", True), runs([2.0, 2.0], "virtual", True), EXACT),
    (runs([1.0, 1.1], "virtual"), runs([2.0, 2.1], "virtual"), WELCH),   # different seeds
    (runs([1.0, 1.1]), runs([2.0, 2.1]), WELCH),
    (runs([1.0]), runs([2.0, 2.1]), POOLED),
])
def test_method_choice(base, cand, method):
    assert choose_method(base, cand) == method
