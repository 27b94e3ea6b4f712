"""compute.schedule: one batch over several engines (pipeline, split_batch, split_spatial), and
fused layers overlapping tile by tile (compute.fused_overlap)."""

import itertools

import pytest

from clirun import bench
from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.accel import schedules as S
from harness.accel.fusion import group_time, groups
from harness.accel.model import plan_layers
from harness.measure.runner import RunRequest, execute, prepare
from harness.workloads import load_workload
from test_compiled import assert_identical, both

SYSTEM = """
name = "duo"
adapter = "accelerator"
[compute]
array_rows = 4
array_cols = 4
dataflow = "ws"
clock_hz = 1.0e9
engines = 2
precision = "int8"
schedule = "{schedule}"
fused_overlap = {overlap}
[memory]
sram_bytes = 1048576
dram_bytes_per_s = {dram}
dram_efficiency = 1.0
mixed_efficiency = 1.0
[energy]
pj_per_mac = {{ int8 = 0.1 }}
sram_pj_per_byte = 1.0
dram_pj_per_byte = 10.0
static_w = 0.1
[batching]
max_batch = {max_batch}
timeout_s = 0.0
"""

TWO_FC = """
name = "two_fc"
input = [64, 1, 1]
layers = [
  { op = "fc", name = "fc1", features = 32 },
  { op = "fc", name = "fc2", features = 64 },
]
"""

CONV_PAIR = """
name = "conv_pair"
input = [8, 4, 4]
layers = [
  { op = "conv", name = "c1", filters = 8, kernel = 1 },
  { op = "conv", name = "c2", filters = 8, kernel = 1, fused = true },
]
"""

CONV_ADD = """
name = "conv_add"
input = [8, 4, 4]
layers = [
  { op = "conv", name = "c1", filters = 8, kernel = 1 },
  { op = "add", name = "add", skip = "input", fused = true },
]
"""


def system(write, schedule="independent", overlap="false", dram="1.0e9", max_batch=1):
    return write("duo.toml", SYSTEM.format(schedule=schedule, overlap=overlap, dram=dram,
                                           max_batch=max_batch))


def model(write, workload_text, **keys):
    path = system(write, **keys)
    return AcceleratorModel(load_hardware(path), load_workload(str(write("w.toml", workload_text))))


def npu_v2(schedule, **keys):
    hw = load_hardware(catalog.resolve("systems", "npu_v2"), "npu_v2",
                       {"compute.schedule": schedule, **keys})
    return AcceleratorModel(hw, load_workload("resnet50"))


# ---------------------------------------------------------------- fused overlap


def test_group_time_is_the_tile_pipeline_formula():
    # an array layer and a vector layer: sum / T + (T - 1) x busiest unit / T
    assert group_time([3.0, 1.0], [True, False], 4) == (4.0 + 3 * 3.0) / 4
    assert group_time([3.0, 1.0], [True, False], 1) == 4.0    # one tile: one after the other
    # two layers on the one array take turns whatever the tiling; a vector layer hides behind them
    assert group_time([3.0, 1.0], [True, True], 4) == 4.0
    assert group_time([3.0, 1.0, 2.0], [True, True, False], 4) == (6.0 + 3 * 4.0) / 4
    assert groups([False, True, False, True, True]) == [(0, 1), (2, 4)]


def test_a_fused_conv_and_add_overlap_over_its_output_rows(write):
    apart = model(write, CONV_ADD, dram="1.0e12").profile(1, masters=False)
    together = model(write, CONV_ADD, dram="1.0e12", overlap="true").profile(1, masters=False)
    c1, add = (r.compute_time_s for r in apart.layers)
    assert apart.total["time_s"] == pytest.approx(c1 + add, rel=1e-12)
    # 4 output rows of the add for one sample: 4 tiles, the array and the vector unit in step
    assert together.total["time_s"] == pytest.approx((c1 + add + 3 * max(c1, add)) / 4, rel=1e-12)
    assert together.total["time_s"] < apart.total["time_s"]
    assert together.total["dram_bytes"] == apart.total["dram_bytes"]


