"""`bench run` end to end: the files it writes, what it prints, and how it refuses bad input."""

import json
import math

import pyarrow.parquet as pq
import pytest

from clirun import bench

RESULT_KEYS = {"schema", "harness_version", "scenario", "time_mode", "sut", "workload", "settings", "seed",
               "valid", "invalid_reasons", "metric", "samples_per_second", "query_count", "sample_count",
               "failed_queries", "duration_s", "latency_s", "early_stopping", "energy"}



def test_server_run_writes_the_contracted_files(capsys, synthetic, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = bench(capsys, "run", "--scenario", "Server", "--sut", str(synthetic(mean_s=0.001)),
                              "--workload", "tiny", "--target-qps", "200", "--duration", "20",
                              "--out", str(out), "--no-report")
    assert code == 0, err
    assert stdout.splitlines()[:2] == [str(out), "VALID"]
    assert sorted(p.name for p in out.iterdir()) == [
        "mlperf_log_detail.txt", "mlperf_log_summary.txt", "queries.parquet", "result.json"]
    result = json.loads((out / "result.json").read_text())
    assert RESULT_KEYS <= set(result)
    assert (result["schema"], result["scenario"], result["time_mode"]) == (1, "server", "virtual")
    assert result["metric"]["unit"] == "samples/s" and result["energy"] is None
    assert set(result["latency_s"]) == {"min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max"}
    assert result["settings"]["effective"]["target_latency_ns"] == 10_000_000  # tiny: default bound
    table = pq.read_table(out / "queries.parquet")
    assert table.column_names[:5] == ["query_id", "scheduled_s", "issued_s", "completed_s", "samples"]
    assert table.num_rows == result["query_count"]
    summary = (out / "mlperf_log_summary.txt").read_text()
    assert "Scenario : Server" in summary and "Result is : VALID" in summary


def test_default_benchmark_settings_apply(capsys, synthetic, tmp_path):
    out = tmp_path / "run"
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic()),
                         "--target-qps", "100", "--duration", "5", "--out", str(out), "--no-report")
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    assert result["workload"]["name"] == "resnet50"
    assert result["settings"]["effective"]["target_latency_ns"] == 15_000_000  # resnet50 server bound


def test_invalid_run_exits_zero_and_says_why(capsys, synthetic, tmp_path):
    code, stdout, _ = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic(mean_s=0.01)),
                            "--workload", "tiny", "--target-qps", "200", "--duration", "5",
                            "--out", str(tmp_path / "r"), "--no-report")
    assert code == 0
    assert stdout.splitlines()[1] == "INVALID"
    assert "Reduce target QPS to improve latency." in stdout


def test_same_seed_same_figures(capsys, synthetic, tmp_path):
    system = str(synthetic(distribution="exponential", mean_s=0.002))
    figures = []
    for name in ("a", "b"):
        bench(capsys, "run", "--scenario", "server", "--sut", system, "--workload", "tiny",
              "--target-qps", "200", "--duration", "10", "--seed", "7", "--out", str(tmp_path / name), "--no-report")
        r = json.loads((tmp_path / name / "result.json").read_text())
        figures.append((r["metric"], r["latency_s"], r["query_count"]))
    assert figures[0] == figures[1]


def test_find_peak_reports_its_probes(capsys, synthetic, tmp_path):
    """Short runs narrow the bracket (each printed with the tail it predicts by), full-length
    runs decide (each INVALID one printed with why); result.json lists them all, in order."""
    out = tmp_path / "peak"
    code, stdout, err = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic(mean_s=0.001)),
                              "--workload", "tiny", "--target-qps", "100", "--duration", "600",
                              "--find-peak", "--out", str(out), "--no-report")
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    peak = result["find_peak"]
    assert result["valid"] and peak["peak_qps"] == result["settings"]["effective"]["target_qps"]
    assert (peak["method"], peak["saturation_qps"]) == ("bracketed", 1000.0)   # 1 server / 1 ms
    probes = peak["probes"]
    short = [p for p in probes if not p["full_length"]]
    full = [p for p in probes if p["full_length"]]
    assert probes[0] == short[0] and short[0]["target_qps"] == 100.0   # from the target up
    assert probes.index(full[0]) == len(short)   # short runs first, then full length
    assert len(err.splitlines()) == len(probes)
    for p in short:   # a short run predicts; it has no verdict of its own
        word = "under" if p["predicts_valid"] else "over"
        assert p["valid"] is None and f"short {p['target_qps']:12.3f} QPS  {word}" in err
        assert p["reasons"][0] in err and "early-stopping allowance" in p["reasons"][0]
    assert all(p["valid"] for p in full if p["target_qps"] <= peak["peak_qps"])
    assert not any(p["valid"] for p in full if p["target_qps"] > peak["peak_qps"])
    failed = [p for p in full if not p["valid"]]
    for p in failed:  # each failed probe's line says why it failed
        assert f"probe {p['target_qps']:12.3f} QPS  INVALID" in err and p["reasons"][0] in err
    lowest_failed = min(p["target_qps"] for p in failed)
    assert math.floor(peak["peak_qps"] * 10) + 1 >= math.floor(lowest_failed * 10)   # LoadGen's rule
    assert (f"find-peak: peak {peak['peak_qps']:.3f} QPS, the highest VALID of {len(full)} full-length "
            f"probes (after {len(short)} short runs); {lowest_failed:.3f} QPS was INVALID") in stdout


