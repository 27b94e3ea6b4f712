"""One registry owns each figure's label, unit and direction; gate, report deltas and the sweep
summary read it."""

import json

import pytest

from harness import figures
from clirun import bench
from harness.render import deltas
from harness.analyse.gate_rules import known_direction, parse_rules
from harness.sweep.figures import FIGURES, LABELS
from records import record



@pytest.mark.parametrize("value,unit,text", [
    (1.37395e-3, "s", "1.374 ms"), (405.565e-6, "s", "405.6 µs"), (2.5, "s", "2.5 s"),
    (0.0013636, "J", "1.364 mJ"), (3.4088, "W", "3.409 W"), (2465.7, "samples/s", "2,466 samples/s"),
    (12.0, "", "12"), (None, "s", "n/a"), (float("nan"), "W", "n/a"),
    (73191.51, "tokens/s", "73,192 tokens/s"), (103274.69, "tokens/s", "103,275 tokens/s")])
def test_values_read_with_their_units(value, unit, text):
    assert figures.humanise(value, unit) == text


def test_the_sweep_columns_gate_and_deltas_agree_on_directions():
    for column, key in figures.SWEEP_COLUMNS.items():
        better = {"max": figures.HIGHER, "min": figures.LOWER}[FIGURES[column]]
        assert known_direction(key) == better == known_direction(column)
        assert LABELS[column].startswith(figures.describe(key).label)
    result = record(metric={"name": "completed samples per second", "value": 1.0, "unit": "samples/s"},
                    scenario="server")
    rows = {r.label: r for r in deltas.figures(result)}
    assert rows["headline: completed samples per second"].higher_is_better
    assert not rows["latency p99"].higher_is_better and rows["throughput (samples/s)"].higher_is_better


def test_old_spellings_still_name_the_figures():
    rule, = parse_rules(("p99_s:+5%",), None, 5.0)
    assert rule.metric == "latency_s.p99" and rule.direction == figures.LOWER


def test_the_gate_table_names_the_headline_with_its_unit(capsys, synthetic, tmp_path):
    runs = []
    for name, mean in (("a", 0.002), ("b", 0.0021)):
        out = tmp_path / name
        code, _, err = bench(capsys, "run", "--scenario", "single-stream", "--sut", str(synthetic(mean_s=mean)),
                             "--workload", "tiny", "--duration", "1", "--set", "single_stream_expected_latency_ns=2000000",
                             "--out", str(out), "--no-report")
        assert code == 0, err
        runs.append(json.loads((out / "result.json").read_text()))
    code, table, _ = bench(capsys, "gate", "--baseline", str(tmp_path / "a"), "--candidate", str(tmp_path / "b"),
                           "--rule", "metric:+50%", "--json", str(tmp_path / "g.json"))
    assert code == 0
    name, base, cand = runs[0]["metric"]["name"], runs[0]["metric"]["value"], runs[1]["metric"]["value"]
    row = next(line for line in table.splitlines() if line.startswith(name))
    assert figures.humanise(base, "s") in row and figures.humanise(cand, "s") in row and " ms" in row
    check = json.loads((tmp_path / "g.json").read_text())["checks"][-1]
    assert (check["metric"], check["label"], check["unit"]) == ("metric.value", name, "s")
