"""Serving on engines that share one DRAM: closed-loop batches go at once, multi-stream queries
spread over the engines, the per-batch log, and the DRAM timeline of a run."""

import numpy as np
import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.render import accel_charts
from harness.measure.engine import Environment
from harness.judge.verdict import judge
from harness.measure.loadgen import LoadGen
from harness.measure.runner import RunRequest, execute, prepare
from harness.measure.schedule import generate
from harness.workloads import load_workload
from harness.sut import accelerator as accelerator_sut

WORKLOADS = catalog.names("workloads")


def run(scenario, sut="npu_v2", workload="resnet50", *sets, duration_s=0.2, min_queries=20):
    prepared = prepare(RunRequest(scenario, sut, workload, duration_s=duration_s,
                                  min_queries=min_queries, sets=sets))
    return execute(prepared)


def single_stream_p50(system, workload, engines):
    out = run("single-stream", system, workload, f"compute.engines={engines}", duration_s=0.05,
              min_queries=8)
    return out.records.latencies()


@pytest.mark.parametrize("system", ["npu_v1", "npu_v2"])
@pytest.mark.parametrize("workload", WORKLOADS)
def test_single_stream_on_two_engines_is_never_slower_than_on_one(system, workload):
    one = single_stream_p50(system, workload, 1)
    two = single_stream_p50(system, workload, 2)
    assert np.all(two <= one * (1 + 1e-12)) and len(two) == len(one)


@pytest.mark.parametrize("system,engines", [("npu_v2", 2), ("npu_v1", 3)])
def test_single_stream_latency_is_one_engine_alone_without_the_batching_timeout(system, engines):
    # weights streamed (not resident), so no batch is a cold start and each is the warm table's
    keys = {"compute.engines": engines, "memory.weights_resident": False}
    out = run("single-stream", system, "resnet50", *(f"{k}={str(v).lower()}" for k, v in keys.items()),
              duration_s=0.05, min_queries=30)
    hw = load_hardware(catalog.resolve("systems", system), system, keys)
    model = AcceleratorModel(hw, load_workload("resnet50"))
    r = out.records
    expected = [model.table(1).duration(t) for t in r.issued_s]
    assert model.plan(1).placement.resident is False  # streamed weights: every batch is warm
    assert (r.completed_s - r.issued_s).tolist() == pytest.approx(expected, rel=1e-9, abs=0)
    assert out.result["accelerator"]["batch_sizes"] == {"1": r.count}


def test_multi_stream_spreads_a_query_over_both_engines():
    out = run("multi-stream", "npu_v2", "yolov3", duration_s=0.5, min_queries=12)
    accel = out.result["accelerator"]
    assert accel["batch_sizes"] == {"4": 2 * out.result["query_count"]}
    assert accel["utilization"] > 0.9  # both engines busy for the whole of every query
    assert out.result["latency_s"]["p99"] < 0.0663  # one engine with 8: 66.3 ms


def test_the_batch_log_has_a_row_per_batch_and_sums_to_the_energy():
    prepared = prepare(RunRequest("server", "npu_v2", "resnet50", duration_s=0.3, min_queries=20))
    sut = prepared.adapter.build(prepared.system.config, prepared.workload, 0)
    records = LoadGen(Environment(), sut, prepared.settings, generate(prepared.settings)).run()
    extra = sut.finish(judge(records, prepared.settings).duration_s)
    cols = sut.log.arrays()
    assert len(sut.log) == extra["accelerator"]["batches"] > 100
    assert cols["samples"].sum() == records.count and set(cols["engine"]) == {0, 1}
    assert np.all(cols["end_s"] > cols["start_s"])
    for engine in (0, 1):  # an engine serves one batch at a time
        mine = np.argsort(cols["start_s"][cols["engine"] == engine])
        starts, ends = cols["start_s"][cols["engine"] == engine][mine], cols["end_s"][cols["engine"] == engine][mine]
        assert np.all(starts[1:] >= ends[:-1])
    breakdown = extra["energy"]["breakdown_j"]
    assert [breakdown[k] for k in ("mac", "sram", "dram")] == \
        [cols[c].sum() for c in ("mac_j", "sram_j", "dram_j")]
    assert extra["accelerator"]["dram_bytes"] == cols["dram_bytes"].sum()


@pytest.fixture(scope="module")
def server_run():
    return run("server", "npu_v2", "resnet50", duration_s=2.5, min_queries=100)


def _average(view):
    edges = np.append(view["t_s"], view["end_s"])
    return float(np.sum(np.asarray(view["npu_bytes_per_s"]) * np.diff(edges)) / (edges[-1] - edges[0]))


