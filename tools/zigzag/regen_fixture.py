#!/usr/bin/env python3
"""Regenerate tests/data/zigzag/dram.json: per-layer DRAM traffic from ZigZag (zigzag-dse 3.9.1).

ZigZag is not a dependency of bench, so this script runs itself inside its own virtual
environment, creating it when missing::

    python tools/zigzag/regen_fixture.py              # creates /tmp/zigzag-venv if needed
    # equivalent by hand:
    python -m venv /tmp/zigzag-venv
    /tmp/zigzag-venv/bin/pip install zigzag-dse==3.9.1 six
    /tmp/zigzag-venv/bin/python tools/zigzag/regen_fixture.py

(zigzag-dse 3.9.1 imports `six` without declaring it.)

What it runs: the ResNet-50 layers in LAYERS (bench's names; the geometry is written out here
and tests/test_accel_zigzag_dram.py checks it against bench's own resnet50 layers), one at a
time, at batch 1 and int8 (partial sums in 32-bit accumulators), on a 32 x 32 weight-stationary array (K over
one array dimension, C over the other, as ZigZag's tpu_like mapping) with this memory
hierarchy, the one bench models:

    DRAM (all operands) -> one SRAM of SRAM_BYTES holding inputs, weights and outputs
                        -> a weight register and an output register per PE

for each SRAM size in SRAM_SIZES. ZigZag's LOMA search picks the temporal loop order and the
tiling with the least energy (DRAM accesses cost 70x an SRAM access, so in effect the fewest
DRAM bytes). Each entry records the DRAM bytes per operand at the DRAM level: weights and inputs
read (RD_OUT_TO_LOW), outputs written (WR_IN_BY_LOW) and partial sums read back
(RD_OUT_TO_LOW of O), each count x its precision, and the loop order ZigZag chose.
Runtime: about four minutes on a 2-core machine.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from venv_bootstrap import rerun_in_venv  # noqa: E402

VENV = Path(os.environ.get("ZIGZAG_VENV", "/tmp/zigzag-venv"))
OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "zigzag" / "dram.json"
PIP_SPECS = ["zigzag-dse==3.9.1", "six"]
ARRAY = (32, 32)
SRAM_SIZES = [32768, 65536, 262144]   # bytes; all on bench's tile-buffer grid (4 KiB x sqrt(2)^k)

# bench layer name, K (filters), C (channels), OY, OX, FY, FX, stride, input H (= W), padding (lo, hi)
LAYERS = [
    ("conv1", 64, 3, 112, 112, 7, 7, 2, 224, (2, 3)),
    ("stage2.2.conv1", 64, 256, 56, 56, 1, 1, 1, 56, (0, 0)),
    ("stage2.2.conv2", 64, 64, 56, 56, 3, 3, 1, 56, (1, 1)),
    ("stage3.2.conv1", 128, 512, 28, 28, 1, 1, 1, 28, (0, 0)),
    ("stage3.2.conv2", 128, 128, 28, 28, 3, 3, 1, 28, (1, 1)),
    ("stage4.2.conv1", 256, 1024, 14, 14, 1, 1, 1, 14, (0, 0)),
    ("stage4.2.conv2", 256, 256, 14, 14, 3, 3, 1, 14, (1, 1)),
    ("stage5.2.conv2", 512, 512, 7, 7, 3, 3, 1, 7, (1, 1)),
    ("fc", 1000, 2048, 1, 1, 1, 1, 1, 1, (0, 0)),
]

MAPPING = f"""- name: default
  spatial_mapping:
    D1:
      - K, {ARRAY[0]}
    D2:
      - C, {ARRAY[1]}
  memory_operand_links:
    O: O
    W: I2
    I: I1
