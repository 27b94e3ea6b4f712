"""Gate rules as data: `METRIC:+PCT%` parsed up front, each metric knowing its good direction.

`latency_s.p99:+5%` fails when p99 rises more than 5%; `samples_per_second:-3%` when throughput
drops more than 3%. A sign may be left out (`latency_s.p99:5%`): the metric's bad direction is
used. A sign that contradicts a known metric's direction is refused as a likely mistake; for a
figure bench does not know, the sign is required and defines the bad direction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from harness import figures
from harness.errors import BenchError
from harness.analyse.model import LATENCY_SCENARIOS

RISE_IS_BAD = figures.LOWER     # lower is better: latency, energy, failures
DROP_IS_BAD = figures.HIGHER    # higher is better: throughput, efficiency
HEADLINE = figures.HEADLINE

ALIASES = {
    "metric": HEADLINE, "headline": HEADLINE, "throughput": "samples_per_second",
    "qps": "samples_per_second", "sps": "samples_per_second", "tps": "tokens_per_second",
    "ttft": "ttft_s.p99", "tpot": "tpot_s.p99",
    **{p: f"latency_s.{p}" for p in figures.PERCENTILES},
    **figures.SWEEP_COLUMNS,   # the sweep summary's spellings (p99_s, power_w, ...)
}
_RULE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:\s*([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*$")


def known_direction(metric: str, scenario: str | None = None, unit: str | None = None) -> int | None:
    """The figure's bad direction from the registry (the headline's from scenario and unit)."""
    if metric == HEADLINE:
        latency = None if scenario is None else scenario in LATENCY_SCENARIOS
        return figures.headline("", unit or "", latency).better
    found = figures.lookup(metric)
    return found.better if found else None


def describe_direction(direction: int) -> str:
    return "lower is better" if direction == RISE_IS_BAD else "higher is better"


@dataclass(frozen=True)
class Rule:
    metric: str               # dotted result.json figure
    tolerance_pct: float      # tolerated change in the bad direction
    direction: int | None     # RISE_IS_BAD | DROP_IS_BAD; None until the scenario is known
    origin: str               # as the user wrote it
    signed: int = 0           # the sign the user wrote (+1/-1), 0 when none

    def resolve(self, scenario: str, unit: str | None = None) -> Rule:
        """Fix the direction of the headline metric once the scenario (and its unit) is known."""
        known = known_direction(self.metric, scenario, unit)
        if self.direction is not None:
            return self
        if self.signed and known is not None and self.signed != known:
            raise _contradiction(self, known)
        _check_pct(self.tolerance_pct, known or self.signed, self.origin)
        return replace(self, direction=known or self.signed)

    @property
    def threshold_log(self) -> float:
        """The tolerated bad-direction change, as a log ratio (> 0)."""
        p = self.tolerance_pct / 100
        return math.log1p(p) if self.direction == RISE_IS_BAD else -math.log1p(-p)

    def text(self) -> str:
        sign = "+" if self.direction == RISE_IS_BAD else "-"
        return f"{self.metric}:{sign}{self.tolerance_pct:g}%"


def _contradiction(rule: Rule, known: int) -> BenchError:
    sign = "+" if known == RISE_IS_BAD else "-"
    return BenchError(f"{rule.origin}: {rule.metric} is {describe_direction(known)}, so its "
                      f"tolerated change is written {sign}PCT% (e.g. {rule.metric}:{sign}"
                      f"{rule.tolerance_pct:g}%)")


def parse_rule(text: str) -> Rule:
    origin = f"--rule {text}"
    m = _RULE.match(text)
    if not m:
        raise BenchError(f"{origin}: expected METRIC:+PCT% or METRIC:-PCT% "
                         "(e.g. latency_s.p99:+5%, samples_per_second:-3%)")
    name, sign, pct = ALIASES.get(m.group(1), m.group(1)), m.group(2), float(m.group(3))
    signed = {"+": RISE_IS_BAD, "-": DROP_IS_BAD, "": 0}[sign]
    _check_pct(pct, signed or known_direction(name), origin)
    rule = Rule(name, pct, None, origin, signed)
    if name == HEADLINE:
        return rule
    known = known_direction(name)
    if known is None and not signed:
        raise BenchError(f"{origin}: bench does not know whether {name} is better higher or "
                         f"lower; write {name}:+{pct:g}% (a rise is bad) or {name}:-{pct:g}% "
                         "(a drop is bad)")
    if signed and known is not None and signed != known:
        raise _contradiction(rule, known)
    return replace(rule, direction=known or signed)


def max_regression_rule(text: str) -> Rule:
    origin = f"--max-regression {text}"
    try:
        pct = float(str(text).strip().rstrip("%"))
    except ValueError:
        raise BenchError(f"{origin}: expected a percentage such as 5 or 5%") from None
    _check_pct(pct, None, origin)
    return Rule(HEADLINE, pct, None, origin)


def _check_pct(pct: float, direction: int | None, origin: str) -> None:
    if not math.isfinite(pct) or pct < 0:
        raise BenchError(f"{origin}: the percentage must be >= 0")
    if direction == DROP_IS_BAD and pct >= 100:
        raise BenchError(f"{origin}: a drop of {pct:g}% or more cannot happen; use less than 100%")


def parse_rules(rules: list[str] | tuple[str, ...], max_regression: str | None,
                default_pct: float) -> list[Rule]:
    """All rules, or the default headline rule when the user gave none."""
    parsed = [parse_rule(r) for r in rules]
    if max_regression is not None:
        parsed.insert(0, max_regression_rule(max_regression))
    if not parsed:
        parsed.append(Rule(HEADLINE, default_pct, None, f"default --max-regression {default_pct:g}"))
    return parsed
