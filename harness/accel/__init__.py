"""The accelerator (NPU) model: systolic compute, SRAM/DRAM, bus contention, energy.

    hw = load_hardware("systems/npu_v1.toml")
    model = AcceleratorModel(hw, workload)
    model.profile(batch=1).as_dict()      # {"layers": [...], "total": {...}}
    model.service(batch=4, start_s=0.25)  # Service(duration_s, energy_j, breakdown_j, dram_bytes)

Modules: config (hardware files), rules (their cross-field checks), compute (SCALE-Sim cycle counts), memory (what stays on chip),
contention (bandwidth left by other bus masters), timeline (exact service-time tables),
energy, profile (per-layer rows), model (AcceleratorModel).
"""

from harness.accel.config import Hardware, load_hardware, read_hardware
from harness.accel.model import AcceleratorModel, Service
from harness.accel.profile import LayerRow, Profile

__all__ = ["AcceleratorModel", "Hardware", "LayerRow", "Profile", "Service", "load_hardware",
           "read_hardware"]
