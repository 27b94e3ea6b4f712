"""Run directories: names from files never become paths, results are exclusive and atomic,
hidden temporary folders are never results and are cleaned, Ctrl-C while writing keeps the run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.record import rundir as output
from harness.cli.main import main
from harness.analyse.loader import find

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = """
name = {name!r}
adapter = "synthetic"
[service]
distribution = "deterministic"
mean_s = 0.001
"""


def bench(*argv, cwd=None):
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("name", ["../../../../out/victim", "a/b", "x\ny", ".hidden", "/abs", ""])
def test_a_system_name_never_becomes_a_path(tmp_path, name):
    system = tmp_path / "sys.toml"
    system.write_text(SYSTEM.format(name=name))
    done = bench("run", "--scenario", "offline", "--sut", str(system), "--duration", "0.01",
                 "--no-report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = list((tmp_path / "reports").iterdir())
    assert len(runs) == 1 and runs[0].parent == tmp_path / "reports"
    assert not runs[0].name.startswith(".") and "\n" not in runs[0].name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "sys.toml"]


def test_default_directories_are_never_shared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    claimed = [output.claim_fresh("npu", "resnet50", "server") for _ in range(200)]
    assert len(set(claimed)) == 200 and all(p.parent == Path("reports") for p in claimed)
    for path in claimed:
        output.release(output.target(path))


class _OneSecond(output.datetime):
    @classmethod
    def now(cls, tz=None):
        return output.datetime(2026, 12, 4, 7, 30, 0, tzinfo=tz)


def test_a_drawn_default_name_that_is_taken_is_drawn_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(output, "datetime", _OneSecond)       # all draws in one second
    draws = iter(["aaaaaa", "aaaaaa", "bbbbbb", "bbbbbb", "cccccc"])
    monkeypatch.setattr(output.secrets, "token_hex", lambda n: next(draws))
    held = output.claim_fresh("npu", "resnet50", "server")        # aaaaaa, held by this run
    done = output.claim_fresh("npu", "resnet50", "server")        # aaaaaa again: held, so bbbbbb
    output.release(output.target(done))
    output.target(done).mkdir()                                   # bbbbbb now holds a finished run
    fresh = output.claim_fresh("npu", "resnet50", "server")       # bbbbbb is there: cccccc
    assert [p.name[-6:] for p in (held, done, fresh)] == ["aaaaaa", "bbbbbb", "cccccc"]
    for path in (held, fresh):
        output.release(output.target(path))


def test_no_free_default_name_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(output, "datetime", _OneSecond)
    monkeypatch.setattr(output.secrets, "token_hex", lambda n: "aaaaaa")
    held = output.claim_fresh("npu", "resnet50", "server")
    with pytest.raises(output.BenchError, match="no free folder name in 64 draws; name one with --out"):
        output.claim_fresh("npu", "resnet50", "server")
    output.release(output.target(held))
    assert output.safe_name("../x\n/y") == "x_y" and output.safe_name("...") == "unnamed"


def run_to(out, *extra):
    with pytest.raises(SystemExit) as done:
        main(["run", "--scenario", "offline", "--sut", "npu_v1", "--workload", "tiny",
              "--duration", "0.01", "--no-report", "--out", str(out), *extra])
    return done.value.code


def test_an_existing_result_is_kept_without_force_and_replaced_whole_with_it(tmp_path, capsys):
    out = tmp_path / "r"
    assert run_to(out) == 0
    first = json.loads((out / "result.json").read_text())["created_utc"]
    assert run_to(out) == 2
    assert "holds a result already" in capsys.readouterr().err
    assert json.loads((out / "result.json").read_text())["created_utc"] == first
    time.sleep(1.1)
    assert run_to(out, "--force") == 0
    assert json.loads((out / "result.json").read_text())["created_utc"] != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_it(tmp_path):
    out = tmp_path / "r"
    output.claim(out)  # this process holds it, as a run in progress would
    done = bench("run", "--scenario", "offline", "--sut", "npu_v1", "--workload", "tiny",
                 "--duration", "0.01", "--no-report", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 2 and "another bench run is writing there now" in done.stderr
    assert "Traceback" not in done.stderr


def test_hidden_folders_are_never_results_and_dead_runs_leftovers_are_cleaned(tmp_path):
    out = tmp_path / "r"
    assert run_to(out) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    left = tmp_path / f".r.tmp-{dead}-abcd"
    left.mkdir()
    (left / "result.json").write_text((out / "result.json").read_text())
    ours, runs = find(tmp_path)
    assert ours == [out] and runs == []
    assert run_to(out, "--force") == 0
    assert not left.exists()


def test_a_result_left_aside_by_a_kill_between_two_renames_is_put_back(tmp_path):
    out = tmp_path / "r"
    assert run_to(out) == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    aside = tmp_path / f".r.old-{dead}-abcd"
    os.rename(out, aside)
    output.clean_stale(out)
    assert (out / "result.json").is_file() and not aside.exists()


def test_ctrl_c_while_a_finished_run_is_written_keeps_it(tmp_path, monkeypatch):
    real_fill = output._fill

    def interrupted_fill(*args):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the files are being written
        return real_fill(*args)

    monkeypatch.setattr(output, "_fill", interrupted_fill)
    assert run_to(tmp_path / "r") == 130  # a Ctrl-C exit, after the run is in place
    assert (tmp_path / "r" / "result.json").is_file()
    assert (tmp_path / "r" / "queries.parquet").is_file()


SWEEP = """
[sweep]
mode = "run"
duration_s = 600
[fixed]
system = "npu_v2"
workload = "resnet50"
scenario = "server"
[grid]
compute.array_rows = [64, 128, 256]
"""


def test_killing_a_sweep_stops_its_workers(tmp_path):
    psutil = pytest.importorskip("psutil")
    (tmp_path / "s.toml").write_text(SWEEP)
    sweep = subprocess.Popen([sys.executable, "-m", "harness.cli.main", "sweep", "s.toml",
                              "--workers", "2", "--out", "out"], cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(sweep.pid)
    deadline = time.monotonic() + 60
    while len(parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = parent.children()
    assert len(workers) >= 2
    sweep.kill()
    sweep.wait(timeout=10)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive


def run_io(capsys, out):
    code = run_to(out)
    printed, err = capsys.readouterr()
    return code, printed, err


def test_a_file_that_fails_to_write_never_costs_the_measurement(tmp_path, monkeypatch, capsys):
    def full_disk(sink, records):
        sink.write(b"half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(output, "write_queries", full_disk)
    out = tmp_path / "r"
    code, _, err = run_io(capsys, out)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "the measurement is kept, but not written: queries.parquet (OSError" in err
    result = json.loads((out / "result.json").read_text())
    assert result["query_count"] > 0 and not (out / "queries.parquet").exists()
    assert (out / "mlperf_log_summary.txt").is_file()


def test_a_result_that_cannot_be_encoded_keeps_the_per_query_records(tmp_path, monkeypatch, capsys):
    def unencodable(result):
        raise ValueError("Out of range float values are not JSON compliant")
    monkeypatch.setattr(output, "to_json", unencodable)  # result.json's writer
    out = tmp_path / "r"
    code, _, err = run_io(capsys, out)
    assert code == 2 and "not written: result.json (ValueError" in err
    assert (out / "queries.parquet").is_file() and not (out / "result.json").exists()


def test_out_dot_in_an_empty_folder_writes_the_run_there(tmp_path, monkeypatch, capsys):
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    code, printed, err = run_io(capsys, Path("."))
    assert code == 0, err
    assert printed.splitlines()[0] == "."
    assert {"result.json", "queries.parquet", "mlperf_log_summary.txt", "mlperf_log_detail.txt"} \
        <= {p.name for p in here.iterdir()}
    assert not [p for p in here.iterdir() if p.name.startswith(".")]
    assert os.path.samefile(Path.cwd(), here)           # the shell's folder is still there
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    code, _, err = run_io(capsys, Path("."))
    assert code == 2 and "holds a result already" in err


def test_out_of_the_root_folder_is_a_one_line_error(capsys):
    code, _, err = run_io(capsys, Path("/"))
    assert code == 2 and err.count("\n") == 1 and "cannot be the root folder" in err


@pytest.mark.parametrize("scenario", ["offline", "server"])
def test_files_encoded_where_the_run_ran_are_written_byte_for_byte(tmp_path, scenario):
    """A sweep's worker sends its run's files encoded (rundir.encode_run); the directory the
    caller writes from them is the one the records would have made."""
    from harness.measure.runner import RunRequest, execute, prepare

    request = RunRequest(scenario, "npu_v2", "resnet50", 300.0, 1.0, 64)
    run = execute(prepare(request))
    output.write_run(tmp_path / "records", run.record, run.records)
    output.write_run(tmp_path / "encoded", run.record, output.encode_run(run.record, run.records))
    names = sorted(p.name for p in (tmp_path / "records").iterdir())
    assert "queries.parquet" in names and names == sorted(p.name for p in (tmp_path / "encoded").iterdir())
    for name in names:
        assert (tmp_path / "records" / name).read_bytes() == (tmp_path / "encoded" / name).read_bytes(), name
