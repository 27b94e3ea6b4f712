"""`bench gate`: is the candidate worse than the baseline, per rule?

The unit of replication is the run, never the query. Method, chosen from the inputs:
- one run a side, or simulated runs (time_mode "virtual") that all share one seed: an exact
  point comparison (a deterministic simulation has no noise to estimate);
- otherwise (several runs on at least one side): a 95% confidence interval of the ratio
  candidate/baseline of the per-run metric, from a t-interval on log values (Welch when both
  sides have two runs or more; pooled variance from the repeated side when one side has a single
  run). Verdict per rule, with the tolerated change delta: regression when the whole interval
  of the bad-direction change lies above 0 and its estimate exceeds delta; pass when the
  interval's upper end is within delta; inconclusive otherwise (more runs would decide).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import fmean, variance

from scipy import stats

from harness.record import provenance
from harness.errors import BenchError
from harness.analyse.gate_like import refuse_unlike
from harness.analyse.gate_rules import Rule
from harness.analyse.model import Result

CONFIDENCE = 0.95
PASS, REGRESSION, INCONCLUSIVE = "pass", "regression", "inconclusive"
EXIT_CODES = {PASS: 0, REGRESSION: 1, INCONCLUSIVE: 3}
EXACT, WELCH, POOLED = "exact", "welch-t on log ratio", "pooled-t on log ratio"


@dataclass(frozen=True)
class Check:
    rule: Rule
    baseline: tuple[float, ...]
    candidate: tuple[float, ...]
    baseline_center: float
    candidate_center: float | None    # None: the candidate produced no value
    ratio: float | None               # candidate / baseline (geometric means)
    ci: tuple[float, float] | None    # of the ratio
    verdict: str
    note: str = ""

    @property
    def change_pct(self) -> float | None:
        return None if self.ratio is None else (self.ratio - 1) * 100


@dataclass(frozen=True)
class GateReport:
    workload: str
    scenario: str
    baseline: tuple[Result, ...]
    candidate: tuple[Result, ...]
    method: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def verdict(self) -> str:
        verdicts = {c.verdict for c in self.checks}
        if REGRESSION in verdicts:
            return REGRESSION
        return INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def gate(baseline: list[Result], candidate: list[Result], rules: list[Rule]) -> GateReport:
    refuse_unlike(baseline, candidate)
    scenario = baseline[0].scenario
    rules = [r.resolve(scenario, baseline[0].metric.unit) for r in rules]
    method = choose_method(baseline, candidate)
    checks = [validity_check(baseline, candidate)]
    checks += [check_rule(rule, baseline, candidate, method) for rule in rules]
    return GateReport(baseline[0].workload, scenario, tuple(baseline), tuple(candidate), method,
                      tuple(checks), tuple(method_notes(baseline, candidate, method)
                                           + version_notes(baseline + candidate)))


def choose_method(baseline: list[Result], candidate: list[Result]) -> str:
    runs = baseline + candidate
    if len(baseline) == 1 and len(candidate) == 1:
        return EXACT
    if all(r.time_mode == "virtual" for r in runs) and len({r.seed for r in runs}) == 1:
        return EXACT
    return WELCH if min(len(baseline), len(candidate)) >= 2 else POOLED


def method_notes(baseline: list[Result], candidate: list[Result], method: str) -> list[str]:
    if method != EXACT:
        return [f"{CONFIDENCE:.0%} confidence interval over runs "
                f"({len(baseline)} baseline, {len(candidate)} candidate); assumes per-run "
                "metrics are log-normal"]
    if any(r.time_mode != "virtual" for r in baseline + candidate):
        return ["one real-time run a side: no estimate of run-to-run noise; "
                "give several --baseline and --candidate runs for a confidence interval"]
    return ["deterministic simulated runs: compared exactly"]


def version_notes(runs: list[Result]) -> list[str]:
    """Package versions that differ between the runs (a seed reproduces a simulated run only
    with the same numpy)."""
    differ = provenance.differences([r.environment for r in runs])
    return [f"versions differ between the runs: {', '.join(differ)}"] if differ else []


def figure(result: Result, rule: Rule, role: str) -> float:
    value = result.figures.get(rule.metric)
    if value is None:
        raise BenchError(f"{result.path}: {role} has no figure {rule.metric} "
                         f"(needed by {rule.origin})")
    return float(value)


def _invalid(runs: list[Result]) -> str:
    return "; ".join(f"{r.path}: INVALID ({', '.join(r.invalid_reasons) or 'no reason given'})"
                     for r in runs if not r.valid)


def validity_check(baseline: list[Result], candidate: list[Result]) -> Check:
    """A candidate turning INVALID is a regression; against an INVALID baseline it is not."""
    rule = Rule("valid", 0.0, 1, "candidate runs must be VALID")
    b = tuple(float(r.valid) for r in baseline)
    c = tuple(float(r.valid) for r in candidate)
    if not all(b):
        note = "baseline is INVALID too, validity is not gated: " + _invalid(baseline)
        return Check(rule, b, c, fmean(b), fmean(c), None, None, PASS, note)
    verdict = PASS if all(c) else REGRESSION
    return Check(rule, b, c, 1.0, fmean(c), None, None, verdict, _invalid(candidate))


def check_rule(rule: Rule, baseline: list[Result], candidate: list[Result], method: str) -> Check:
    b = tuple(figure(r, rule, "baseline") for r in baseline)
    lost = [r for r in candidate if r.figures.get(rule.metric) is None and not r.valid]
    if lost:   # an INVALID candidate that produced no figure (e.g. nothing completed)
        return Check(rule, b, (), _geomean(b) if min(b) > 0 else fmean(b), None, None, None,
                     REGRESSION, f"no {rule.metric} from INVALID run(s): {_invalid(lost)}")
    c = tuple(figure(r, rule, "candidate") for r in candidate)
    if min(b + c) <= 0:
        return _nonpositive_check(rule, b, c)
    if method == EXACT:
        return _exact_check(rule, b, c)
    return _interval_check(rule, b, c)


def _geomean(values: tuple[float, ...]) -> float:
    return math.exp(fmean(math.log(v) for v in values))


def _exact_check(rule: Rule, b: tuple[float, ...], c: tuple[float, ...]) -> Check:
    bc, cc = _geomean(b), _geomean(c)
    worse = rule.direction * math.log(cc / bc)
    verdict = REGRESSION if worse > rule.threshold_log + 1e-12 else PASS
    note = "" if len(set(b)) <= 1 and len(set(c)) <= 1 else "runs with one seed differ within a side"
    return Check(rule, b, c, bc, cc, cc / bc, None, verdict, note)


def log_ratio_interval(b: tuple[float, ...], c: tuple[float, ...],
                       confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(estimate, low, high) of mean(log c) - mean(log b) with a t-interval."""
    lb, lc = [math.log(v) for v in b], [math.log(v) for v in c]
    d = fmean(lc) - fmean(lb)
    if len(lb) >= 2 and len(lc) >= 2:
        vb, vc = variance(lb) / len(lb), variance(lc) / len(lc)
        se = math.sqrt(vb + vc)
        df = (vb + vc) ** 2 / (vb ** 2 / (len(lb) - 1) + vc ** 2 / (len(lc) - 1)) if se else 1
    else:   # one side has a single run: its variance is taken from the other side
        many = lb if len(lb) >= 2 else lc
        s2 = variance(many)
        se, df = math.sqrt(s2 * (1 / len(lb) + 1 / len(lc))), len(many) - 1
    half = stats.t.ppf(0.5 + confidence / 2, df) * se if se else 0.0
    return d, d - half, d + half


