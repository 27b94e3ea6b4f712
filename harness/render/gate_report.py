"""Gate outputs: a terminal table, Markdown for a CI job summary, JSON, and JUnit XML (one test
case per metric; a <failure> for a regression, <skipped> for an inconclusive one)."""

from __future__ import annotations

from harness.record.build import json_text

from harness.render import escape

import xml.etree.ElementTree as ET

from harness.analyse.gate import CONFIDENCE, EXACT, INCONCLUSIVE, REGRESSION, Check, GateReport
from harness.analyse.gate_rules import describe_direction
from harness.figures import Figure, describe
from harness.analyse.model import LATENCY_SCENARIOS

HEADERS = ("Metric", "Rule", "Baseline", "Candidate", "Change", f"{CONFIDENCE:.0%} CI", "Verdict")
LABELS = {"pass": "PASS", REGRESSION: "REGRESSION", INCONCLUSIVE: "INCONCLUSIVE"}


def figure(report: GateReport, c: Check) -> Figure:
    """The checked figure's label and unit (the headline's from the baseline's metric)."""
    base = report.baseline[0]
    return describe(c.rule.metric, base.metric.as_dict(), base.scenario in LATENCY_SCENARIOS)


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{(ratio - 1) * 100:+.2f}%"


def _rule_text(c: Check) -> str:
    return "must stay VALID" if c.rule.metric == "valid" else c.rule.text()


def _center(c: Check, side: str, fig: Figure) -> str:
    if c.rule.metric == "valid":
        values = c.baseline if side == "baseline" else c.candidate
        return f"{int(sum(values))}/{len(values)} valid"
    center = c.baseline_center if side == "baseline" else c.candidate_center
    n = len(c.baseline if side == "baseline" else c.candidate)
    return ("-" if center is None else fig.text(center)) + (f" (n={n})" if n > 1 else "")


def _ci(c: Check) -> str:
    return "-" if c.ci is None else f"[{_pct(c.ci[0])}, {_pct(c.ci[1])}]"


def cells(report: GateReport, c: Check) -> list[str]:
    """One table row: the figure's label (its key is in the rule), values with units."""
    fig = figure(report, c)
    label = "validity" if c.rule.metric == "valid" else fig.label
    return [label, _rule_text(c), _center(c, "baseline", fig), _center(c, "candidate", fig),
            _pct(c.ratio), _ci(c), LABELS[c.verdict]]


def _sides(report: GateReport) -> str:
    b, c = report.baseline, report.candidate
    return (f"baseline {b[0].system} ({len(b)} run{'s' * (len(b) > 1)}) vs "
            f"candidate {c[0].system} ({len(c)} run{'s' * (len(c) > 1)})")


def headline(report: GateReport) -> str:
    return f"gate {report.workload} {report.scenario}: {_sides(report)}; method: {report.method}"


def table(report: GateReport) -> str:
    body = [list(HEADERS)] + [cells(report, c) for c in report.checks]
    widths = [max(len(row[i]) for row in body) for i in range(len(HEADERS))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip() for row in body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"note: {n}" for n in report.notes]
    notes += [f"note: {c.rule.metric}: {c.note}" for c in report.checks if c.note]
    return escape.terminal("\n".join([headline(report), ""] + lines + [""] + notes +
                                      [f"verdict: {LABELS[report.verdict]} (exit {report.exit_code})"]) + "\n")


def markdown(report: GateReport) -> str:
    icon = {"pass": "✅", REGRESSION: "❌", INCONCLUSIVE: "⚠️"}
    md = escape.markdown
    lines = [f"### bench gate: {icon[report.verdict]} {LABELS[report.verdict]}", "",
             f"**{md(report.workload)} / {md(report.scenario)}**: {md(_sides(report))}. "
             f"Method: {report.method}.",
             "", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(md(x) for x in cells(report, c)) + " |" for c in report.checks]
    lines += [""] + [f"- {md(n)}" for n in report.notes]
    lines += [f"- {md(c.rule.metric)}: {md(c.note)}" for c in report.checks if c.note]
    return "\n".join(lines) + "\n"


def check_dict(report: GateReport, c: Check) -> dict:
    fig = figure(report, c)
    return {
        "metric": c.rule.metric, "label": fig.label, "unit": fig.unit,
        "rule": _rule_text(c), "origin": c.rule.origin,
        "direction": describe_direction(c.rule.direction) if c.rule.metric != "valid" else None,
        "tolerance_pct": c.rule.tolerance_pct,
        "baseline": {"values": list(c.baseline), "center": c.baseline_center},
        "candidate": {"values": list(c.candidate), "center": c.candidate_center},
        "ratio": c.ratio, "change_pct": c.change_pct,
        "ci_ratio": list(c.ci) if c.ci else None, "verdict": c.verdict, "note": c.note or None,
    }


def to_dict(report: GateReport) -> dict:
    return {
        "verdict": report.verdict, "exit_code": report.exit_code,
        "workload": report.workload, "scenario": report.scenario, "method": report.method,
        "confidence": None if report.method == EXACT else CONFIDENCE,
        "baseline": {"system": report.baseline[0].system, "runs": [str(r.path) for r in report.baseline]},
        "candidate": {"system": report.candidate[0].system, "runs": [str(r.path) for r in report.candidate]},
        "checks": [check_dict(report, c) for c in report.checks], "notes": list(report.notes),
    }


def to_json(report: GateReport) -> str:
    return json_text(to_dict(report)) + "\n"


def junit(report: GateReport) -> str:
    failures = sum(c.verdict == REGRESSION for c in report.checks)
    skipped = sum(c.verdict == INCONCLUSIVE for c in report.checks)
    suites = ET.Element("testsuites", name="bench gate", tests=str(len(report.checks)),
                        failures=str(failures), errors="0", skipped=str(skipped))
    suite = ET.SubElement(suites, "testsuite", name=f"bench gate {report.workload} {report.scenario}",
                          tests=str(len(report.checks)), failures=str(failures), errors="0",
                          skipped=str(skipped))
    for c in report.checks:
        _testcase(suite, report, c)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(suite: ET.Element, report: GateReport, c: Check) -> None:
    case = ET.SubElement(suite, "testcase", name=f"{c.rule.metric} ({_rule_text(c)})",
                         classname=f"bench.gate.{report.workload}.{report.scenario}")
    fig = figure(report, c)
    detail = (f"baseline {_center(c, 'baseline', fig)}, candidate {_center(c, 'candidate', fig)}, "
              f"change {_pct(c.ratio)}, CI {_ci(c)}. {c.note}").strip()
    if c.verdict == REGRESSION:
        ET.SubElement(case, "failure", message=f"regression: {_rule_text(c)}",
                      type="regression").text = detail
    elif c.verdict == INCONCLUSIVE:
        ET.SubElement(case, "skipped", message=f"inconclusive: {detail}")
    else:
        ET.SubElement(case, "system-out").text = detail
