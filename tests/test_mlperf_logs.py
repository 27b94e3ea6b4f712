"""MLPerf log parsing: every official result of the v4.1 sample, exactly, and the quirks of
real files (spacing, "90th" vs "90.0th", lowercase folders, strings for numbers, N/A chips)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.analyse.loader import load
from harness.record.mlperf_log_read import parse_detail, parse_summary
from harness.analyse.mlperf_tree import as_count, find_runs, load_run

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "mlperf-sample"  # shared/ beside the checkout
if not SAMPLE.is_dir():
    SAMPLE = Path("/work/shared/mlperf-sample")
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="MLPerf sample not available")


def run_dir(submitter: str, system: str, benchmark: str, scenario: str) -> Path:
    return SAMPLE / "closed" / submitter / "results" / system / benchmark / scenario / "performance" / "run_1"


# (submitter, system, benchmark, scenario dir, official value, unit) — the sample README's table
# and the reference's full table of expected parse results
OFFICIAL = [
    ("NVIDIA", "H200-SXM-141GBx8_TRT", "resnet50", "Offline", 756960, "samples/s"),
    ("NVIDIA", "H200-SXM-141GBx8_TRT", "resnet50", "Server", 632229.06, "samples/s"),
    ("NVIDIA", "H200-SXM-141GBx8_TRT", "bert-99", "Offline", 73309.5, "samples/s"),
    ("NVIDIA", "H200-SXM-141GBx8_TRT", "bert-99", "Server", 57609.27, "samples/s"),
    ("NVIDIA", "H200-SXM-141GBx8_TRT_MaxQ", "resnet50", "Offline", 556234, "samples/s"),
    ("NVIDIA", "H200-SXM-141GBx8_TRT_MaxQ", "resnet50", "Server", 480131.10, "samples/s"),
    ("Intel", "1-node-2S-EMR-PyTorch", "resnet50", "Offline", 25204.5, "samples/s"),
    ("Intel", "1-node-2S-EMR-PyTorch", "resnet50", "Server", 22501.78, "samples/s"),
    ("Intel", "1-node-2S-EMR-PyTorch", "bert-99", "Offline", 1666.82, "samples/s"),
    ("Lenovo", "Lenovo_2xL4_TRT", "resnet50", "SingleStream", 0.386829, "ms"),
    ("Lenovo", "Lenovo_2xL4_TRT", "resnet50", "MultiStream", 0.750563, "ms"),
    ("Lenovo", "Lenovo_2xL4_TRT", "resnet50", "Offline", 25600, "samples/s"),
    ("Lenovo", "Lenovo_2xL4_TRT", "bert-99", "SingleStream", 2.138389, "ms"),
    ("Lenovo", "Lenovo_2xL4_TRT", "bert-99", "Offline", 1928.07, "samples/s"),
    ("Lenovo", "Lenovo_2xL4_TRT", "retinanet", "SingleStream", 3.814301, "ms"),
    ("Lenovo", "Lenovo_2xL4_TRT", "retinanet", "MultiStream", 32.190689, "ms"),
    ("Lenovo", "Lenovo_2xL4_TRT", "retinanet", "Offline", 453.667, "samples/s"),
    ("Dell", "XR8620_L4x1_TRT", "retinanet", "SingleStream", 4.830777, "ms"),
    ("Dell", "XR8620_L4x1_TRT", "retinanet", "MultiStream", 42.019927, "ms"),
    ("Dell", "XR8620_L4x1_TRT", "retinanet", "Offline", 222.619, "samples/s"),
    ("UntetherAI", "h13_u3_slim", "resnet50", "singlestream", 0.120438, "ms"),
    ("UntetherAI", "h13_u3_slim", "resnet50", "multistream", 0.212477, "ms"),
    ("UntetherAI", "h13_u3_slim", "resnet50", "offline", 168720, "samples/s"),
]


@needs_sample
@pytest.mark.parametrize("submitter,system,model,scenario,value,unit", OFFICIAL,
                         ids=[f"{o[1]}-{o[2]}-{o[3]}" for o in OFFICIAL])
def test_official_result_is_exact(submitter, system, model, scenario, value, unit):
    r = load_run(run_dir(submitter, system, model, scenario))
    assert r.metric.value == value
    assert r.metric.unit == unit
    assert r.valid is True
    assert (r.system, r.workload, r.submitter) == (system, model, submitter)


@needs_sample
def test_whole_sample_loads_every_run_once():
    results = load(SAMPLE)
    assert len(results) == len(OFFICIAL) == len({r.key for r in results})


@needs_sample
def test_single_stream_uses_estimate_not_headline():
    r = load_run(run_dir("Lenovo", "Lenovo_2xL4_TRT", "resnet50", "SingleStream"))
    assert r.metric.name == "early-stopping p90 latency"
    assert r.figures["latency_s.p90"] == pytest.approx(386822e-9)   # headline differs
    assert r.metric.value == 0.386829


@needs_sample
def test_detail_log_wins_and_agrees_with_summary():
    run = run_dir("UntetherAI", "h13_u3_slim", "resnet50", "singlestream")
    detail = parse_detail(run / "mlperf_log_detail.txt")
    summary = parse_summary(run / "mlperf_log_summary.txt")
    assert detail.get("early_stopping_latency_ss") == summary.early_stopping_estimate_ns(90) == 120438
    assert detail.get("early_stopping_latency_ms") == summary.early_stopping_estimate_ns(99) == 128968


@needs_sample
def test_warnings_on_valid_runs_are_counted():
    summary = parse_summary(run_dir("NVIDIA", "H200-SXM-141GBx8_TRT", "resnet50", "Server")
                            / "mlperf_log_summary.txt")
    assert (summary.valid, summary.warnings, summary.errors) == (True, 9, 0)
    assert summary.satisfied("Performance constraints") is True


@needs_sample
@pytest.mark.parametrize("submitter,system,scenario,watts,samples_per_joule", [
    ("NVIDIA", "H200-SXM-141GBx8_TRT_MaxQ", "Offline", 4954.0, 112.3),
    ("UntetherAI", "h13_u3_slim", "offline", 398.3, 423.6),
    ("UntetherAI", "h13_u3_slim", "singlestream", 231.1, 34.2),
])
def test_power_from_spl_matches_checker_method(submitter, system, scenario, watts, samples_per_joule):
    r = load_run(run_dir(submitter, system, "resnet50", scenario))
    assert r.energy.average_power_w == pytest.approx(watts, abs=0.05)
    assert r.energy.samples_per_joule == pytest.approx(samples_per_joule, abs=0.05)
    assert r.energy.source == "spl.txt"


@needs_sample
def test_untether_single_stream_energy_per_query_in_mj():
    r = load_run(run_dir("UntetherAI", "h13_u3_slim", "resnet50", "singlestream"))
    assert r.energy.joules_per_query * 1e3 == pytest.approx(29.24, abs=0.005)


@needs_sample
def test_chip_counts_from_strings_and_na():
    intel = load_run(run_dir("Intel", "1-node-2S-EMR-PyTorch", "resnet50", "Offline"))
    assert (intel.accelerators.count, intel.accelerators.model) == (0, None)
    assert intel.accelerators.host_cores == 128
    untether = load_run(run_dir("UntetherAI", "h13_u3_slim", "resnet50", "offline"))
    assert untether.accelerators.count == 3


@needs_sample
def test_offline_latencies_are_not_request_latencies():
    r = load_run(run_dir("Intel", "1-node-2S-EMR-PyTorch", "resnet50", "Offline"))
    assert not any(k.startswith("latency_s.") for k in r.figures)


@needs_sample
def test_path_may_point_below_the_tree_root():
    deep = run_dir("Dell", "XR8620_L4x1_TRT", "retinanet", "Offline")
    assert [r.metric.value for r in load(deep)] == [222.619]
    assert len(load(SAMPLE / "closed" / "Dell")) == 3
    assert len(find_runs(SAMPLE / "closed" / "Lenovo" / "results" / "Lenovo_2xL4_TRT" / "resnet50")) == 3


@pytest.mark.parametrize("text,count", [("3", 3), (3, 3), ("0", 0), ("N/A", None), ("", None),
                                        (None, None), ("2.5", None)])
def test_as_count(text, count):
    assert as_count(text) == count


SUMMARY_V6 = """\
================================================
MLPerf Results Summary
================================================
SUT name : PySUT
Scenario : SingleStream
Mode     : PerformanceOnly
90.0th percentile latency (ns) : 2084581
Result is : INVALID
  Min duration satisfied : NO
  Min queries satisfied : Yes
  Early stopping satisfied: Yes