def _interval_check(rule: Rule, b: tuple[float, ...], c: tuple[float, ...]) -> Check:
    d, lo, hi = log_ratio_interval(b, c)
    worse = rule.direction * d
    worse_lo, worse_hi = sorted((rule.direction * lo, rule.direction * hi))
    delta = rule.threshold_log
    if worse_lo > 0 and worse > delta:
        verdict = REGRESSION
    elif worse_hi <= delta:
        verdict = PASS
    else:
        verdict = INCONCLUSIVE
    note = "" if verdict != INCONCLUSIVE else "interval straddles the tolerance: add runs to decide"
    return Check(rule, b, c, _geomean(b), _geomean(c), math.exp(d), (math.exp(lo), math.exp(hi)),
                 verdict, note)


def _nonpositive_check(rule: Rule, b: tuple[float, ...], c: tuple[float, ...]) -> Check:
    """Zero counts (failed_queries = 0) have no ratio: compare the means directly."""
    bm, cm = fmean(b), fmean(c)
    if bm == cm:
        return Check(rule, b, c, bm, cm, None, None, PASS, "no change")
    if bm > 0:
        ratio = cm / bm
        worse = rule.direction * (ratio - 1) * 100
        verdict = REGRESSION if worse > rule.tolerance_pct else PASS
    else:
        verdict = REGRESSION if rule.direction * (cm - bm) > 0 else PASS
        ratio = None
    return Check(rule, b, c, bm, cm, ratio, None, verdict,
                 "values <= 0: compared by means without an interval")