def test_two_fused_convs_take_turns_on_the_one_array(write):
    apart = model(write, CONV_PAIR, dram="1.0e12").profile(1, masters=False)
    together = model(write, CONV_PAIR, dram="1.0e12", overlap="true").profile(1, masters=False)
    assert together.total["time_s"] == pytest.approx(apart.total["time_s"], rel=1e-12)


# ---------------------------------------------------------------- pipeline, by hand


def test_a_two_layer_pipeline_on_two_engines(write):
    m = model(write, TWO_FC, schedule="pipeline")
    assert m.cuts == (0, 1)
    splan = m.scheduled(1)
    stage0, stage1 = (s.plan for s in splan.stages)
    # fc1 reads the 64-byte input and writes its 32-byte output for the other engine; fc2
    # reads it back and writes the 64-byte result; both engines keep their weights resident
    assert [t.dram for t in stage0.placement.layers] == [64 + 32]
    assert [t.dram for t in stage1.placement.layers] == [32 + 64]
    assert stage0.placement.resident_bytes == 64 * 32 + 32 and stage1.placement.resident_bytes == 32 * 64 + 64
    total = m.profile(1, masters=False).total
    times = [S.quiet_time(m.physical, p) for p in (stage0, stage1)]
    section = total["schedule"]
    assert [st["time_s"] for st in section["stages"]] == pytest.approx(times, rel=1e-12)
    assert section["latency_s"] == pytest.approx(sum(times), rel=1e-12)
    assert section["interval_s"] == pytest.approx(max(times), rel=1e-12)
    assert total["samples_per_s"] == pytest.approx(1 / max(times), rel=1e-12)
    independent = model(write, TWO_FC).profile(1, masters=False).total
    assert independent["dram_bytes"] == 64 + 64  # one engine: the intermediate stays on chip


def test_partition_minimises_the_slowest_group():
    costs = [5, 1, 1, 1, 1, 5, 2, 2, 3]

    def cost(i, j):
        return float(sum(costs[i:j]))

    for k in (1, 2, 3, 4):
        starts = S.partition(cost, len(costs), k)
        got = max(cost(i, j) for i, j in zip(starts, starts[1:] + (len(costs),)))
        best = min(max(cost(i, j) for i, j in zip((0, *cuts), (*cuts, len(costs))))
                   for cuts in itertools.combinations(range(1, len(costs)), k - 1))
        assert got == best and len(starts) == k


# ---------------------------------------------------------------- resnet50 on npu_v2


def test_resnet50_pipeline_keeps_every_weight_resident_with_a_cut_that_fits():
    one = npu_v2("independent").profile(1).total
    piped = npu_v2("pipeline", **{"compute.pipeline_cuts": ["stage5.1.conv2"]})
    total = piped.profile(1).total
    assert total["streamed_weight_bytes"] == 0.0
    assert total["resident_weight_bytes"] == one["weight_bytes"]  # 25.6 MB over 2 x 16 MiB
    assert all(st["streamed_weight_bytes"] == 0 for st in total["schedule"]["stages"])
    assert sum(r.weight_dram_bytes for r in piped.profile(1).layers) == 0.0
    assert total["dram_bytes"] < 0.8e6 < 11e6 < one["dram_bytes"]  # activations only: 0.75 MB


@pytest.mark.parametrize("batch", [1, 8])
def test_the_balanced_pipeline_moves_fewer_dram_bytes_than_one_engine(batch):
    one = npu_v2("independent").profile(batch).total
    piped = npu_v2("pipeline").profile(batch).total
    assert piped["dram_bytes"] < one["dram_bytes"]
    assert piped["schedule"]["interval_s"] < one["time_s"]  # a batch enters before one ends


def test_the_latency_throughput_trade_off_of_the_schedules():
    one = {b: npu_v2("independent").profile(b).total for b in (1, 8)}
    spatial = npu_v2("split_spatial").profile(1).total
    split8 = npu_v2("split_batch").profile(8).total
    piped = npu_v2("pipeline").profile(8).total
    assert spatial["time_s"] < one[1]["time_s"]                   # one query on both: sooner
    assert split8["time_s"] < one[8]["time_s"]                    # a batch of 8 split: sooner
    assert split8["samples_per_s"] < one[8]["samples_per_s"]      # ... but fewer per second
    assert piped["schedule"]["latency_s"] >= one[8]["time_s"] * 0.999  # stages in turn
    assert npu_v2("split_batch").profile(1).total["schedule"]["notes"] == ["batch 1 < 2 engines: 1 idle"]


