"""Running sweeps: result directories, summary, resuming, failing points, the page, the CLI, Dask,
and the README's worked example."""

import json
import re
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from harness.cli.main import main
from harness.errors import ConfigError
from harness.record.schema import load
from harness.render.sweep_page import show
from harness.sweep import check_inputs, load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "npu_sweep.toml"

PROFILE = """
    [sweep]
    mode = "profile"
    [fixed]
    system = "npu_v2"
    workload = "tiny"
    [grid]
    compute.array_rows = [32, 64]
    memory.dram_bytes_per_s = [6e9, 102.4e9]
    masters.camera.frame_rate_hz = [30, 240]     # 240 fps does not fit in 6 GB/s: those fail
    [best]
    maximize = "samples_per_s"
    [best.constraints]
    power_w = { max = 10.0 }
"""


@pytest.fixture
def sweep_of(tmp_path):
    def _make(text: str, name: str = "s.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        sweep = load_sweep(path)
        check_inputs(sweep)
        return sweep
    return _make


def test_each_point_gets_a_directory_and_a_summary_row(sweep_of, tmp_path):
    done = run_sweep(sweep_of(PROFILE), tmp_path / "out", workers=1)
    frame = done.frame
    assert len(frame) == 8 and done.ran == 8 and done.skipped == 0
    assert list(frame["index"]) == list(range(8))
    for row in frame.itertuples():
        record = json.loads((tmp_path / "out" / row.path / "point.json").read_text())
        assert record["status"] == row.status and record["name"] == row.point
    ok = frame[frame["status"] == "ok"]
    assert len(ok) == 6 and (ok["samples_per_s"] > 0).all() and (ok["power_w"] > 0).all()
    assert (tmp_path / "out" / ok["path"].iloc[0] / "profile.json").is_file()
    on_disk = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    pd.testing.assert_frame_equal(on_disk, frame, check_dtype=False)
    assert (tmp_path / "out" / "summary.csv").read_text().startswith("index,point,system,workload,")


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(sweep_of, tmp_path):
    frame = run_sweep(sweep_of(PROFILE), tmp_path / "out", workers=1).frame
    failed = frame[frame["status"] == "failed"]
    assert list(failed["masters.camera.frame_rate_hz"]) == [240, 240]
    assert list(failed["memory.dram_bytes_per_s"]) == [6e9, 6e9]
    for error in failed["error"]:
        assert "\n" not in error and error.startswith("memory.masters: realtime masters need")
    assert failed["samples_per_s"].isna().all()


def test_resume_skips_done_points_and_reruns_deleted_ones(sweep_of, tmp_path):
    sweep, out = sweep_of(PROFILE), tmp_path / "out"
    first = run_sweep(sweep, out, workers=1)
    again = run_sweep(sweep, out, workers=1)
    assert (again.ran, again.skipped) == (0, 8)
    pd.testing.assert_frame_equal(again.frame, first.frame)
    gone = first.frame.loc[0, "path"]
    shutil.rmtree(out / gone)
    (out / first.frame.loc[1, "path"] / "point.json").unlink()   # interrupted before its mark
    third = run_sweep(sweep, out, workers=1)
    assert (third.ran, third.skipped) == (2, 6)
    pd.testing.assert_frame_equal(third.frame, first.frame)
    assert run_sweep(sweep, out, workers=1, retry_failed=True).ran == 2   # the two failed points


def test_changed_run_settings_rerun_every_point(sweep_of, tmp_path):
    out = tmp_path / "out"
    base = """
        [sweep]
        seed = {seed}
        duration_s = 0.2
        min_queries = 20
        [fixed]
        system = "npu_v1"
        workload = "tiny"
        scenario = "offline"
    """
    run_sweep(sweep_of(base.format(seed=1)), out, workers=1)
    assert run_sweep(sweep_of(base.format(seed=1)), out, workers=1).ran == 0
    assert run_sweep(sweep_of(base.format(seed=2)), out, workers=1).ran == 1


def test_run_points_are_ordinary_results(sweep_of, tmp_path, synthetic):
    system = synthetic(distribution="exponential", mean_s=0.002)
    sweep = sweep_of(f"""
        [sweep]
        seed = 5
        duration_s = 0.5
        min_queries = 50
        [fixed]
        system = "{system}"
        scenario = "server"
        [grid]
        target_qps = [100, 300]
        service.servers = [1, 2]
        [best]
        minimize = "p99_s"
        [best.constraints]
        target_qps = {{ min = 200 }}
    """)
    done = run_sweep(sweep, tmp_path / "out", workers=2)
    assert (done.frame["status"] == "ok").all()
    row = done.frame.loc[3]
    result = load(tmp_path / "out" / row["path"])
    assert result.settings.effective.target_qps == 300 and result.seed == 5
    assert result.sut.setting("service.servers") == 2
    assert result.latency_s.p99 == row["p99_s"] and result.valid == row["valid"]
    assert done.choice.index in (2, 3) and done.choice.feasible == 2
    html = (tmp_path / "out" / "sweep.html").read_text()
    assert "Best configuration" in html and 'data-chart="pareto"' in html
    assert 'data-chart="param-target-qps"' in html and 'data-chart="param-service-servers"' in html


def test_cli_runs_a_sweep_and_reports_bad_files(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nmode = "fast"\n[grid]\nsystem = ["npu_v2"]\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(bad)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "sweep.mode = 'fast': must be one of run, profile" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(EXAMPLE), "--out", str(tmp_path / "out"), "--workers", "2"])
    assert exit_info.value.code == 0
    out, err = capsys.readouterr()
    assert "sweep npu_v2_design_space" in err and "24/24" in err      # the progress bar
    lines = out.splitlines()
    assert lines[1] == "  24 points: 24 run now, 0 done before, 0 failed"
    assert lines[2].startswith("  best (highest samples_per_s with p99_s <= 0.015, power_w <= 5): ")


