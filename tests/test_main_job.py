"""The README's main job, `bench run --scenario server --sut npu_v2`, with its embedded
defaults: MLPerf's 600 s server run of resnet50 at the preset's target QPS, in virtual time.
Deterministic, so its headline figures are pinned exactly; a change to the model, the presets,
the workload or the load generator that moves them must update these numbers on purpose."""

import json

import pytest

from harness.cli.main import main


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("main") / "run"
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--scenario", "server", "--sut", "npu_v2", "--out", str(out), "--no-report"])
    assert exit_.value.code == 0
    return json.loads((out / "result.json").read_text())


def test_main_job_is_valid_with_energy(result):
    assert result["valid"] and result["invalid_reasons"] == []
    assert (result["workload"]["name"], result["sut"]["name"], result["time_mode"]) == ("resnet50", "npu_v2", "virtual")
    assert result["settings"]["effective"]["target_latency_ns"] == 15_000_000
    assert result["settings"]["effective"]["min_duration_ms"] == 600_000
    assert set(result["energy"]["breakdown_j"]) == {"mac", "sram", "dram", "static"}


def test_main_job_figures_are_pinned(result):
    assert result["query_count"] == 1_499_835
    # re-pinned when the engines came to share one DRAM at every instant (p99 7.09 -> 6.00 ms:
    # an engine alone now gets all of the leftover) and static power came to be gated; again
    # when SRAM came to be planned: 14.3 MB of resnet50's weights stay resident per engine
    # instead of none, so a batch moves less DRAM (p99 6.00 -> 5.42 ms, 1.364 -> 1.199 mJ/sample);
    # again when fused layers came to overlap tile by tile (a conv and its fused residual add,
    # the array and the vector unit in step: p99 5.42 -> 4.45 ms, 1.199 -> 1.183 mJ/sample)
    assert result["metric"]["value"] == pytest.approx(2499.717583001303, rel=1e-12)
    assert result["latency_s"]["p99"] == pytest.approx(0.004454732233057257, rel=1e-12)
    assert result["energy"]["joules_per_sample"] == pytest.approx(0.0011833438780124864, rel=1e-12)
    assert result["energy"]["average_power_w"] == pytest.approx(2.958027470840021, rel=1e-12)
    assert result["accelerator"]["batches"] == 420_567