def test_the_run_timeline_averages_to_the_dram_traffic(server_run):
    accel = server_run.result["accelerator"]
    tl = accel["dram_timeline"]
    assert len(tl["run"]["t_s"]) <= 1000 and len(tl["t_s"]) <= 1000
    assert _average(tl["run"]) == pytest.approx(accel["dram_average_bytes_per_s"], rel=1e-9)
    for view in (tl, tl["run"]):
        npu, left = np.asarray(view["npu_bytes_per_s"]), np.asarray(view["left_bytes_per_s"])
        assert np.all(npu <= left * (1 + 1e-9)) and npu.max() > 0


def test_the_zoom_window_is_a_few_master_periods_after_the_start(server_run):
    tl = server_run.result["accelerator"]["dram_timeline"]
    assert tl["t_s"][0] == pytest.approx(1.0, abs=1 / 30) and tl["end_s"] - tl["t_s"][0] == pytest.approx(0.1)
    assert set(tl["masters"]) == {"camera", "display"}


def test_the_chart_draws_the_npu_traffic_that_averages_to_the_result(server_run):
    from matplotlib.figure import Figure

    accel = server_run.record.accelerator
    fig = Figure()
    accel_charts._draw_dram(fig, accel)
    run_axes = fig.axes[0]
    line = next(l for l in run_axes.lines if l.get_label().startswith("NPU"))
    x, y = line.get_xdata(), line.get_ydata()  # a step line: value y[i] on [x[i], x[i + 1])
    drawn = np.sum(y[:-1] * np.diff(x)) / (x[-1] - x[0])
    assert drawn == pytest.approx(accel.dram_average_bytes_per_s, rel=1e-9)


def test_the_roofline_puts_a_memory_bound_layer_on_one_engines_roof():
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    out = run("server", "npu_v2", "resnet50_1440", "memory.masters=[]", "memory.mixed_efficiency=0.8",
              duration_s=0.1,
              min_queries=5)  # writes cost what reads do: a streaming layer is on the roof
    accel = out.record.accelerator
    assert accel.engine_peak_macs_per_s == accel.peak_macs_per_s / 2
    assert accel.engine_dram_bytes_per_s == pytest.approx(102.4e9 * 0.8)
    fig = Figure()
    accel_charts._draw_roofline(fig, [SimpleNamespace(accelerator=accel, label="npu_v2")])
    ax = fig.axes[0]
    roof = ax.lines[0]
    points = next(l for l in ax.lines if l.get_label() == "memory-bound layer")
    x, y = points.get_xdata(), points.get_ydata()
    on_roof = np.interp(np.log(x), np.log(roof.get_xdata()), np.log(roof.get_ydata()))
    ratio = y / np.exp(on_roof)
    assert len(x) >= 1 and ratio.max() <= 1 + 1e-9
    assert ratio.max() == pytest.approx(1.0, rel=1e-6)  # a layer that only streams sits on it
    assert np.all(y <= accel.engine_peak_macs_per_s * (1 + 1e-9))


def test_a_sut_that_served_for_no_time_reports_no_rates_not_zero():
    """finish(0): nothing to divide by, so utilization and the average DRAM traffic are unknown."""
    prepared = prepare(RunRequest("server", "npu_v2", "resnet50", duration_s=0.3, min_queries=20))
    sut = prepared.adapter.build(prepared.system.config, prepared.workload, 0)
    sut.start(Environment(), lambda *args: None)
    extra = sut.finish(0.0)
    accel, energy = extra["accelerator"], extra["energy"]
    assert accel["utilization"] is None and accel["dram_average_bytes_per_s"] is None
    assert accel["batches"] == 0 and accel["dram_bytes_per_s"] > 0   # what the system is
    assert energy["joules_per_sample"] is None and energy["average_power_w"] is None


def test_equal_designs_share_one_model_and_it_changes_no_result(monkeypatch):
    """A sweep's points that differ only in load get the model (and its batch plans) built for
    the first of them; the run is bit for bit a run on a model of its own."""
    adapter = accelerator_sut.ADAPTER
    monkeypatch.setattr(adapter, "_models", ())

    def point(qps, sram):
        return prepare(RunRequest("server", "npu_v2", "resnet50", target_qps=qps, duration_s=2,
                                  sets=(f"memory.sram_bytes={sram}",)))

    first, other, again = point(1000, 8388608), point(1000, 16777216), point(1500, 8388608)
    models = [adapter.build(p.system.config, p.workload, 0).model for p in (first, other, again)]
    assert models[0] is models[2] and models[1] is not models[0]
    shared = execute(again).records
    monkeypatch.setattr(adapter, "_models", ())
    fresh = execute(point(1500, 8388608)).records
    assert np.array_equal(shared.completed_s, fresh.completed_s, equal_nan=True)