def test_find_peak_from_a_failing_target(capsys, synthetic, tmp_path):
    """Nothing below the requested target QPS is tried: when it fails at full length, that
    run is the answer (as in LoadGen)."""
    out = tmp_path / "peak"
    code, stdout, err = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic(mean_s=0.001)),
                              "--workload", "tiny", "--target-qps", "990", "--duration", "60",
                              "--find-peak", "--out", str(out), "--no-report")
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    full = [p for p in result["find_peak"]["probes"] if p["full_length"]]
    assert [(p["target_qps"], p["valid"]) for p in full] == [(990.0, False)]
    assert not result["valid"] and result["settings"]["effective"]["target_qps"] == 990.0
    assert "find-peak: no VALID target QPS (1 full-length probe; the lowest, 990.000 QPS, failed)" in stdout


def test_run_prints_one_rate(capsys, synthetic, tmp_path):
    code, stdout, err = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic(mean_s=0.002)),
                              "--workload", "tiny", "--target-qps", "100", "--duration", "2",
                              "--out", str(tmp_path / "r"), "--no-report")
    assert code == 0, err
    assert stdout.count("samples/s") == 1  # the metric; the count line gives the duration only


def test_list(capsys):
    code, stdout, _ = bench(capsys, "list", "scenarios")
    assert code == 0 and stdout.split() == ["interactive", "multi-stream", "offline", "server", "single-stream"]


# ------------------------------------------------------------------ bad input


BAD_SYSTEMS = {
    "malformed": ('name = "x"\nadapter = "synthetic"\n[service\n', "malformed TOML"),
    "unknown_key": ('adapter = "synthetic"\n[service]\nmean_s = 0.001\nmean_ms = 1\n', "service.mean_ms = 1: unknown key"),
    "wrong_type": ('adapter = "synthetic"\n[service]\nmean_s = "fast"\n', "service.mean_s = 'fast': must be a number"),
    "negative": ('adapter = "synthetic"\n[service]\nmean_s = -0.001\n', "service.mean_s = -0.001: must be a number from 1e-09 to 3600 s"),
    "zero": ('adapter = "synthetic"\n[service]\nmean_s = 0\n', "service.mean_s = 0.0: must be a number from 1e-09 to 3600 s"),
    "nan": ('adapter = "synthetic"\n[service]\nmean_s = nan\n', "service.mean_s = nan: must be a number from 1e-09 to 3600 s"),
    "bad_enum": ('adapter = "synthetic"\n[service]\nmean_s = 1e-3\ndistribution = "gamma"\n', "service.distribution = 'gamma': must be one of"),
    "unknown_adapter": ('adapter = "quantum"\n', "adapter = 'quantum': unknown adapter; known:"),
    "missing_service": ('adapter = "synthetic"\n', "service: required table is missing"),
}


@pytest.mark.parametrize("case", sorted(BAD_SYSTEMS))
def test_bad_system_files(capsys, write, tmp_path, case):
    text, message = BAD_SYSTEMS[case]
    path = write(f"{case}.toml", text)
    out = tmp_path / "never"
    code, stdout, err = bench(capsys, "run", "--scenario", "server", "--sut", str(path), "--workload", "tiny",
                              "--out", str(out))
    assert code == 2
    assert str(path) in err and message in err, err
    assert all(line.startswith("bench: error: ") for line in err.splitlines())
    assert "Traceback" not in err and stdout == ""
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".never")] == []


