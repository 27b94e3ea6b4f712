"""Reading token results: real LLM submissions (tests/data/mlperf-llm, official values in its
README), our own token runs, gate rules on token figures, per-round official fields."""

import json
import shutil
from pathlib import Path

import pytest

from clirun import bench
from harness.analyse import llm_rules
from harness.analyse.check import check_path
from harness.analyse.gate_rules import DROP_IS_BAD, RISE_IS_BAD, parse_rule
from harness.errors import BenchError

LLM = Path(__file__).parent / "data" / "mlperf-llm"
RUNS = LLM / "closed/AMD/results/8xMI355X_2xEPYC_9575F/llama2-70b-99.9"



def test_compare_gives_the_official_tokens_per_second_of_each_round_61_result(capsys):
    code, out, err = bench(capsys, "compare", str(LLM), "--format", "json")
    assert code == 0, err
    rows = {r["scenario"]: r for r in json.loads(out)}
    official = {"offline": 106517, "server": 103274.69, "interactive": 73191.51}
    assert {s: r["metric"]["value"] for s, r in rows.items()} == official
    assert {r["metric"]["unit"] for r in rows.values()} == {"tokens/s"}
    assert {s: r["samples_per_second"] for s, r in rows.items()} == {
        "offline": 375.84, "server": 364.12, "interactive": 258.22}
    assert rows["interactive"]["tpot_s"]["p99"] == 0.036747857
    assert rows["server"]["ttft_s"]["p99"] == 1.175800773 and "ttft_s" not in rows["offline"]


def test_compare_table_shows_ttft_and_tpot_p99(capsys):
    _, out, _ = bench(capsys, "compare", str(LLM))
    assert "TTFT p99 ms" in out.splitlines()[0] and "36.7479" in out and "1175.8" in out


def test_check_accepts_the_official_interactive_layout():
    report = check_path(LLM)
    assert not [p for p in report.problems if "holds a" in p or "TPOT" in p or "TTFT" in p]


def test_check_flags_a_p99_tpot_over_the_interactive_limit(tmp_path):
    copy = tmp_path / "mlperf"
    shutil.copytree(LLM, copy)
    summary = next(copy.rglob("Interactive/performance/run_1/mlperf_log_summary.txt"))
    text = summary.read_text().replace("99.00 percentile time to output token (ns)   : 36747857",
                                       "99.00 percentile time to output token (ns)   : 45900000")
    summary.write_text(text)
    problems = [p for p in check_path(copy).problems if "TPOT" in p]
    assert len(problems) == 1
    assert problems[0].endswith("p99 TPOT 45.9 ms is not below the interactive limit of 40 ms for llama2-70b-99.9")


def test_limits_are_strictly_below():
    assert llm_rules.token_limits_ns("llama2-70b-99.9", "interactive") == (450_000_000, 40_000_000)
    assert llm_rules.token_limits_ns("llama2-70b-interactive-99", "server") == (450_000_000, 40_000_000)
    assert llm_rules.token_limits_ns("deepseek-r1", "server") == (2_000_000_000, 80_000_000)
    assert llm_rules.token_limits_ns("resnet50", "server") is None


@pytest.mark.parametrize("name, scenario, round_, key", [
    ("llama2-70b-99", "server", "4.0", "result_completed_samples_per_sec"),
    ("llama2-70b-99", "server", "4.1", "result_completed_tokens_per_second"),
    ("llama2-70b-99", "offline", "4.0", "result_tokens_per_second"),
    ("llama3.1-8b-edge", "single-stream", "5.1", "result_90.00_percentile_latency_ns"),
    ("gptj-99", "server", "4.1", "result_inferred_completed_tokens_per_second"),
    ("resnet50", "server", "4.0", "result_scheduled_samples_per_sec"),
    ("resnet50", "server", "6.1", "result_completed_samples_per_sec"),
    ("mixtral-8x7b", "interactive", "6.1", "result_completed_tokens_per_second"),
])
def test_official_field_per_round(name, scenario, round_, key):
    assert llm_rules.official_fields(name, scenario, round_)[0][0] == key


