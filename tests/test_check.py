"""`bench check`: clean inputs pass, planted problems are all found, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.analyse.check import check_path
from test_compare import DATA, DELETE, make_result, run_cli
from test_mlperf_logs import SAMPLE, needs_sample

OFFLINE = "npu_v1_resnet50_offline"


def problems_of(path: Path) -> list[str]:
    return check_path(path).problems


def test_clean_result_passes(capsys):
    code, out, _ = run_cli(capsys, "check", str(DATA / OFFLINE))
    assert code == 0 and "checked 1 result(s): no problems" in out


@pytest.mark.parametrize("changes,expected", [
    ({"valid": False, "invalid_reasons": ["min duration not met"]}, "result is INVALID: min duration not met"),
    ({"settings__min_duration_ms": 60000}, "min_duration_ms = 60000: closed division requires >= 600000"),
    ({"duration_s": 500.0}, "duration_s = 500.0: shorter than min_duration_ms = 600000"),
    ({"settings__schedule_rng_seed": 42}, "are not the official seeds"),
    ({"settings__qsl_rng_seed": DELETE}, "seeds not recorded: qsl_rng_seed"),
    ({"failed_queries": 2}, "failed_queries = 2: a submission has none"),
    ({"sample_count": 1000}, "offline samples = 1000: resnet50 requires >= 24576"),
    ({"settings__performance_sample_count_override": 100}, "performance_sample_count = 100: resnet50 requires >= 1024"),
    ({"query_count": 3}, "1 rows but result.json query_count = 3"),   # parquet has 1 row
])
def test_planted_problem_is_found(tmp_path, changes, expected):
    found = problems_of(make_result(tmp_path, "r", base=OFFLINE, **changes))
    assert any(expected in p for p in found), found


def test_server_latency_bound(tmp_path):
    server = make_result(tmp_path, "s", base=OFFLINE, scenario="server",
                         settings__server_target_latency_ns=50_000_000)
    found = problems_of(server)
    assert any("server_target_latency_ns = 50000000: resnet50 requires <= 15000000" in p for p in found)


def test_single_stream_needs_early_stopping_queries(tmp_path):
    ss = make_result(tmp_path, "ss", query_count=10, sample_count=10, early_stopping={"met": False})
    found = problems_of(ss)
    assert any("early stopping not met" in p for p in found)
    assert any("query_count = 10: early stopping needs >= 64" in p for p in found)


def test_every_problem_is_listed_and_exit_1(capsys, tmp_path):
    bad = make_result(tmp_path, "bad", base=OFFLINE, valid=False, failed_queries=1,
                      settings__min_duration_ms=1000)
    (bad / "mlperf_log_summary.txt").unlink()
    code, out, _ = run_cli(capsys, "check", str(bad))
    assert code == 1
    for text in ("mlperf_log_summary.txt: missing", "result is INVALID", "failed_queries = 1",
                 "min_duration_ms = 1000"):
        assert text in out
    assert "problem(s)" in out.splitlines()[-1]


def test_files_that_disagree(tmp_path):
    r = make_result(tmp_path, "r", base=OFFLINE)
    summary = r / "mlperf_log_summary.txt"
    summary.write_text(summary.read_text().replace("Result is : VALID", "Result is : INVALID"))
    pq.write_table(pa.table({"query_id": [0]}), r / "queries.parquet")
    found = problems_of(r)
    assert any("Result is INVALID but result.json valid = true" in p for p in found)
    assert any("missing columns scheduled_s, issued_s, completed_s, samples" in p for p in found)


def test_corrupt_result_is_a_problem_naming_the_key(capsys, tmp_path):
    bad = make_result(tmp_path, "bad", base=OFFLINE, duration_s="long")
    code, out, _ = run_cli(capsys, "check", str(bad))
    assert code == 1 and "result.json: duration_s = 'long': must be a number >= 0" in out


def test_no_results_is_exit_2(capsys, tmp_path):
    assert run_cli(capsys, "check", str(tmp_path / "missing"))[0] == 2
    assert run_cli(capsys, "check", str(tmp_path))[0] == 2


# ---------------------------------------------------------------- MLPerf trees


@needs_sample
def test_sample_only_lacks_detail_logs():
    """The sample is a partial copy: all that is wrong is the missing detail logs."""
    found = problems_of(SAMPLE)
    assert len(found) == 20
    assert all(p.endswith("mlperf_log_detail.txt missing") for p in found)


def copy_untether(tmp_path: Path) -> Path:
    org = tmp_path / "closed" / "UntetherAI"
    src = SAMPLE / "closed" / "UntetherAI"
    shutil.copytree(src / "systems", org / "systems")
    rel = Path("results/h13_u3_slim/resnet50/singlestream/performance/run_1")
    shutil.copytree(src / rel, org / rel)
    return org


@needs_sample
def test_copied_clean_mlperf_run_passes(tmp_path):
    assert problems_of(copy_untether(tmp_path)) == []


@needs_sample
def test_planted_mlperf_problems_are_all_found(tmp_path):
    org = copy_untether(tmp_path)
    run = org / "results/h13_u3_slim/resnet50/singlestream/performance/run_1"
    detail = run / "mlperf_log_detail.txt"
    text = detail.read_text()
    text = text.replace('"effective_min_duration_ms", "value": 600000', '"effective_min_duration_ms", "value": 60000')
    text = text.replace('"result_validity", "value": "VALID"', '"result_validity", "value": "INVALID"')
    text = text.replace('"effective_schedule_rng_seed", "value": 14962580496156340209',
                        '"effective_schedule_rng_seed", "value": 1')
    detail.write_text(text + ':::MLLOG {"key": "error_runtime", "value": "boom", "metadata": {"is_error": true}}\n')
    system = org / "systems" / "h13_u3_slim.json"
    data = json.loads(system.read_text())
    del data["framework"]
    data["status"] = "soon"
    system.write_text(json.dumps(data))
    found = "\n".join(problems_of(org))
    for text in ("framework: missing", "status = 'soon'", "result is INVALID",
                 "min_duration_ms = 60000", "not the official seeds of round 4.1",
                 "1 LoadGen error(s): error_runtime: boom"):
        assert text in found


@needs_sample
def test_mlperf_run_in_wrong_folder_and_missing_system(tmp_path):
    org = copy_untether(tmp_path)
    shutil.rmtree(org / "systems")
    src = org / "results/h13_u3_slim/resnet50/singlestream"
    src.rename(src.parent / "server")   # (offline is legal: MLPerf infers Offline from SingleStream)
    found = "\n".join(problems_of(org))
    assert "system description missing" in found
    assert "folder server holds a single-stream run" in found


def test_real_run_writer_output_has_exactly_the_short_run_problems():
    found = problems_of(DATA / "synthetic_server_run")
    assert len(found) == 2, found
    assert "min_duration_ms = 5000.0: closed division requires >= 600000" in found[0]
    assert "are not the official seeds" in found[1]
