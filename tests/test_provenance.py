"""result.json records where it was measured; compare and gate name versions that differ."""

import json
import os
import platform

import numpy as np

from clirun import bench
from harness.record.provenance import differences



def _run(capsys, system, out):
    code, _, err = bench(capsys, "run", "--scenario", "offline", "--sut", str(system), "--workload",
                         "tiny", "--target-qps", "1000", "--duration", "1", "--out", str(out), "--no-report")
    assert code == 0, err
    return json.loads((out / "result.json").read_text())


def _edit_numpy(out, version):
    path = out / "result.json"
    data = json.loads(path.read_text())
    data["environment"]["packages"]["numpy"] = version
    path.write_text(json.dumps(data))


def test_a_run_records_host_cpu_python_and_packages(capsys, synthetic, tmp_path):
    env = _run(capsys, synthetic(mean_s=0.001), tmp_path / "a")["environment"]
    assert env["python"] == platform.python_version() and env["cpu_count"] == os.cpu_count()
    assert env["host"] == platform.node() and env["os"] == platform.platform() and env["cpu"]
    assert env["packages"]["numpy"] == np.__version__
    assert set(env["packages"]) >= {"numpy", "scipy", "pandas", "pyarrow", "numba"}


def test_compare_and_gate_name_the_versions_that_differ(capsys, synthetic, tmp_path):
    system = synthetic(mean_s=0.001)
    a, b = tmp_path / "a", tmp_path / "b"
    _run(capsys, system, a)
    _run(capsys, system, b)
    code, same, _ = bench(capsys, "compare", str(a), str(b))
    assert code == 0 and "Versions differ" not in same
    _edit_numpy(b, "0.0.1")
    expected = f"numpy {np.__version__} vs 0.0.1"
    code, table, _ = bench(capsys, "compare", str(a), str(b))
    assert code == 0 and f"Versions differ between these runs: {expected}." in table
    code, md, _ = bench(capsys, "compare", str(a), str(b), "--format", "markdown")
    assert expected in md
    code, text, _ = bench(capsys, "compare", str(a), str(b), "--format", "json")
    assert [r["environment"]["packages"]["numpy"] for r in json.loads(text)] == [np.__version__, "0.0.1"]
    code, gate, _ = bench(capsys, "gate", "--baseline", str(a), "--candidate", str(b),
                          "--rule", "samples_per_second:-5%")
    assert code == 0 and f"note: versions differ between the runs: {expected}" in gate


def test_results_without_an_environment_are_not_compared():
    env = {"python": "3.11.7", "packages": {"numpy": "2.0.0"}}
    assert differences([env, None, {"python": "3.11.7"}]) == []
    assert differences([env, {"python": "3.12.1", "packages": {"numpy": "2.0.0"}}]) == ["python 3.11.7 vs 3.12.1"]


def test_the_report_says_where_the_run_was_measured(capsys, synthetic, tmp_path):
    out = tmp_path / "r"
    code, _, err = bench(capsys, "run", "--scenario", "offline", "--sut", str(synthetic(mean_s=0.001)),
                         "--workload", "tiny", "--target-qps", "1000", "--duration", "1", "--out", str(out))
    assert code == 0, err
    page = (out / "report.html").read_text()
    assert "measured on" in page and f"numpy {np.__version__}" in page and platform.node() in page
