"""Chart series live beside result.json (dram_timeline.parquet) and read back exactly."""

import json

import pytest

from harness.record import series
from harness.record.rundir import write_run
from harness.render.page import report_beside
from harness.render.runs import load_run
from harness.record.schema import from_dict, to_dict
from harness.measure.runner import RunRequest, execute, prepare
from harness.record.typed_json import dump
from records import record


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    run = execute(prepare(RunRequest("server", "npu_v2", "resnet50", duration_s=2.5, min_queries=100)))
    out = tmp_path_factory.mktemp("run") / "r"
    write_run(out, run.result, run.records)
    report_beside(out)
    return run, out


def test_result_json_holds_a_reference_not_the_series(written):
    run, out = written
    stored = json.loads((out / "result.json").read_text())
    ref = stored["accelerator"]["dram_timeline"]
    assert ref["file"] == series.DRAM_FILE and (out / series.DRAM_FILE).is_file()
    assert "t_s" not in ref and ref["masters"] == ["camera", "display"]
    timeline = json.dumps(run.result["accelerator"]["dram_timeline"])
    assert len(json.dumps(stored)) < len(json.dumps(run.result)) - 0.95 * len(timeline)
    assert "npu_bytes_per_s" not in (out / "result.json").read_text()


def test_the_series_read_back_equal_the_run(written):
    run, out = written
    back = load_run(out).record.accelerator.dram_timeline
    assert back == run.record.accelerator.dram_timeline
    assert dump(back) == run.result["accelerator"]["dram_timeline"]


def test_an_older_result_with_inline_series_reads_as_before(tmp_path):
    data = to_dict(record())
    data["accelerator"] = {"dram_timeline": {"t_s": [0.0], "npu_bytes_per_s": [1.0]}}
    older = from_dict(data, "older")
    assert series.attach(older, tmp_path) is older
    assert older.accelerator.dram_timeline.t_s == (0.0,)
    plain = record()
    assert series.detach(plain) == (plain, None)
