"""The accelerator (NPU) model: systolic compute, SRAM/DRAM, bus contention, energy.

    hw = load_hardware("systems/npu_v1.toml")
    model = AcceleratorModel(hw, workload)
    model.profile(batch=1).as_dict()      # {"layers": [...], "total": {...}}
    model.service(batch=4, start_s=0.25)  # Service(duration_s, energy_j, breakdown_j, dram_bytes)

Modules: config (hardware files), rules (their cross-field checks), compute (SCALE-Sim cycle counts), memory (what stays on chip),
contention (bandwidth left by other bus masters), timeline (exact service-time tables),
energy, profile (per-layer rows), model (AcceleratorModel).
"""

import importlib

# name -> the module defining it, imported on first use: a module that needs only the
# hardware file's tables (harness.workloads.precision, a synthetic run) does not load the model
_EXPORTS = {"Hardware": "config", "load_hardware": "config", "read_hardware": "config",
            "AcceleratorModel": "model", "Service": "model", "LayerRow": "profile",
            "Profile": "profile"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'harness.accel' has no attribute {name!r}")
    return getattr(importlib.import_module(f"harness.accel.{_EXPORTS[name]}"), name)
