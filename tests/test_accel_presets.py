"""Every shipped accelerator system x every shipped workload: loads, headline numbers pinned."""

import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.spec import read_toml
from harness.workloads import load_workload
from harness.workloads.decoder import Decoder

# (array cycles, DRAM bytes, time s, energy J, bound) of one warm batch of 1 on one engine
# alone (all of the usable DRAM bandwidth), no contention
# re-pinned when SRAM came to be planned (memory.py): weights resident layer by layer as far as
# they fit, activations in a lifetime-based arena, tiling refetches counted. DRAM bytes fell on
# every workload with weights that did not all fit (npu_v2 x resnet50: 25.71 -> 11.38 MB), and
# time and energy with them; tiny and npu_v2 x mobilenet_v2 (all resident before) are unchanged.
# bert_base again when its embedding came to stream only the 3 x 384 rows it looks up, not the
# 23.8 MB table (npu_v2: 95.9 -> 72.9 MB).
# npu_v1's bert_base, resnet50_1440 and yolov3 again when an operand that fits one tile block
# came to take the whole buffer but a double-buffered array tile, not half of it (tiling.py, found
# against ZigZag): DRAM 171.4 -> 160.8, 1227.3 -> 1221.0 and 213.8 -> 206.7 MB.
# Time and energy of every pair again when fused layers came to overlap tile by tile (fusion.py:
# npu_v2 x resnet50 1.0177 -> 0.9575 ms)
HEADLINES = {
    ("npu_v1", "bert_base"): (12928728, 160812672.0, 2.904676e-02, 2.973410e-02, "compute"),
    ("npu_v1", "mobilenet_v2"): (3982633, 3075856.0, 8.019406e-03, 2.848964e-03, "compute"),
    ("npu_v1", "resnet50"): (2192578, 25252816.0, 4.534409e-03, 4.372096e-03, "compute"),
    ("npu_v1", "resnet50_1440"): (42787522, 1221009424.0, 1.416438e-01, 1.740358e-01, "memory"),
    ("npu_v1", "tiny"): (8219, 3082.0, 1.658200e-05, 5.599740e-06, "compute"),
    ("npu_v1", "yolov3"): (20476908, 206671200.0, 4.643067e-02, 4.715429e-02, "compute"),
    ("npu_v2", "bert_base"): (4651152, 72911232.0, 4.839506e-03, 1.077215e-02, "compute"),
    ("npu_v2", "mobilenet_v2"): (199578, 151528.0, 4.039572e-04, 3.847356e-04, "compute"),
    ("npu_v2", "resnet50"): (916544, 11382736.0, 9.574552e-04, 1.756274e-03, "compute"),
    ("npu_v2", "resnet50_1440"): (13594560, 790716432.0, 1.923356e-02, 6.800926e-02, "compute"),
    ("npu_v2", "tiny"): (1659, 3082.0, 2.047000e-06, 1.814502e-06, "compute"),
    ("npu_v2", "yolov3"): (6575340, 77873507.0, 6.611384e-03, 1.581777e-02, "compute"),
}
# npu_v2 under its camera and display: (mean over start phases, best, worst) of one batch of 1
CONTENDED = {
    "bert_base": (4.840042e-03, 4.839506e-03, 4.840083e-03),
    "mobilenet_v2": (4.039572e-04, 4.039572e-04, 4.039572e-04),
    "resnet50": (9.574552e-04, 9.574552e-04, 9.574552e-04),
    "resnet50_1440": (1.960236e-02, 1.954648e-02, 1.963131e-02),
    "tiny": (2.047000e-06, 2.047000e-06, 2.047000e-06),
    "yolov3": (6.614963e-03, 6.611384e-03, 6.615238e-03),
}
ACCELERATORS = sorted(name for name in catalog.names("systems")
                      if read_toml(catalog.resolve("systems", name)).get("adapter") == "accelerator")


HEADLINES_V1 = sorted(w for s, w in HEADLINES if s == "npu_v1")


def model(system, workload, **overrides):
    hw = load_hardware(catalog.resolve("systems", system), system, overrides)
    return AcceleratorModel(hw, load_workload(workload))


def test_every_pair_is_pinned():
    assert ACCELERATORS == ["npu_v1", "npu_v2"]
    shipped = {(s, w) for s in ACCELERATORS for w in catalog.names("workloads")
               if not isinstance(load_workload(w), Decoder)}   # pinned in test_accel_llm.py
    assert shipped == set(HEADLINES)


@pytest.mark.parametrize("system,workload", sorted(HEADLINES))
def test_headline_numbers(system, workload):
    cycles, dram, time_s, energy_j, bound = HEADLINES[(system, workload)]
    t = model(system, workload).profile(1, masters=False).total
    assert t["compute_cycles"] == cycles and t["dram_bytes"] == dram and t["bound"] == bound
    assert t["time_s"] == pytest.approx(time_s, rel=1e-6)
    assert t["energy_j"] == pytest.approx(energy_j, rel=1e-6)


