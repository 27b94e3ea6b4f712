"""fp8 (e4m3, e5m2), int16 and tf32 join the precisions: rates and widths by the documented rule,
and no energy per MAC unless the system file states it."""

import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.errors import ConfigError
from harness.workloads import load_workload

PJ = {"int8": 0.05, "int16": 0.12, "fp8_e4m3": 0.06, "fp8_e5m2": 0.06, "tf32": 0.5}


def _profile(precision):
    path = catalog.resolve("systems", "npu_v2")
    hw = load_hardware(path, catalog.label(path), {"compute.precision": precision,
                                                   "energy.pj_per_mac": PJ})
    return hw, AcceleratorModel(hw, load_workload("resnet50")).profile(1, masters=False)


def test_rates_and_widths():
    cycles = {p: _profile(p)[1].total["compute_cycles"] for p in PJ}
    assert cycles["fp8_e4m3"] == cycles["fp8_e5m2"] == cycles["int8"]
    widths = {p: _profile(p)[0].compute.element_bytes for p in PJ}
    assert widths == {"int8": 1.0, "int16": 2.0, "fp8_e4m3": 1.0, "fp8_e5m2": 1.0, "tf32": 4.0}
    rates = {p: _profile(p)[0].compute.rate for p in PJ}
    assert rates == {"int8": 1.0, "int16": 0.5, "fp8_e4m3": 1.0, "fp8_e5m2": 1.0, "tf32": 0.25}


@pytest.mark.parametrize("precision", ["fp8_e4m3", "int16", "tf32"])
def test_no_energy_per_mac_no_run(precision):
    path = catalog.resolve("systems", "npu_v2")
    with pytest.raises(ConfigError) as err:
        load_hardware(path, catalog.label(path), {"compute.precision": precision})
    assert f"must give the energy of compute.precision = '{precision}'" in str(err.value)