def test_refuses_an_out_dir_that_is_not_a_sweep(sweep_of, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds no bench sweep"):
        run_sweep(sweep_of(PROFILE), tmp_path / "out", workers=1)


# ---------------------------------------------------------------- the README's worked example


def readme_example() -> str:
    """The TOML block that follows the <!-- sweep-example --> mark in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- sweep-example -->\s*```toml\n(.*?)```", text, re.S)
    assert match, "README.md needs the sweep section: <!-- sweep-example --> then a ```toml block"
    return match.group(1)


def test_readme_example_runs(tmp_path):
    path = tmp_path / "npu_sweep.toml"
    path.write_text(readme_example())
    sweep = load_sweep(path)
    check_inputs(sweep)
    done = run_sweep(sweep, tmp_path / "out", workers=1)
    assert len(done.frame) == 24 and (done.frame["status"] == "ok").all()
    best = done.frame.loc[done.choice.index]
    assert best["p99_s"] <= 0.015 and best["power_w"] <= 5.0
    # 256x256 with 16 MiB at half the DRAM bandwidth since SRAM came to be planned: 16 MiB keeps
    # 14.3 MB of resnet50's weights resident, so the big array fits the 5 W cap (was 128x128)
    assert (best["compute.array_rows"], best["memory.sram_bytes"],
            best["memory.dram_bytes_per_s"]) == (256, 16777216, 51.2e9)


def test_readme_example_is_the_shipped_example():
    assert readme_example() == EXAMPLE.read_text(encoding="utf-8")


def test_a_profile_point_equals_bench_profile_of_the_same_point(sweep_of, tmp_path, capsys):
    sweep = sweep_of("""
        [sweep]
        mode = "profile"
        [fixed]
        system = "npu_v2"
        workload = "resnet50_1440"
        [grid]
        compute.array_rows = [64, 128]
    """)
    frame = run_sweep(sweep, tmp_path / "out", workers=1).frame
    row = frame[frame["compute.array_rows"] == 64].iloc[0]
    from_sweep = json.loads((tmp_path / "out" / row["path"] / "profile.json").read_text())
    with pytest.raises(SystemExit):
        main(["profile", "--sut", "npu_v2", "--workload", "resnet50_1440", "--set",
              "compute.array_rows=64", "--format", "json"])
    from_cli = json.loads(capsys.readouterr().out)
    assert from_sweep == from_cli
    assert from_cli["total"]["contention"]["mode"] == "average"


FIND_PEAK = """
    [sweep]
    seed = 5
    duration_s = 2
    min_queries = 2000
    find_peak = true
    [fixed]
    system = "{system}"
    workload = "tiny"
    scenario = "server"
    target_qps = 100
    [grid]
    service.servers = [1, 2]
    [best]
    maximize = "peak_qps"
"""


def _cli_peak(tmp_path, system, servers):
    out = tmp_path / f"cli{servers}"
    with pytest.raises(SystemExit) as done:
        main(["run", "--scenario", "server", "--sut", system, "--workload", "tiny", "--target-qps", "100",
              "--duration", "2", "--min-queries", "2000", "--seed", "5", "--set",
              f"service.servers={servers}", "--find-peak", "--no-report", "--out", str(out)])
    assert done.value.code == 0
    return json.loads((out / "result.json").read_text())["find_peak"]


def test_a_find_peak_sweep_gives_each_point_the_peak_bench_run_finds(sweep_of, tmp_path, synthetic, capsys):
    system = synthetic(distribution="exponential", mean_s=0.001)
    done = run_sweep(sweep_of(FIND_PEAK.format(system=system)), tmp_path / "out", workers=2)
    assert (done.frame["status"] == "ok").all()
    for i, servers in enumerate((1, 2)):
        row, cli = done.frame.loc[i], _cli_peak(tmp_path, system, servers)
        result = json.loads((tmp_path / "out" / row["path"] / "result.json").read_text())
        assert row["peak_qps"] == cli["peak_qps"] == result["find_peak"]["peak_qps"]
        assert result["find_peak"]["probes"] == cli["probes"] and result["valid"] is True
        assert result["settings"]["effective"]["target_qps"] == row["peak_qps"]
        assert row["samples_per_s"] == result["samples_per_second"]
    peaks = done.frame["peak_qps"].tolist()
    assert 100 < peaks[0] < peaks[1] and done.choice.index == 1     # two servers sustain more
    html = (tmp_path / "out" / "sweep.html").read_text()
    best_table = html.split('id="pareto"')[0]
    assert best_table.index("peak target QPS (find-peak) (queries/s)") < best_table.index("throughput")
    assert f'<td class="num">{show(peaks[1], "peak_qps")}</td>' in best_table
    capsys.readouterr()
    main_code = pytest.raises(SystemExit, main, ["sweep", str(tmp_path / "s.toml"), "--out",
                                                  str(tmp_path / "out"), "--quiet"])
    assert main_code.value.code == 0
    best = capsys.readouterr().out.splitlines()[2]
    assert best.startswith("  best (highest peak_qps): ") and f"peak {peaks[1]:.3f} QPS, " in best


def readme_peak_table() -> list[list[str]]:
    """The rows of the table that follows the <!-- peak-sweep --> mark in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split("<!-- peak-sweep -->", 1)[1]
    table = text.strip().split("\n\n", 1)[0].splitlines()[2:]   # the rows, under head and rule
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table]


