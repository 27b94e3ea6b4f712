"""`bench gate` end to end: exit codes, refusals, outputs that parse, noisy repeated runs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from test_compare import DATA, DELETE, make_result, run_cli
from test_mlperf_logs import SAMPLE, needs_sample

V1 = str(DATA / "npu_v1_resnet50_ss")
V2 = str(DATA / "npu_v2_resnet50_ss")


def gate(capsys, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "gate", *args)


def real_runs(tmp_path: Path, prefix: str, values: list[float], system: str = "npu_v1") -> list[str]:
    """Real-time single-stream runs whose headline latency (s) takes `values`."""
    paths = []
    for i, v in enumerate(values):
        p = make_result(tmp_path, f"{prefix}{i}", time_mode="real", seed=i, sut__name=system,
                        sut__adapter="python", metric__value=v, latency_s__p99=v * 1.1,
                        fingerprints=DELETE)
        paths += [str(p)]
    return paths


def sides(base: list[str], cand: list[str]) -> list[str]:
    return [a for p in base for a in ("--baseline", p)] + [a for p in cand for a in ("--candidate", p)]


# ---------------------------------------------------------------- exit codes


@pytest.mark.parametrize("baseline,candidate,args,code", [
    (V1, V2, [], 0),                                   # v2 is faster
    (V2, V1, [], 1),                                   # v1 is 150% slower
    (V2, V1, ["--max-regression", "200"], 0),
    (V1, V1, ["--rule", "latency_s.p99:+0%"], 0),
    (V2, V1, ["--rule", "energy.joules_per_sample:+10%"], 1),
    (V1, V2, ["--rule", "samples_per_second:-3%"], 0),
])
def test_exit_codes(capsys, baseline, candidate, args, code):
    assert gate(capsys, "--baseline", baseline, "--candidate", candidate, *args)[0] == code


def test_regression_table_says_why(capsys):
    code, out, _ = gate(capsys, "--baseline", V2, "--candidate", V1)
    assert code == 1
    assert "metric.value:+5%" in out and "+150.00%" in out and "REGRESSION" in out
    assert "verdict: REGRESSION (exit 1)" in out


def test_missing_baseline_is_an_error_not_a_pass(capsys, tmp_path):
    code, _, err = gate(capsys, "--baseline", str(tmp_path / "gone"), "--candidate", V1)
    assert code == 2 and err.count("\n") == 1 and "no such file or directory" in err


def test_corrupt_baseline_is_exit_2_one_line(capsys, tmp_path):
    bad = make_result(tmp_path, "bad")
    (bad / "result.json").write_text('{"schema": 1, "scenario": ')
    code, out, err = gate(capsys, "--baseline", str(bad), "--candidate", V1)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "result.json: malformed JSON" in err


def test_baseline_missing_key_is_exit_2_naming_it(capsys, tmp_path):
    bad = make_result(tmp_path, "bad", latency_s=DELETE)
    code, _, err = gate(capsys, "--baseline", str(bad), "--candidate", V1)
    assert code == 2 and "result.json: latency_s: missing" in err


def test_usage_errors_are_exit_2(capsys):
    assert gate(capsys, "--candidate", V1)[0] == 2                         # no baseline
    code, _, err = gate(capsys, "--baseline", V1, "--candidate", V2, "--rule", "p99:-5%")
    assert code == 2 and "lower is better" in err


def test_rule_on_absent_figure_is_exit_2(capsys, tmp_path):
    no_energy = make_result(tmp_path, "ne", energy=None)
    code, _, err = gate(capsys, "--baseline", str(no_energy), "--candidate", V1,
                        "--rule", "energy.joules_per_sample:+5%")
    assert code == 2 and "has no figure energy.joules_per_sample" in err


# ---------------------------------------------------------------- refusing unlike runs


@pytest.mark.parametrize("changes,reason", [
    ({"scenario": "multi-stream"}, "scenario single-stream vs multi-stream"),
    ({"workload__name": "bert-99"}, "workload resnet50 vs bert-99"),
    ({"fingerprints__workload": "ffff0000"}, "workload resnet50 differs (fingerprint 2222bbbb vs ffff0000)"),
    ({"settings__min_duration_ms": 60000}, "settings differ: min_duration_ms 600000 vs 60000"),
    ({"settings__max_query_count": 10}, "settings differ: max_query_count (unset) vs 10"),
])
def test_unlike_runs_are_refused_with_reason(capsys, tmp_path, changes, reason):
    other = make_result(tmp_path, "other", base="npu_v2_resnet50_ss", **changes)
    code, _, err = gate(capsys, "--baseline", V1, "--candidate", str(other))
    assert code == 2 and "cannot gate unlike runs" in err and reason in err


def test_seeds_and_hints_may_differ(capsys, tmp_path):
    other = make_result(tmp_path, "o", base="npu_v2_resnet50_ss", seed=99,
                        settings__schedule_rng_seed=1, settings__single_stream_expected_latency_ns=5)
    assert gate(capsys, "--baseline", V1, "--candidate", str(other))[0] == 0


def test_invalid_baseline_is_a_measurement_but_validity_is_not_gated(capsys, tmp_path):
    bad = make_result(tmp_path, "inv", valid=False, invalid_reasons=["min duration not met"])
    worse = make_result(tmp_path, "w", valid=False, invalid_reasons=["min duration not met"],
                        metric__value=0.002)
    code, out, _ = gate(capsys, "--baseline", str(bad), "--candidate", V1)
    assert code == 0 and "baseline is INVALID too" in out
    assert gate(capsys, "--baseline", str(bad), "--candidate", str(worse))[0] == 1


def test_invalid_candidate_without_a_figure_is_a_regression(capsys, tmp_path):
    empty = make_result(tmp_path, "e", valid=False, invalid_reasons=["nothing completed"],
                        metric__value=None, latency_s__p99=None)
    code, out, _ = gate(capsys, "--baseline", V1, "--candidate", str(empty), "--rule", "p99:+5%")
    assert code == 1 and "no latency_s.p99 from INVALID run(s)" in out


def test_invalid_candidate_is_a_regression(capsys, tmp_path):
    bad = make_result(tmp_path, "inv", valid=False, invalid_reasons=["early stopping not met"])
    code, out, _ = gate(capsys, "--baseline", V1, "--candidate", str(bad))
    assert code == 1 and "early stopping not met" in out


def test_one_side_must_repeat_one_system(capsys):
    code, _, err = gate(capsys, "--baseline", V1, "--baseline", V2, "--candidate", V1)
    assert code == 2 and "baseline runs are of different systems" in err


# ---------------------------------------------------------------- repeated real-time runs


def test_noisy_repeated_runs_are_inconclusive(capsys, tmp_path):
    base = real_runs(tmp_path, "b", [0.0100, 0.0120, 0.0085, 0.0110, 0.0095])
    cand = real_runs(tmp_path, "c", [0.0104, 0.0125, 0.0089, 0.0115, 0.0099], system="npu_v1")
    code, out, _ = gate(capsys, *sides(base, cand))
    assert code == 3, out
    assert "INCONCLUSIVE" in out and "welch-t" in out


def test_quiet_repeated_runs_decide(capsys, tmp_path):
    base = real_runs(tmp_path, "b", [0.0100, 0.0101, 0.0099, 0.0100])
    slower = real_runs(tmp_path, "s", [0.0120, 0.0121, 0.0119, 0.0120])
    same = real_runs(tmp_path, "q", [0.0100, 0.0100, 0.0101, 0.0099])
    assert gate(capsys, *sides(base, slower))[0] == 1
    assert gate(capsys, *sides(base, same))[0] == 0


def test_virtual_runs_with_one_seed_compare_exactly(capsys, tmp_path):
    b = [str(make_result(tmp_path, f"b{i}")) for i in range(2)]
    c = [str(make_result(tmp_path, f"c{i}", metric__value=0.00126)) for i in range(2)]
    code, out, _ = gate(capsys, *sides(b, c), "--max-regression", "0.5")
    assert code == 1 and "method: exact" in out


# ---------------------------------------------------------------- report files


def test_reports_parse(capsys, tmp_path):
    base = real_runs(tmp_path, "b", [0.0100, 0.0101, 0.0099])
    cand = real_runs(tmp_path, "c", [0.0120, 0.0121, 0.0119])
    files = {k: tmp_path / f"gate.{k}" for k in ("json", "md", "xml")}
    code, _, _ = gate(capsys, *sides(base, cand), "--rule", "p99:+5%", "--max-regression", "50",
                      "--json", str(files["json"]), "--markdown", str(files["md"]),
                      "--junit", str(files["xml"]))
    assert code == 1
    report = json.loads(files["json"].read_text())
    assert report["verdict"] == "regression" and report["exit_code"] == 1
    verdicts = {c["metric"]: c["verdict"] for c in report["checks"]}
    assert verdicts == {"valid": "pass", "metric.value": "pass", "latency_s.p99": "regression"}
    p99 = next(c for c in report["checks"] if c["metric"] == "latency_s.p99")
    assert p99["direction"] == "lower is better" and p99["ci_ratio"][0] > 1.05
    root = ET.fromstring(files["xml"].read_text())
    cases = root.findall(".//testcase")
    assert len(cases) == 3 and root.get("failures") == "1"
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["latency_s.p99 (latency_s.p99:+5%)"]
    md = files["md"].read_text()
    assert md.startswith("### bench gate: ❌ REGRESSION") and "| latency p99 | latency_s.p99:+5% |" in md


def test_junit_marks_inconclusive_as_skipped(capsys, tmp_path):
    base = real_runs(tmp_path, "b", [0.0100, 0.0120, 0.0085])
    cand = real_runs(tmp_path, "c", [0.0104, 0.0125, 0.0089])
    out = tmp_path / "j.xml"
    assert gate(capsys, *sides(base, cand), "--junit", str(out))[0] == 3
    root = ET.fromstring(out.read_text())
    assert root.get("skipped") == "1" and root.get("failures") == "0"


def test_max_regression_of_100_percent_drop_is_refused_for_throughput(capsys):
    offline = str(DATA / "npu_v1_resnet50_offline")
    code, _, err = gate(capsys, "--baseline", offline, "--candidate", offline, "--max-regression", "150")
    assert code == 2 and "cannot happen" in err


# ---------------------------------------------------------------- MLPerf runs as gate inputs


@needs_sample
def test_mlperf_runs_can_be_gated(capsys):
    results = SAMPLE / "closed"
    lenovo = results / "Lenovo/results/Lenovo_2xL4_TRT/retinanet/SingleStream"
    dell = results / "Dell/results/XR8620_L4x1_TRT/retinanet/SingleStream"
    code, out, _ = gate(capsys, "--baseline", str(lenovo), "--candidate", str(dell), "--rule", "p99:+10%")
    assert code == 1 and "+27.72%" in out


@needs_sample
def test_a_tree_is_not_one_run(capsys):
    lenovo = SAMPLE / "closed" / "Lenovo"
    code, _, err = gate(capsys, "--baseline", str(lenovo), "--candidate", str(lenovo))
    assert code == 2 and "--baseline must be one run, found 8 results" in err


def test_markdown_and_terminal_outputs_show_hostile_names_literally():
    from harness.render import escape
    name = "<script>alert(1)</script> | **b$c$d**\n\x1b[31m"
    md = escape.markdown(name)
    assert "<script>" not in md and "\n" not in md and "| " not in md.replace("\\|", "")
    assert md.startswith("&lt;script&gt;") and "\\*\\*b\\$c\\$d\\*\\*" in md
    assert "\x1b" not in escape.terminal(name) and "\\x1b[31m" in escape.terminal(name)
    assert escape.markdown("latency_s.p99") == "latency_s.p99"


def test_a_find_peak_result_is_gated_on_its_peak(capsys, tmp_path):
    """find_peak.peak_qps is a registered figure: labelled, with its unit, higher is better."""
    def searched(name: str, peak_qps: float) -> str:
        return str(make_result(tmp_path, name, find_peak={"peak_qps": peak_qps, "method": "bracketed",
                                                          "saturation_qps": None, "probes": []}))
    base, lower = searched("b", 4359.702), searched("c", 4220.350)
    code, out, _ = gate(capsys, *sides([base], [lower]), "--rule", "find_peak.peak_qps:-1%")
    assert code == 1 and "peak target QPS (find-peak)" in out and "-3.20%" in out
    assert gate(capsys, *sides([lower], [base]), "--rule", "find_peak.peak_qps:-1%")[0] == 0