Recommendations:
 * Decrease the expected latency so the loadgen pre-generates more queries.
Early Stopping Result:
 * Processed at least 64 queries (1443).
 * Would discard 116 highest latency queries.
 * Early stopping 90.0th percentile estimate: 2090000
 * Early stopping 99.0th percentile estimate: 2200000

================================================
Test Parameters Used
================================================
min_duration (ms): 1000
1 ERROR encountered. See detailed log.
"""


def make_run(tmp_path: Path, scenario: str, summary: str) -> Path:
    run = tmp_path / "closed" / "X" / "results" / "sys" / "resnet50" / scenario / "performance" / "run_1"
    run.mkdir(parents=True)
    (run / "mlperf_log_summary.txt").write_text(summary)
    return run


def test_newer_summary_format_and_invalid_run(tmp_path):
    r = load_run(make_run(tmp_path, "SingleStream", SUMMARY_V6))
    assert r.metric.value == 2.09 and r.metric.unit == "ms"
    assert r.valid is False
    assert r.invalid_reasons == ("min duration not satisfied",)
    assert r.errors == 1
    assert r.settings["min_duration_ms"] == 1000
    assert r.accelerators is None   # no systems/sys.json


def test_summary_without_estimate_falls_back_to_named_headline(tmp_path):
    text = SUMMARY_V6.replace(" * Early stopping 90.0th percentile estimate: 2090000\n", "")
    r = load_run(make_run(tmp_path, "SingleStream", text))
    assert (r.metric.name, r.metric.value) == ("p90 latency", 2.084581)


def test_not_a_summary_is_an_error_naming_the_file(tmp_path):
    run = make_run(tmp_path, "Offline", "hello\n")
    with pytest.raises(ConfigError, match="mlperf_log_summary.txt.*not an MLPerf LoadGen summary"):
        load_run(run)


def test_bad_number_names_file_and_key(tmp_path):
    text = SUMMARY_V6.replace("Scenario : SingleStream", "Scenario : Offline").replace(
        "90.0th percentile latency (ns) : 2084581", "Samples per second: fast")
    with pytest.raises(ConfigError, match="Samples per second = 'fast': expected a number"):
        load_run(make_run(tmp_path, "Offline", text))


def test_malformed_detail_line_names_line(tmp_path):
    run = make_run(tmp_path, "Offline", SUMMARY_V6.replace("SingleStream", "Offline"))
    (run / "mlperf_log_detail.txt").write_text(':::MLLOG {"key": "sut_name", "value": "x"}\n:::MLLOG {oops\n')
    with pytest.raises(ConfigError, match=r"mlperf_log_detail.txt:2.*malformed"):
        load_run(run)


OFFLINE_SUMMARY = SUMMARY_V6.replace("Scenario : SingleStream", "Scenario : Offline").replace(
    "90.0th percentile latency (ns) : 2084581", "Samples per second: 1234.5")


def cli(capsys, *argv):
    from test_realtime import main_code
    code = main_code(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-5", "NaN"])
def test_non_finite_or_negative_figures_are_flagged_never_published(tmp_path, capsys, value):
    run = make_run(tmp_path, "Offline", OFFLINE_SUMMARY.replace("1234.5", value))
    code, out, err = cli(capsys, "compare", str(run), "--format", "json")
    assert code == 2 and out == "" and "Traceback" not in err and err.count("\n") == 1
    assert "mlperf_log_summary.txt: Samples per second" in err and "must be a finite number >= 0" in err
    code, out, err = cli(capsys, "check", str(tmp_path / "closed" / "X"))
    assert code == 1 and "Samples per second" in out + err and "must be a finite number >= 0" in out + err


@pytest.mark.parametrize("line, message", [
    ('{"key": ["a", "b"], "value": 1}', "mlperf_log_detail.txt:2: key = ['a', 'b']: must be a string"),
    ('{"key": "x", "value": 1, "metadata": "oops"}', "x: metadata = 'oops': must be an object"),
    ('{"key": "result_samples_per_second", "value": NaN}', "result_samples_per_second = nan: must be a finite"),
    ('{"key": "effective_target_qps", "value": Infinity}', "effective_target_qps = inf: must be a finite"),
    ('{"key": "result_query_count", "value": [1]}', "result_query_count = [1]: expected a number"),
])
def test_odd_detail_lines_are_one_line_errors(tmp_path, capsys, line, message):
    run = make_run(tmp_path, "Offline", OFFLINE_SUMMARY)
    (run / "mlperf_log_detail.txt").write_text(f':::MLLOG {{"key": "sut_name", "value": "x"}}\n:::MLLOG {line}\n')
    code, out, err = cli(capsys, "compare", str(run), "--format", "json")
    assert code == 2 and out == "" and "Traceback" not in err and err.count("\n") == 1
    assert message in err, err


def test_endpoints_figures_that_are_not_finite_are_flagged_not_published(tmp_path, capsys):
    import json
    import shutil
    src = Path(__file__).parent / "data" / "mlperf-endpoints"
    shutil.copytree(src, tmp_path / "e")
    path = next((tmp_path / "e").rglob("result_summary.json"))
    data = json.loads(path.read_text())
    data["tps"] = float("nan")
    data["ttft"]["percentiles"]["99.0"] = -5
    path.write_text(json.dumps(data))       # NaN: what Python's json writes, and reads back
    code, out, err = cli(capsys, "compare", str(tmp_path / "e"), "--format", "json")
    assert code == 0 and "NaN" not in out
    row = json.loads(out)[0]
    assert not row["valid"] and row["metric"]["value"] is None
    assert "ttft.percentiles.99.0 = -5: not a finite number >= 0, not published" in row["invalid_reasons"]
    assert "p99" not in (row.get("ttft_s") or {})
    code, out, err = cli(capsys, "check", str(tmp_path / "e"))
    assert code == 1 and "no usable tokens per second (tps = nan" in out + err