@pytest.mark.parametrize("workload", sorted(CONTENDED))
def test_npu_v2_profiles_under_its_camera_and_display(workload):
    t = model("npu_v2", workload).profile(1).total
    c = t["contention"]
    assert (t["time_s"], c["time_s_best"], c["time_s_worst"]) == pytest.approx(
        CONTENDED[workload], rel=1e-6)
    assert c["time_s_best"] <= t["time_s"] <= c["time_s_worst"]
    assert c["time_s_uncontended"] <= c["time_s_best"] * (1 + 1e-9)  # float rounding only


def test_npu_v1_has_no_masters_so_its_profile_is_uncontended():
    for workload in HEADLINES_V1:
        t = model("npu_v1", workload).profile(1).total
        assert t["time_s"] == t["contention"]["time_s_uncontended"]


def test_resnet50_at_1440_is_memory_bound_where_224_is_not_on_npu_v1():
    small = model("npu_v1", "resnet50").profile(1).total
    large = model("npu_v1", "resnet50_1440").profile(1).total
    assert small["bound"] == "compute" and small["memory_bound_time_fraction"] < 0.2
    assert large["bound"] == "memory" and large["memory_bound_time_fraction"] > 0.5


@pytest.mark.parametrize("dataflow,cycles", [("ws", 6349260), ("os", 5198904), ("is", 6620640)])
def test_resnet50_cycles_match_the_reference_closed_form(dataflow, cycles):
    """accelerator-modeling.md §1.8: ResNet-50 @224 on a 32x32 array (SCALE-Sim formulas)."""
    m = model("npu_v1", "resnet50", **{"compute.array_rows": 32, "compute.array_cols": 32,
                                        "compute.dataflow": dataflow})
    assert m.profile(1).total["compute_cycles"] == cycles


def test_mobilenet_v2_depthwise_cycles_match_the_reference_closed_form():
    m = model("npu_v1", "mobilenet_v2", **{"compute.array_rows": 32, "compute.array_cols": 32})
    assert m.profile(1).total["compute_cycles"] == 3607428


def test_npu_v2_shares_dram_with_realtime_masters():
    m = model("npu_v2", "resnet50")
    names = [(x.name, x.priority) for x in m.hardware.memory.masters]
    assert names == [("camera", "realtime"), ("display", "realtime")]
    assert m.leftover.period_s == pytest.approx(1 / 30)
    usable = 102.4e9 * 0.8
    camera_writes = 1.1 * 1.7e9  # write_cost: each written byte costs 1.1 bytes of DRAM time
    assert m.leftover.mean_bytes_per_s == pytest.approx(usable - camera_writes - 1.99e9)  # alone
    assert m.starving_masters() == []
    durations = [m.service(8, start).duration_s for start in (0.0, 0.0301, 0.0325)]
    assert len(set(durations)) > 1  # when a batch starts matters under contention


def test_presets_batch_and_serve():
    for system in ACCELERATORS:
        m = model(system, "resnet50")
        assert m.max_batch >= 2 and m.engines >= 1
        assert m.service(m.max_batch, 0.0).duration_s < 0.015  # a full batch fits MLPerf's bound


@pytest.mark.parametrize("system", ACCELERATORS)
def test_header_comment_and_description_match_the_keys(system):
    """The lines a reader sees first name the array, engines' SRAM and clock the keys set."""
    path = catalog.resolve("systems", system)
    text = path.read_text()
    header = " ".join(line for line in text.splitlines()[:3] if line.startswith("#"))
    raw = read_toml(path)
    c, m = raw["compute"], raw["memory"]
    for where in (header, raw["description"]):
        assert f"{c['array_rows']}x{c['array_cols']}" in where
        assert f"{m['sram_bytes'] // 2**20} MiB" in where
        clock = c["clock_hz"]
        assert (f"{clock / 1e9:g} GHz" if clock >= 1e9 else f"{clock / 1e6:g} MHz") in where


def test_no_shipped_file_names_a_path_of_one_machine():
    import re

    root = catalog.resolve("systems", ACCELERATORS[0]).parent.parent
    shipped = [p for d in ("systems", "workloads", "scenarios", "examples")
               for p in (root / d).rglob("*") if p.is_file() and p.suffix in {".toml", ".py", ".csv"}]
    assert shipped
    for path in shipped:
        assert not re.search(r"(^|[^\w.])/(work|tmp|root|home|Users)/", path.read_text()), path


@pytest.mark.parametrize("system,workload", sorted(HEADLINES))
def test_no_layer_uses_more_than_the_whole_array(system, workload):
    """A fused group's layers share its time; each one's utilization is over the group's time,
    so none shows above 100 % (npu_v1 x resnet50_1440 showed stage3.2.conv3 at 197 %) and a
    group's layers add up to the array's utilization while it ran."""
    rows = model(system, workload).profile(1, masters=False).layers
    assert max(r.utilization for r in rows) <= 1.0 + 1e-12
