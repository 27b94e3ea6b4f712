"""Every command speaks JSON: --format json prints one JSON document, with the text mode's exit code."""

import json

import pytest

from clirun import bench
from harness.cli.main import main



@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    for name, qps in (("a", 100), ("b", 1000)):
        with pytest.raises(SystemExit) as done:
            main(["run", "--scenario", "server", "--sut", "npu_v2", "--duration", "1", "--target-qps", str(qps),
                  "--out", str(base / name), "--no-report"])
        assert done.value.code in (0, None)
    return base


def both(capsys, *args):
    """(text exit code, json exit code, parsed JSON)."""
    text_code, _, _ = bench(capsys, *args)
    json_code, out, err = bench(capsys, *args, "--format", "json")
    return text_code, json_code, json.loads(out)


def test_run_prints_its_summary(capsys, tmp_path):
    code, out, err = bench(capsys, "run", "--scenario", "server", "--sut", "npu_v2", "--duration", "1",
                           "--out", str(tmp_path / "r"), "--no-report", "--format", "json")
    data = json.loads(out)
    result = json.loads((tmp_path / "r" / "result.json").read_text())
    assert code == 0 and data["out"] == str(tmp_path / "r") and data["system"] == "npu_v2"
    for key in ("valid", "metric", "latency_s", "energy", "query_count"):
        assert data[key] == result[key]


def test_list_check_gate_report_compare(capsys, runs, tmp_path):
    a, b = str(runs / "a"), str(runs / "b")
    text, code, data = both(capsys, "list", "systems")
    assert text == code == 0 and data == {"kind": "systems", "names": ["npu_v1", "npu_v2"]}
    text, code, data = both(capsys, "check", a)
    assert text == code and data["checked"] == [a] and data["exit_code"] == code
    text, code, data = both(capsys, "gate", "--baseline", a, "--candidate", a, "--rule", "latency_s.p99:+5%")
    assert text == code == 0 and data["verdict"] == "pass"
    text, code, data = both(capsys, "compare", a, b)
    assert text == code == 0 and [r["path"] for r in data] == [a, b]
    text, code, data = both(capsys, "report", a, b, "--out", str(tmp_path / "r.html"))
    assert text == code == 0 and data == {"report": str(tmp_path / "r.html"), "results": [a, b]}


def test_sweep_prints_its_summary(capsys, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nmode = "profile"\n[grid]\nsystem = ["npu_v2"]\ncompute.array_rows = [32, 64]\n')
    code, out, _ = bench(capsys, "sweep", str(sweep), "--out", str(tmp_path / "o"), "--quiet", "--format", "json")
    data = json.loads(out)
    assert code == 0 and (data["points"], data["ran"], data["failed"]) == (2, 2, 0)
    assert data["page"] == str(tmp_path / "o" / "sweep.html") and data["pareto_front"] >= 1
