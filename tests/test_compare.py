"""`bench compare` and the result loader: rows, comparability, formats, strictness."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import ConfigError
from harness.analyse import compare
from harness.analyse.bench_result import load_result_dir
from harness.analyse.loader import load_all

DATA = Path(__file__).parent / "data" / "results"
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "mlperf-sample"  # shared/ beside the checkout
if not SAMPLE.is_dir():
    SAMPLE = Path("/work/shared/mlperf-sample")
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason="MLPerf sample not available")


def set_key(data: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    if value is DELETE:
        data.pop(last, None)
    else:
        data[last] = value


DELETE = object()


def make_result(tmp_path: Path, name: str, base: str = "npu_v1_resnet50_ss", **changes) -> Path:
    """A copy of a fixture result dir with result.json keys changed (dotted names, `__` for `.`)."""
    target = tmp_path / name
    shutil.copytree(DATA / base, target)
    data = json.loads((target / "result.json").read_text())
    for key, value in changes.items():
        set_key(data, key.replace("__", "."), value)
    (target / "result.json").write_text(json.dumps(data))
    return target


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `bench ARGS`."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def cli_ok(capsys, *args: str) -> str:
    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return capsys.readouterr().out


# ---------------------------------------------------------------- loading our results


def test_fixture_loads_with_headline_and_figures():
    r = load_result_dir(DATA / "npu_v1_resnet50_ss")
    assert (r.system, r.workload, r.scenario, r.time_mode) == ("npu_v1", "resnet50", "single-stream", "virtual")
    assert r.metric.value == 0.00125 and r.metric.unit == "s"
    assert r.figures["latency_s.p99"] == 0.0013
    assert r.figures["energy.joules_per_sample"] == 0.004
    assert "seed" not in r.figures and "settings.min_duration_ms" not in r.figures


def test_added_keys_are_tolerated(tmp_path):
    r = load_result_dir(make_result(tmp_path, "x", future_key={"a": 1}, latency_s__p99_99=0.002))
    assert r.figures["latency_s.p99_99"] == 0.002


@pytest.mark.parametrize("change,message", [
    ({"schema": 2}, "schema = 2: unsupported result schema"),
    ({"metric": DELETE}, "metric: missing"),
    ({"metric__value": "fast"}, "metric.value = 'fast': must be a finite number"),
    ({"scenario": "batch"}, "scenario = 'batch': must be one of"),
    ({"valid": "yes"}, "valid = 'yes': must be true or false"),
    ({"latency_s__p99": DELETE}, "latency_s.p99: missing"),
    ({"query_count": -1}, "query_count = -1: must be an integer >= 0"),
])
def test_corrupt_result_names_file_and_key(tmp_path, change, message):
    directory = make_result(tmp_path, "bad", **change)
    with pytest.raises(ConfigError) as exc:
        load_result_dir(directory)
    assert str(directory / "result.json") in str(exc.value)
    assert message in str(exc.value)


def test_all_problems_reported_together(tmp_path):
    directory = make_result(tmp_path, "bad", metric=DELETE, seed="x", sut__name="")
    with pytest.raises(ConfigError) as exc:
        load_result_dir(directory)
    assert len(exc.value.lines()) == 3


def test_malformed_json_is_an_error(tmp_path):
    directory = make_result(tmp_path, "bad")
    (directory / "result.json").write_text("{ not json")
    with pytest.raises(ConfigError, match="malformed JSON"):
        load_result_dir(directory)


# ---------------------------------------------------------------- comparability


def verdicts(paths: list[Path]) -> dict[str, tuple[bool, str | None]]:
    return {r["path"].rsplit("/", 1)[-1]: (r["comparable"], r["not_comparable_reason"])
            for r in compare.rows(load_all(paths))}


def test_like_results_are_comparable():
    v = verdicts([DATA / "npu_v1_resnet50_ss", DATA / "npu_v2_resnet50_ss"])
    assert v == {"npu_v1_resnet50_ss": (True, None), "npu_v2_resnet50_ss": (True, None)}


def test_different_min_duration_is_not_comparable(tmp_path):
    a = make_result(tmp_path, "a")
    b = make_result(tmp_path, "b", base="npu_v2_resnet50_ss")
    c = make_result(tmp_path, "c", sut__name="npu_v3", settings__min_duration_ms=60000)
    v = verdicts([a, b, c])
    assert v["a"] == (True, None) and v["b"] == (True, None)
    assert v["c"] == (False, "min_duration_ms = 60000 differs from 600000 in the others")


def test_different_workload_fingerprint_is_not_comparable(tmp_path):
    a = make_result(tmp_path, "a")
    b = make_result(tmp_path, "b", base="npu_v2_resnet50_ss")
    c = make_result(tmp_path, "c", sut__name="npu_v3", fingerprints__workload="9999ffff")
    assert "workload fingerprint = 9999ffff differs" in verdicts([a, b, c])["c"][1]


def test_invalid_result_is_not_comparable(tmp_path):
    a = make_result(tmp_path, "a", valid=False, invalid_reasons=["min duration not met"])
    assert verdicts([a])["a"] == (False, "result is INVALID")


def test_server_latency_bound_defines_the_test(tmp_path):
    common = dict(scenario="server", metric={"name": "completed samples per second",
                                             "value": 900.0, "unit": "samples/s"})
    a = make_result(tmp_path, "a", settings__server_target_latency_ns=15_000_000, **common)
    b = make_result(tmp_path, "b", sut__name="npu_v2", settings__server_target_latency_ns=15_000_000, **common)
    c = make_result(tmp_path, "c", sut__name="npu_v3", settings__server_target_latency_ns=100_000_000, **common)
    assert not verdicts([a, b, c])["c"][0]


@needs_sample
def test_our_results_sit_beside_mlperf_rows():
    lenovo = SAMPLE / "closed" / "Lenovo" / "results" / "Lenovo_2xL4_TRT" / "resnet50" / "SingleStream"
    rows = compare.rows(load_all([DATA / "npu_v1_resnet50_ss", lenovo]))
    assert [(r["system"], r["comparable"]) for r in rows] == [("Lenovo_2xL4_TRT", True), ("npu_v1", True)]
    assert rows[0]["latency_ms"] == 0.386829 and rows[1]["latency_ms"] == pytest.approx(1.25)


# ---------------------------------------------------------------- derived figures


@needs_sample
def test_per_accelerator_and_per_core_are_unofficial():
    rows = {(r["system"], r["workload"], r["scenario"]): r for r in compare.rows(load_all([SAMPLE]))}
    h200 = rows[("H200-SXM-141GBx8_TRT", "resnet50", "offline")]
    assert h200["per_accelerator"] == {"value": 94620.0, "unit": "samples/s per accelerator", "official": False}
    intel = rows[("1-node-2S-EMR-PyTorch", "resnet50", "offline")]
    assert intel["per_accelerator"] is None
    assert intel["per_core"]["value"] == pytest.approx(196.91, abs=0.01)
    assert rows[("Lenovo_2xL4_TRT", "resnet50", "single-stream")]["per_accelerator"] is None
    assert rows[("h13_u3_slim", "resnet50", "offline")]["energy"]["official"] is False


# ---------------------------------------------------------------- CLI and formats


def test_json_rows_have_the_documented_shape(capsys):
    rows = json.loads(cli_ok(capsys, "compare", str(DATA), "--format", "json"))
    assert len(rows) == 4
    for r in rows:
        assert {"system", "workload", "scenario", "metric", "valid"} <= set(r)
        assert set(r["metric"]) == {"name", "value", "unit"}


@needs_sample
def test_json_on_sample_carries_official_values(capsys):
    rows = json.loads(cli_ok(capsys, "compare", str(SAMPLE), "--format", "json"))
    found = {(r["system"], r["workload"], r["scenario"]): r["metric"]["value"] for r in rows}
    assert found[("H200-SXM-141GBx8_TRT", "resnet50", "server")] == 632229.06
    assert found[("h13_u3_slim", "resnet50", "single-stream")] == 0.120438


def test_table_and_markdown(capsys):
    table = cli_ok(capsys, "compare", str(DATA))
    assert "npu_v2" in table and "unofficial" in table
    md = cli_ok(capsys, "compare", str(DATA), "--format", "markdown")
    lines = md.splitlines()
    assert lines[0].startswith("| System |") and lines[1].startswith("|---|")
    assert len([line for line in lines if line.startswith("| npu_")]) == 3


def test_csv_parses(capsys):
    rows = list(csv.DictReader(io.StringIO(cli_ok(capsys, "compare", str(DATA), "--format", "csv"))))
    assert [r["system"] for r in rows] == ["npu_v1", "syn_a", "npu_v1", "npu_v2"]
    assert float(rows[0]["metric_value"]) == 50.0


def test_html_is_self_contained(capsys, tmp_path):
    out = tmp_path / "c.html"
    cli_ok(capsys, "compare", str(DATA), "--format", "html", "--out", str(out))
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "<link" not in page
    stripped = page.replace("http://www.w3.org/2000/svg", "").replace("http://www.w3.org/1999/xlink", "")
    assert "http://" not in stripped and "https://" not in stripped and "//" not in stripped.replace("://", "")
    assert "default-src 'none'" in page  # the same content security policy as the run report


def test_html_escapes_names(tmp_path, capsys):
    evil = make_result(tmp_path, "evil", sut__name="<script>alert(1)</script>")
    page = cli_ok(capsys, "compare", str(evil), "--format", "html")
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_missing_dir_is_exit_2_one_line(capsys, tmp_path):
    code, _, err = run_cli(capsys, "compare", str(tmp_path / "nope"))
    assert code == 2
    assert err.count("\n") == 1 and "no such file or directory" in err


def test_corrupt_result_is_exit_2_naming_key(capsys, tmp_path):
    bad = make_result(tmp_path, "bad", metric__unit=None)
    code, _, err = run_cli(capsys, "compare", str(bad))
    assert code == 2
    assert f"{bad / 'result.json'}: metric.unit = None" in err
    assert "Traceback" not in err


def test_empty_dir_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "compare", str(tmp_path))
    assert code == 2 and "no result found" in err


def test_a_run_reached_twice_is_one_row(capsys):
    rows = json.loads(cli_ok(capsys, "compare", str(DATA), str(DATA / "npu_v1_resnet50_ss"),
                             "--format", "json"))
    assert len(rows) == 4


def test_real_run_writer_output_loads():
    r = load_result_dir(DATA / "synthetic_server_run")
    assert (r.scenario, r.metric.name, r.metric.unit) == ("server", "completed samples per second", "samples/s")
    assert r.figures["loadgen.scheduled_samples_per_second"] > 0
    assert "settings.effective.target_qps" not in r.figures