"""


def _port(name: str, kind: str, bits: tuple[int, int], allocation: list[str]) -> str:
    alloc = ", ".join(f'"{a}"' for a in allocation)
    return (f"      - name: {name}\n        type: {kind}\n        bandwidth_min: {bits[0]}\n"
            f"        bandwidth_max: {bits[1]}\n        allocation: [{alloc}]\n")


def _memory(name: str, bits: int, cost: tuple[float, float], operands: str, ports: str, served: str) -> str:
    return (f"  {name}:\n    size: {bits}\n    r_cost: {cost[0]}\n    w_cost: {cost[1]}\n    area: 0\n"
            f"    latency: 1\n    operands: [{operands}]\n    ports:\n{ports}"
            f"    served_dimensions: [{served}]\n")


def hardware(sram_bytes: int) -> str:
    """The accelerator: per-PE weight and output registers, one shared SRAM, DRAM."""
    every = ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"]
    memories = "".join([
        _memory("rf_w", 8, (0.01, 0.01), "I2",
                _port("r_port_1", "read", (8, 8), ["I2, tl"]) + _port("w_port_1", "write", (8, 8), ["I2, fh"]), ""),
        _memory("rf_o", 32, (0.02, 0.02), "O",
                _port("r_port_1", "read", (32, 32), ["O, tl"]) + _port("r_port_2", "read", (32, 32), ["O, th"])
                + _port("w_port_1", "write", (32, 32), ["O, fh"]) + _port("w_port_2", "write", (32, 32), ["O, fl"]), ""),
        _memory("sram", sram_bytes * 8, (10, 10), "I1, I2, O",
                _port("r_port_1", "read", (64, 4096), ["I1, tl", "I2, tl", "O, tl", "O, th"])
                + _port("w_port_1", "write", (64, 4096), ["I1, fh", "I2, fh", "O, fh", "O, fl"]), "D1, D2"),
        _memory("dram", 10**10, (700, 750), "I1, I2, O", _port("rw_port_1", "read_write", (64, 64), every), "D1, D2"),
    ])
    return (f"name: bench_like_{sram_bytes}\nmemories:\n{memories}operational_array:\n  unit_energy: 0.04\n"
            f"  unit_area: 1\n  dimensions: [D1, D2]\n  sizes: [{ARRAY[0]}, {ARRAY[1]}]\n")


def workload(row: tuple) -> str:
    name, k, c, oy, ox, fy, fx, s, h, (lo, hi) = row
    return f"""- id: 0
  name: {name}
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ix={s}*ox+1*fx, iy={s}*oy+1*fy]
  loop_dims: [B, K, C, OY, OX, FY, FX]
  loop_sizes: [1, {k}, {c}, {oy}, {ox}, {fy}, {fx}]
  operand_precision: {{W: 8, I: 8, O: 32, O_final: 8}}
  operand_source: {{I: 0}}
  pr_loop_dims: [IX, IY]
  pr_loop_sizes: [{h}, {h}]
  padding: [[{lo}, {hi}], [{lo}, {hi}]]
"""


def ensure_zigzag() -> None:
    """Re-run this script under the zigzag venv unless zigzag is importable here."""
    rerun_in_venv("zigzag", VENV, PIP_SPECS, __file__)


def _cmes(found):
    if isinstance(found, (list, tuple)):
        for item in found:
            yield from _cmes(item)
    elif hasattr(found, "mapping") and hasattr(found, "layer"):
        yield found


def dram_bytes(cme) -> dict:
    """Bytes moved at each operand's top memory level (DRAM), by direction."""
    from zigzag.hardware.architecture.memory_port import DataDirection as Dir
    from zigzag.mapping.data_movement import DataMoveAttr as Attr

    out = {}
    for op in cme.layer.layer_operands:
        move = cme.mapping.unit_mem_data_movement[op][cme.mapping.mem_level[op] - 1]
        count, bits = move.get_attribute(Attr.DATA_ELEM_MOVE_COUNT), move.get_attribute(Attr.DATA_PRECISION)
        moved = {d: count.get(d) * bits.get(d) / 8 for d in (Dir.RD_OUT_TO_LOW, Dir.WR_IN_BY_LOW)}
        out[str(op)] = moved
    return {"weight_read": out["W"][Dir.RD_OUT_TO_LOW], "input_read": out["I"][Dir.RD_OUT_TO_LOW],
            "output_written": out["O"][Dir.WR_IN_BY_LOW], "partial_sums_read": out["O"][Dir.RD_OUT_TO_LOW]}


def run_one(folder: Path, row: tuple, sram_bytes: int) -> dict:
    from zigzag.api import get_hardware_performance_zigzag

    hw, wl, mp = folder / f"hw{sram_bytes}.yaml", folder / f"{row[0]}.yaml", folder / "map.yaml"
    hw.write_text(hardware(sram_bytes))
    wl.write_text(workload(row))
    mp.write_text(MAPPING)
    t0 = time.time()
    found = get_hardware_performance_zigzag(str(wl), str(hw), str(mp), opt="energy",
                                            dump_folder=str(folder / "out"), loma_show_progress_bar=False)
    cme = next(_cmes(found[2]))
    moved = dram_bytes(cme)
    name, k, c, oy, ox, fy, fx, s, h, pad = row
    print(f"{name} at {sram_bytes} B: {sum(moved.values()):.0f} DRAM bytes ({time.time() - t0:.1f} s)", flush=True)
    return {"layer": name, "k": k, "c": c, "oy": oy, "ox": ox, "fy": fy, "fx": fx, "stride": s,
            "input_hw": h, "padding": list(pad), "sram_bytes": sram_bytes,
            "array": list(ARRAY), "zigzag_dram_bytes": moved, "zigzag_total": sum(moved.values()),
            "zigzag_temporal_mapping": str(cme.temporal_mapping)}


def main() -> None:
    ensure_zigzag()
    logging.disable(logging.CRITICAL)
    import zigzag
    from importlib.metadata import version

    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for sram in SRAM_SIZES:
            entries += [run_one(Path(tmp), row, sram) for row in LAYERS]
    meta = {"generator": "tools/zigzag/regen_fixture.py", "zigzag-dse": version("zigzag-dse"),
            "module": zigzag.__name__, "opt": "energy (LOMA, lpf_limit 6)", "batch": 1,
            "precision": "int8 weights/inputs/outputs, 32-bit partial sums",
            "note": "bytes at the DRAM level: weights and inputs read, outputs written, "
                    "partial sums read back"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"meta": meta, "entries": entries}, indent=1) + "\n")
    print(f"wrote {len(entries)} entries to {OUT}")


if __name__ == "__main__":
    main()