def test_readme_peak_sweep_finds_the_figures_it_quotes(tmp_path, capsys):
    """The README's find-peak sweep, run as it says: every quoted figure, the best point."""
    with pytest.raises(SystemExit) as done:
        main(["sweep", str(ROOT / "examples" / "npu_peak_sweep.toml"), "--out", str(tmp_path / "out"),
              "--quiet"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    frame = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert (frame["status"] == "ok").all() and frame["valid"].all()
    quoted = readme_peak_table()
    assert len(quoted) == len(frame) == 4
    for (engines, sram, peak, power, energy), (_, row) in zip(quoted, frame.iterrows()):
        assert (int(engines), int(sram.split()[0]) << 20) == (row["compute.engines"], row["memory.sram_bytes"])
        assert f"{row['peak_qps']:.3f}" == peak
        assert f"{row['power_w']:.2f} W" == power and f"{row['energy_per_sample_j'] * 1e3:.2f} mJ" == energy
    assert "best (highest peak_qps with power_w <= 4.5): npu_v2_resnet50_server_2_16777216" in out
    assert f"peak {quoted[1][2]} QPS, " in out


def test_report_true_draws_each_points_page(sweep_of, tmp_path, synthetic):
    system = synthetic(distribution="exponential", mean_s=0.002)
    sweep = sweep_of(f"""
        [sweep]
        duration_s = 0.5
        min_queries = 50
        report = true
        [fixed]
        system = "{system}"
        scenario = "server"
        [grid]
        target_qps = [100, 200]
    """)
    done = run_sweep(sweep, tmp_path / "out", workers=1)
    for path in done.frame["path"]:
        page = (tmp_path / "out" / path / "report.html").read_text()
        assert "<svg" in page and str(load(tmp_path / "out" / path).query_count) in page
