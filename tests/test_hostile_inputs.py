"""Hostile values in system and workload files: one line naming file, key and value, exit 2,
never a traceback, before any work starts (issue: bounded inputs)."""

import pytest

from harness.cli.main import main

ACCEL = """
name = "a"
adapter = "accelerator"
[compute]
array_rows = 8
array_cols = 8
dataflow = "ws"
clock_hz = 1e9
engines = 1
precision = "int8"
[memory]
sram_bytes = 1048576
dram_bytes_per_s = 1e10
dram_efficiency = 1.0
[[memory.masters]]
name = "cam"
bytes_per_s = 1e9
period_s = {period}
duty = 0.5
[energy]
pj_per_mac = {{ int8 = 0.2 }}
sram_pj_per_byte = 1.0
dram_pj_per_byte = 20.0
static_w = 0.5
"""


def one_error(capsys, *argv):
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    err = capsys.readouterr().err
    assert done.value.code == 2 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_a_master_period_of_1e_300_is_refused(tmp_path, capsys):
    (tmp_path / "a.toml").write_text(ACCEL.format(period="1e-300"))
    err = one_error(capsys, "profile", "--sut", str(tmp_path / "a.toml"), "--workload", "tiny")
    assert "memory.masters[0].period_s = 1e-300: must be a number from 1e-06 to 3600 s" in err


@pytest.mark.parametrize("service,message", [
    ('distribution = "deterministic"\nmean_s = 1e308', "service.mean_s = 1e+308: must be a number"),
    ('distribution = "empirical"\nsamples_file = "s.csv"', "s.csv': is not UTF-8 text"),
    ('distribution = "deterministic"\nmean_s = 0.001\nservers = 100000000000', "service.servers"),
])
def test_synthetic_service_values_are_bounded(tmp_path, capsys, service, message):
    (tmp_path / "s.csv").write_bytes(b"\xff\xfe0.1\n")
    (tmp_path / "sys.toml").write_text(f'name = "s"\nadapter = "synthetic"\n[service]\n{service}\n')
    err = one_error(capsys, "run", "--scenario", "offline", "--sut", str(tmp_path / "sys.toml"),
                    "--duration", "0.1", "--no-report", "--out", str(tmp_path / "o"))
    assert message in err and not (tmp_path / "o").exists()


@pytest.mark.parametrize("layer,message", [
    ('op = "conv"\nfilters = 1e308\nkernel = 3', "filters = "),
    ('op = "fc"\nfeatures = 100000000000', "features = 100000000000: must be a number from 1"),
])
def test_workload_sizes_are_bounded(tmp_path, capsys, layer, message):
    (tmp_path / "w.toml").write_text(f'name = "w"\ninput = [3, 8, 8]\n[[layers]]\nname = "l"\n{layer}\n')
    err = one_error(capsys, "profile", "--sut", "npu_v1", "--workload", str(tmp_path / "w.toml"))
    assert message in err


def test_json_outputs_never_carry_nan_or_infinity():
    import json

    from harness.record.build import json_text
    text = json_text({"a": float("nan"), "b": [float("inf"), 1.0]})
    assert json.loads(text) == {"a": None, "b": [None, 1.0]}


def test_impossible_or_deep_results_are_one_line_errors_for_every_reader(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    good = tmp_path / "good"
    with pytest.raises(SystemExit):
        main(["run", "--scenario", "offline", "--sut", "npu_v1", "--workload", "tiny",
              "--duration", "0.05", "--no-report", "--out", str(good)])
    capsys.readouterr()
    deep, bad = tmp_path / "deep", tmp_path / "bad"
    for d in (deep, bad):
        d.mkdir()
        for f in good.iterdir():
            (d / f.name).write_bytes(f.read_bytes())
    (deep / "result.json").write_text("[" * 100_000 + "]" * 100_000)
    q = pd.read_parquet(bad / "queries.parquet")
    q["completed_s"], q["scheduled_s"] = -1.0, np.nan
    q.to_parquet(bad / "queries.parquet")
    for d, message in ((deep, "nested too deeply"), (bad, "impossible per-query records")):
        for argv in (["report", str(d), "--out", str(tmp_path / "x.html")],
                     ["compare", str(d), "--format", "json"],
                     ["gate", "--baseline", str(good), "--candidate", str(d)]):
            err = one_error(capsys, *argv)
            assert message in err
    with pytest.raises(SystemExit) as done:
        main(["check", str(bad)])
    out = capsys.readouterr().out
    assert done.value.code == 1 and "impossible record" in out


def test_an_error_quoting_control_characters_or_line_breaks_stays_one_line(tmp_path, capsys):
    system = tmp_path / "s.toml"
    system.write_text('name = "x"\nadapter = "synthetic"\n[service]\n"a\\u001e\\nb\\u2028c" = 1\n'
                      'distribution = "deterministic"\nmean_s = 0.001\n')
    err = one_error(capsys, "run", "--scenario", "offline", "--sut", str(system), "--duration", "0.01")
    assert "\\x1e" in err and "\\n" in err and "\\u2028" in err


@pytest.fixture(scope="module")
def earlier_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "run"
    with pytest.raises(SystemExit):
        main(["run", "--scenario", "offline", "--sut", "npu_v1", "--workload", "tiny",
              "--duration", "0.01", "--no-report", "--out", str(out)])
    return str(out)


@pytest.mark.parametrize("argv, message", [
    (["gate", "--baseline", "{r}", "--candidate", "{r}", "--json", "/proc/no/g.json"], "--json = '/proc/no/g.json': cannot write"),
    (["gate", "--baseline", "{r}", "--candidate", "{r}", "--junit", "/proc/g.xml"], "--junit = '/proc/g.xml': cannot write"),
    (["compare", "{r}", "--out", "/proc/c.txt"], "--out = '/proc/c.txt': cannot write there"),
    (["report", "{r}", "--out", "/proc/r.html"], "/proc/r.html: cannot write there"),
    (["run", "--scenario", "offline", "--sut", "npu_v1", "--workload", "tiny", "--duration", "0.01",
      "--out", "/proc/no/run"], "--out = '/proc/no/run': cannot write there"),
    (["sweep", "examples/npu_sweep.toml", "--scheduler", "notaurl"], "--scheduler = 'notaurl': must be a scheduler address"),
])
def test_outputs_that_cannot_be_written_are_one_line_errors(earlier_run, capsys, monkeypatch, argv, message):
    from pathlib import Path
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    err = one_error(capsys, *[a.format(r=earlier_run) for a in argv])
    assert message in err


@pytest.mark.parametrize("command", ["report", "compare", "gate"])
def test_queries_parquet_without_a_column_is_a_one_line_error(earlier_run, tmp_path, capsys, command):
    import shutil
    import pyarrow.parquet as pq
    run = tmp_path / "run"
    shutil.copytree(earlier_run, run)
    path = run / "queries.parquet"
    pq.write_table(pq.read_table(path).drop(["scheduled_s"]), path)
    argv = {"report": ["report", str(run), "--out", str(tmp_path / "r.html")], "compare": ["compare", str(run)],
            "gate": ["gate", "--baseline", str(run), "--candidate", str(run)]}[command]
    err = one_error(capsys, *argv)
    assert f"{path}: unreadable per-query records: no column scheduled_s" in err
