"""Measure once, judge separately: a run's figures are a pure function of the records and the
effective settings it wrote, so judging the files again reproduces result.json exactly."""

import json

import pytest

from harness.cli.main import main
from harness.judge.verdict import judge
from harness.record.build import read_queries
from harness.measure.settings import Settings


@pytest.mark.parametrize("scenario", ["single-stream", "multi-stream", "server", "offline"])
def test_judging_the_files_again_gives_the_same_result(tmp_path, synthetic, scenario):
    out = tmp_path / scenario
    system = synthetic(distribution="exponential", mean_s=0.002, servers=2)
    with pytest.raises(SystemExit):
        main(["run", "--scenario", scenario, "--sut", str(system), "--workload", "tiny", "--duration", "20",
              "--target-qps", "300", "--out", str(out), "--no-report"])
    result = json.loads((out / "result.json").read_text())
    outcome = judge(read_queries(out / "queries.parquet"),
                    Settings.from_effective(scenario, result["settings"]["effective"]))
    assert outcome.valid == result["valid"] and outcome.invalid_reasons == result["invalid_reasons"]
    assert outcome.metric["value"] == result["metric"]["value"]
    assert outcome.latency_s == result["latency_s"]
    assert outcome.query_count == result["query_count"] and outcome.sample_count == result["sample_count"]
