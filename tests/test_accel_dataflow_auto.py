"""dataflow = "auto": the fastest of ws, os and is per layer, as a compiler's kernel selection;
never slower than any fixed dataflow, layer by layer, on every shipped workload."""

import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.workloads import load_workload

GRAPH_WORKLOADS = [w for w in catalog.names("workloads") if not w.startswith("llama")]


def _profile(workload, dataflow):
    path = catalog.resolve("systems", "npu_v2")
    hardware = load_hardware(path, catalog.label(path), {"compute.dataflow": dataflow})
    return AcceleratorModel(hardware, load_workload(workload)).profile(1, masters=False)


@pytest.mark.parametrize("workload", GRAPH_WORKLOADS)
def test_auto_is_never_slower_than_a_fixed_dataflow(workload):
    auto = _profile(workload, "auto")
    for fixed in ("ws", "os", "is"):
        rows = _profile(workload, fixed).layers
        for a, f in zip(auto.layers, rows):
            assert a.compute_cycles <= f.compute_cycles, (a.name, fixed)
    chosen = {row.dataflow for row in auto.layers if row.compute_cycles}
    assert chosen <= {"ws", "os", "is"} and all(row.dataflow == "" for row in auto.layers if not row.compute_cycles)


def test_auto_picks_per_layer_on_resnet50():
    rows = _profile("resnet50", "auto").layers
    best = {f: _profile("resnet50", f) for f in ("ws", "os", "is")}
    for i, row in enumerate(rows):
        if row.compute_cycles:
            assert row.compute_cycles == min(p.layers[i].compute_cycles for p in best.values())
            assert row.compute_cycles == best[row.dataflow].layers[i].compute_cycles
    assert len({row.dataflow for row in rows if row.compute_cycles}) == 3  # all three win somewhere