def test_split_spatial_rereads_conv_halos(write):
    halo = """
name = "halo"
input = [4, 8, 8]
layers = [
  { op = "conv", name = "a", filters = 4, kernel = 3 },
  { op = "conv", name = "b", filters = 4, kernel = 3 },
]
"""
    m = model(write, halo, schedule="split_spatial", dram="1.0e12")
    # layer b: 8 output rows, 4 per engine; a 3x3 window (stride 1, padding 1) over rows 0..3
    # reads input rows 0..4, over rows 4..7 rows 3..7: one row of a's output (4 channels x 8)
    # beyond what the engine made itself, written by its neighbour and read back
    for stage in m.scheduled(1).stages:
        a, b = stage.plan.placement.layers
        assert b.in_dram == 32 and b.out_dram == 32 + 4 * 4 * 8
        assert a.out_dram == 0  # a's own rows stay on chip
    assert m.scheduled(1).merged.placement.layers[1].dram == 2 * (32 + 32 + 128)


# ---------------------------------------------------------------- refusals


def test_a_pipeline_with_more_engines_than_layers_is_refused(capsys):
    code, out, err = bench(capsys, "profile", "--sut", "npu_v2", "--workload", "tiny",
                           "--set", "compute.engines=8", "--set", "compute.schedule=pipeline")
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "compute.schedule" in err and "tiny has 6 layer(s) for 8 engines" in err


@pytest.mark.parametrize("sets,key", [
    (("compute.schedule=pipeline", 'compute.pipeline_cuts=["nope"]'), "compute.pipeline_cuts"),
    (("compute.schedule=pipeline", 'compute.pipeline_cuts=["conv1"]'), "compute.pipeline_cuts"),
    (("compute.schedule=spread",), "compute.schedule"),
])
def test_bad_schedules_exit_2_naming_the_key(capsys, sets, key):
    args = [a for s in sets for a in ("--set", s)]
    code, _, err = bench(capsys, "profile", "--sut", "npu_v2", "--workload", "resnet50", *args)
    assert code == 2 and key in err and err.strip().count("\n") == 0


# ---------------------------------------------------------------- bench run


@pytest.mark.parametrize("schedule", ["split_batch", "split_spatial"])
@pytest.mark.parametrize("scenario", ["single-stream", "server", "offline"])
def test_split_runs_are_identical_compiled_and_in_the_event_loop(schedule, scenario):
    request = RunRequest(scenario, "npu_v2", duration_s=0.2, min_queries=20,
                         sets=(f"compute.schedule={schedule}",))
    assert_identical(*both(request))


def test_a_pipeline_run_overlaps_its_stages(write):
    path = system(write, schedule="pipeline", max_batch=1)
    workload = str(write("w.toml", TWO_FC))
    total = AcceleratorModel(load_hardware(path), load_workload(workload)).profile(1).total
    single = execute(prepare(RunRequest("single-stream", str(path), workload, duration_s=0.01,
                                        min_queries=50)))
    assert single.result["latency_s"]["p50"] == pytest.approx(total["schedule"]["latency_s"], rel=1e-9)
    offline = execute(prepare(RunRequest("offline", str(path), workload, duration_s=0.01,
                                         min_queries=2000)))
    rate = offline.result["samples_per_second"]
    # one batch enters every slowest-stage time, not every latency
    assert 0.95 * total["samples_per_s"] < rate <= total["samples_per_s"] * (1 + 1e-9)
    assert rate > 1.5 / total["schedule"]["latency_s"]
    accel = offline.result["accelerator"]
    assert accel["schedule"]["simulated_by"].startswith("event loop")
    assert accel["batch_sizes"] == {"1": offline.result["sample_count"]}


def test_a_decoder_llm_refuses_a_multi_engine_schedule(capsys, tmp_path):
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", "npu_v2", "--workload",
                         "llama3.2-1b", "--set", "compute.schedule=pipeline", "--out", tmp_path / "r")
    assert code == 2 and "compute.schedule" in err and err.strip().count("\n") == 0