def test_gate_rules_on_token_figures_have_the_right_directions():
    assert parse_rule("tokens_per_second:-5%").direction == DROP_IS_BAD
    assert parse_rule("ttft_s.p99:+5%").direction == RISE_IS_BAD
    assert parse_rule("tpot_s.p99:10%").direction == RISE_IS_BAD
    with pytest.raises(BenchError, match="lower is better"):
        parse_rule("tpot_s.p99:-5%")


def test_gate_and_compare_read_a_token_run(capsys, tmp_path, write):
    system = write("llm.toml", 'name = "llm"\nadapter = "synthetic"\n[service]\nservers = 16\n[tokens]\n'
                   "output_tokens = 64\nfirst_token_s = 0.05\nper_token_s = 0.01\n")
    args = ["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
            "--set", "workload.benchmark=llama2-70b", "--duration", "60", "--target-qps", "10", "--no-report"]
    for name, extra in (("a", []), ("b", ["--set", "tokens.per_token_s=0.012"])):
        code, out, err = bench(capsys, *args, "--out", str(tmp_path / name), *extra)
        assert code == 0, err
    code, out, err = bench(capsys, "compare", str(tmp_path), "--format", "json")
    rows = json.loads(out)
    assert [r["metric"]["unit"] for r in rows] == ["tokens/s", "tokens/s"]
    assert sorted(r["tpot_s"]["p99"] for r in rows) == [0.01, 0.012]
    code, out, err = bench(capsys, "gate", "--baseline", str(tmp_path / "a"), "--candidate", str(tmp_path / "b"),
                           "--rule", "tpot_s.p99:+10%", "--rule", "tokens_per_second:-5%")
    assert code == 1, err + out
    assert "tpot_s.p99" in out and "regression" in out.lower()


def test_an_llm_benchmark_name_is_a_workload_for_token_suts_only(capsys, tmp_path, write):
    system = write("llm.toml", 'name = "llm"\nadapter = "synthetic"\n[service]\nservers = 4\n[tokens]\n'
                   "output_tokens = 8\nfirst_token_s = 0.05\nper_token_s = 0.01\n")
    out = tmp_path / "run"
    code, stdout, err = bench(capsys, "run", "--scenario", "interactive", "--sut", str(system), "--workload",
                              "llama3.1-8b", "--duration", "60", "--target-qps", "10", "--out", str(out),
                              "--no-report")
    assert code == 0, err
    result = json.loads((out / "result.json").read_text())
    assert result["workload"]["benchmark"] == "llama3.1-8b"   # workloads/llama3.1-8b.toml: a decoder
    assert result["tokens"]["limits"] == {"ttft_s": 0.5, "tpot_s": 0.03}
    assert "TPOT p50 10.000 ms" in stdout and "(limit 30 ms)" in stdout
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", "npu_v1", "--workload", "llama2-70b",
                         "--out", str(tmp_path / "npu"))
    assert code == 2 and "no layer graph" in err and "Traceback" not in err


SAMPLE = Path("/work/shared/mlperf-sample")
ROUNDS = Path(__file__).parent / "data" / "mlperf-rounds"