BAD_FLAGS = [
    (["--scenario", "serverless"], "--scenario = 'serverless': unknown scenario"),
    (["--sut", "npu_v9"], "--sut = 'npu_v9': unknown system; known:"),
    (["--sut", "./missing.toml"], "--sut = './missing.toml': file not found"),
    (["--workload", "resnet51"], "--workload = 'resnet51': unknown workload; known:"),
    (["--target-qps", "-5"], "--target-qps = -5.0: must be a number from 0.001 to 1e+08 queries/s"),
    (["--target-qps", "0"], "--target-qps = 0.0: must be a number from 0.001 to 1e+08 queries/s"),
    (["--target-qps", "nan"], "--target-qps = nan: must be a number from 0.001 to 1e+08 queries/s"),
    (["--duration", "0"], "--duration = 0.0: must be a number from 1e-06 to 100000 s"),
    (["--min-queries", "0"], "--min-queries = 0: must be a number from 1 to 1e+08"),
    (["--set", "server_target_qps"], "--set = 'server_target_qps': expected KEY=VALUE"),
    (["--set", "=5"], "--set = '=5': expected KEY=VALUE"),
    (["--set", "a..b=1"], "--set = 'a..b=1': expected KEY=VALUE"),
    (["--set", "server_target_qps=fast"], "--set: server_target_qps = 'fast': must be a number"),
    (["--set", "server_target_qps=-1"], "--set: server_target_qps = -1.0: must be a number from 0.001 to 1e+08 queries/s"),
    (["--set", "warp_speed=9"], "--set: warp_speed = 9: unknown key"),
    (["--set", "service.mean_s=0"], "--set service.mean_s=0: service.mean_s = 0.0: must be a number from 1e-09 to 3600 s"),
    (["--set", "service.servers=2.5"], "service.servers = 2.5: must be an integer"),
]


@pytest.mark.parametrize("flags, message", BAD_FLAGS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_FLAGS)])
def test_bad_flags(capsys, synthetic, tmp_path, flags, message):
    args = {"--scenario": "server", "--sut": str(synthetic()), "--workload": "tiny"}
    argv = ["run"]
    for key, value in args.items():
        if key not in flags:
            argv += [key, value]
    out = tmp_path / "never"
    code, stdout, err = bench(capsys, *argv, *flags, "--out", str(out))
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_empirical_samples_file_errors_name_the_line(capsys, write, tmp_path):
    write("times.csv", "0.001\n0.002\nfast\n")
    path = write("emp.toml", 'adapter = "synthetic"\n[service]\ndistribution = "empirical"\nsamples_file = "times.csv"\n')
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", str(path), "--workload", "tiny")
    assert code == 2 and f"{tmp_path / 'times.csv'}:3 = 'fast': must be a service time" in err


def test_out_dir_that_is_not_a_result_is_refused(capsys, synthetic, tmp_path):
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "thesis.tex").write_text("x")
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic()), "--workload", "tiny",
                         "--out", str(keep))
    assert code == 2 and "holds no bench result" in err
    assert (keep / "thesis.tex").read_text() == "x"


def test_nan_never_reaches_json(capsys, synthetic, tmp_path):
    out = tmp_path / "short"
    bench(capsys, "run", "--scenario", "single-stream", "--sut", str(synthetic()), "--workload", "tiny",
          "--duration", "0.01", "--min-queries", "10", "--out", str(out), "--no-report")
    text = (out / "result.json").read_text()
    assert "NaN" not in text
    result = json.loads(text)
    assert not result["valid"] and result["early_stopping"]["estimate_s"] is None
    assert not math.isnan(result["metric"]["value"])


def test_a_failing_report_keeps_the_result(capsys, synthetic, tmp_path, monkeypatch):
    import harness.render.page

    def broken(run_dirs, out_file):
        raise RuntimeError("chart exploded")

    monkeypatch.setattr(harness.render.page, "write_report", broken)
    out = tmp_path / "run"
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", str(synthetic()), "--workload", "tiny",
                         "--target-qps", "100", "--duration", "2", "--out", str(out))
    assert code == 0
    assert "report.html not written (RuntimeError: chart exploded)" in err
    assert (out / "result.json").is_file() and not (out / "report.html").exists()


def test_a_cross_field_error_names_the_override_that_caused_it(capsys):
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", "npu_v2",
                         "--set", "memory.dram_bytes_per_s=3e9")
    assert code == 2
    assert "systems/npu_v2.toml (with --set memory.dram_bytes_per_s=3000000000.0): memory.masters" in err


@pytest.mark.parametrize("argv,message", [
    (["--duration", "1e308"], "--duration = 1e+308: must be a number from 1e-06 to 100000 s"),
    (["--target-qps", "1e308"], "--target-qps = 1e+308: must be a number from 0.001 to 1e+08"),
    (["--target-qps", "1e-10"], "--target-qps = 1e-10: must be a number from 0.001"),
    (["--set", "min_duration_ms=1e308"], "min_duration_ms = 1e+308: must be a number from 0.001"),
    (["--set", "min_query_count=100000000000000"], "min_query_count = 100000000000000: must be"),
    (["--set", "performance_sample_count_override=1000000000000"], "must be a number from 0 to 1e+07"),
    (["--target-qps", "1e7"], "exceeds 100,000,000 samples"),
])
def test_sizes_and_rates_are_bounded_before_anything_runs(capsys, tmp_path, argv, message):
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", "npu_v1", "--workload",
                         "tiny", "--out", str(tmp_path / "o"), *argv)
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
