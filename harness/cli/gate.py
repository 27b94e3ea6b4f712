"""`bench gate`: fail CI when a candidate regresses against a baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli import formats

from harness.render import gate_report
from harness.analyse.gate import gate
from harness.analyse.gate_rules import parse_rules
from harness.analyse.loader import load_one
from harness.record.rundir import write_file

DEFAULT_MAX_REGRESSION = 5.0


@click.command(name="gate", epilog="""\b
Exit status:
  0  pass: no rule's tolerance is exceeded
  1  regression: a rule's tolerance is exceeded (or a candidate run is INVALID)
  2  usage or input error: bad flags, unlike runs, missing or corrupt results
     (a missing or corrupt baseline is an error, never a pass)
  3  inconclusive: run-to-run noise is too large to decide; add runs to each side
""")
@click.option("--baseline", "baselines", multiple=True, required=True,
              type=click.Path(path_type=Path), help="A baseline run directory (repeatable).")
@click.option("--candidate", "candidates", multiple=True, required=True,
              type=click.Path(path_type=Path), help="A candidate run directory (repeatable).")
@click.option("--max-regression", metavar="PCT",
              help="Tolerated worsening of the scenario's headline metric, in percent "
                   f"[default {DEFAULT_MAX_REGRESSION:g} when no --rule is given].")
@click.option("--rule", "rules", multiple=True, metavar="METRIC:+PCT%",
              help="Tolerated change of any result figure in its bad direction, e.g. "
                   "latency_s.p99:+5% or samples_per_second:-3% (repeatable).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the verdict as JSON.")
@click.option("--markdown", "md_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Markdown (e.g. $GITHUB_STEP_SUMMARY).")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write JUnit XML: one test case per metric.")
@formats.option()
def command(baselines, candidates, max_regression, rules, json_out,
            md_out, junit_out, fmt) -> None:
    """Compare candidate runs with baseline runs, rule by rule.

    One run a side (or simulated runs sharing one seed) are compared exactly. With several
    real-time runs a side, each rule gets a 95% confidence interval of the candidate/baseline
    ratio of per-run metrics: REGRESSION when the change is surely worse and beyond the
    tolerance, PASS when it is surely within it, INCONCLUSIVE otherwise. Runs must share
    scenario, workload and test settings; the system may differ.
    """
    parsed = parse_rules(rules, max_regression, DEFAULT_MAX_REGRESSION)
    report = gate([load_one(p, "--baseline") for p in baselines],
                  [load_one(p, "--candidate") for p in candidates], parsed)
    for flag, path, render in (("--json", json_out, gate_report.to_json),
                               ("--markdown", md_out, gate_report.markdown),
                               ("--junit", junit_out, gate_report.junit)):
        if path is not None:
            write_file(path, render(report), flag)
    if fmt == formats.JSON:
        click.echo(gate_report.to_json(report), nl=False)
    else:
        click.echo(gate_report.table(report), nl=False)
    if report.exit_code:
        sys.exit(report.exit_code)   # not ctx.exit: main() runs click with standalone_mode=False