def test_round_40_server_result_is_scheduled_samples_per_second(capsys):
    code, out, err = bench(capsys, "compare", str(ROUNDS), "--format", "json")
    row = json.loads(out)[0]
    assert row["metric"] == {"name": "scheduled samples per second", "value": 368024.35, "unit": "samples/s"}


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared MLPerf sample not present")
@pytest.mark.parametrize("folder, name, value, unit", [
    ("MultiStream", "early-stopping p99 latency x 8 (inferred from SingleStream)", 394591 * 8 / 1e6, "ms"),
    ("Offline", "samples per second (inferred from SingleStream)", 2667.43, "samples/s"),
])
def test_results_inferred_from_a_single_stream_log(capsys, tmp_path, folder, name, value, unit):
    source = SAMPLE / "closed/Lenovo/results/Lenovo_2xL4_TRT/resnet50/SingleStream/performance/run_1"
    run = tmp_path / f"closed/Lenovo/results/Lenovo_2xL4_TRT/resnet50/{folder}/performance/run_1"
    shutil.copytree(source, run)
    code, out, err = bench(capsys, "compare", str(tmp_path), "--format", "json")
    assert code == 0, err
    row = json.loads(out)[0]
    assert row["scenario"] == folder.lower().replace("multistream", "multi-stream")
    assert row["metric"] == {"name": name, "value": pytest.approx(value), "unit": unit}
    assert not [p for p in check_path(tmp_path).problems if "holds a" in p]


ENDPOINTS = Path(__file__).parent / "data" / "mlperf-endpoints"


def test_an_mlperf_endpoints_result_is_read_with_its_own_headline(capsys):
    code, out, err = bench(capsys, "compare", str(ENDPOINTS), "--format", "json")
    assert code == 0, err
    row = json.loads(out)[0]
    assert (row["system"], row["workload"], row["scenario"]) == ("DGX_Spark_GB10", "qwen3.6-27b", "single-stream")
    assert row["metric"] == {"name": "tokens per second (MLPerf Endpoints tps)", "value": 20.08248130197646,
                             "unit": "tokens/s"}
    assert row["samples_per_second"] == 0.26262007234712414 and row["valid"]
    assert row["ttft_s"]["p99"] == 4.560133706 and row["tpot_s"]["p99"] == pytest.approx(0.044314109652)
    assert check_path(ENDPOINTS).problems == []


def test_an_incomplete_endpoints_run_is_invalid_saying_why(tmp_path, capsys):
    shutil.copytree(ENDPOINTS, tmp_path / "e")
    path = next((tmp_path / "e").rglob("result_summary.json"))
    data = json.loads(path.read_text())
    data.update(state="interrupted", complete=False, n_samples_failed=3)
    path.write_text(json.dumps(data))
    code, out, _ = bench(capsys, "compare", str(tmp_path / "e"), "--format", "json")
    row = json.loads(out)[0]
    assert not row["valid"]
    assert row["invalid_reasons"] == ["run not complete (state 'interrupted')", "3 of 1007 samples failed"]
    path.write_text("{not json")
    code, _, err = bench(capsys, "compare", str(tmp_path / "e"))
    assert code == 2 and "result_summary.json" in err and "Traceback" not in err


def test_gate_headline_direction_follows_a_rate_unit():
    from harness.analyse.gate_rules import max_regression_rule
    assert max_regression_rule("5").resolve("single-stream", "tokens/s").direction == DROP_IS_BAD
    assert max_regression_rule("5").resolve("single-stream", "ms").direction == RISE_IS_BAD


def test_report_of_a_token_run_shows_ttft_and_tpot_against_limits():
    from harness.render.tables import percentile_rows
    from records import record
    tokens = {"output_tokens": 1000, "tokens_per_second": 50.0, "ttft_s": {"p50": 0.1, "p90": 0.2, "p99": 0.3, "max": 0.4},
              "tpot_s": {"p50": 0.01, "p90": 0.02, "p99": 0.03, "max": 0.04}, "limits": {"ttft_s": 0.45, "tpot_s": 0.04},
              "early_stopping": {"tpot": {"met": False, "overlatency_queries": 9, "queries": 100, "queries_needed": 1874}}}
    latency = {k: None for k in ("min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max")}
    result = record(scenario="interactive", latency_s=latency, tokens=tokens,
                    settings={"effective": {"target_latency_ns": 0}})
    rows = {r["name"]: r for r in percentile_rows(result)}
    assert rows["TPOT p99"]["value"] == "30.000 ms" and rows["TPOT p99"]["note"] == "limit 40.000 ms"
    assert rows["TPOT early stopping"]["value"] == "not met" and "bound" not in " ".join(rows)
