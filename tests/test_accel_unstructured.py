"""Unstructured weight sparsity: kept fraction, index overhead and skipping efficiency, all stated
(no defaults); stored dense when the indices outweigh the saving."""

import math

import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.errors import ConfigError
from harness.workloads import load_workload


def _hw(**compute):
    path = catalog.resolve("systems", "npu_v2")
    return load_hardware(path, catalog.label(path), {f"compute.{k}": v for k, v in compute.items()})


def _profile(**compute):
    return AcceleratorModel(_hw(**compute), load_workload("resnet50")).profile(1, masters=False)


def test_density_shortens_k_by_the_skipped_share_and_shrinks_the_weights():
    dense = _profile()
    sparse = _profile(weight_density=0.3, sparse_index_bits=4, sparse_skip_efficiency=0.5)
    skipped = 0.7 * 0.5
    for d, s, layer in zip(dense.layers, sparse.layers, load_workload("resnet50").layers):
        if layer.weights and d.compute_cycles:
            assert s.compute_cycles <= d.compute_cycles
    fc_dense, fc_sparse = dense.layers[-1], sparse.layers[-1]
    assert fc_dense.name == "fc" and fc_sparse.compute_cycles < fc_dense.compute_cycles
    assert sparse.total["weight_bytes"] == pytest.approx(dense.total["weight_bytes"] * 0.3 * (1 + 4 / 8 / 1), rel=1e-9)
    assert sparse.total["sparsity_stored"].startswith(f"unstructured 0.3 density (0.45x the dense bytes), {skipped:.3g}")


def test_indices_that_outweigh_the_saving_store_dense():
    dense = _profile()
    fallback = _profile(weight_density=0.9, sparse_index_bits=8, sparse_skip_efficiency=1.0)
    assert fallback.total["compute_cycles"] == dense.total["compute_cycles"]
    assert fallback.total["weight_bytes"] == dense.total["weight_bytes"]
    assert fallback.total["sparsity_stored"].startswith("dense: 0.9 density with 8-bit indices would store 1.8x")


@pytest.mark.parametrize("compute,message", [
    ({"weight_density": 0.5}, "compute.sparse_index_bits: required with compute.weight_density < 1"),
    ({"weight_density": 0.5, "sparse_index_bits": 4}, "compute.sparse_skip_efficiency: required"),
    ({"weight_density": 0.5, "sparse_index_bits": 4, "sparse_skip_efficiency": 0.5, "sparsity": "2:4"},
     "set either N:M sparsity or weight_density, not both"),
    ({"weight_density": 0.0}, "compute.weight_density = 0.0: must be a number from 0.001 to 1"),
])
def test_every_choice_is_stated(compute, message):
    with pytest.raises(ConfigError) as err:
        _hw(**compute)
    assert message in str(err.value)


def test_dense_by_default():
    c = _hw().compute
    assert c.weight_density == 1.0 and not c.unstructured and math.isnan(c.sparse_skip_efficiency)
