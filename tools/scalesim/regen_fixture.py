#!/usr/bin/env python3
"""Regenerate tests/data/scalesim/cycles.json by running the real SCALE-Sim 3.0.0.

SCALE-Sim is not a dependency of bench (it pins old numpy and is slow), so this script runs
itself inside its own virtual environment, creating it when missing::

    python tools/scalesim/regen_fixture.py            # creates /tmp/scalesim-venv if needed
    # equivalent by hand:
    python -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install scalesim==3.0.0 'numpy<2.4'
    /tmp/scalesim-venv/bin/python tools/scalesim/regen_fixture.py

numpy must stay below 2.4: scalesim 3.0.0 calls int() on a 1-element array, which numpy 2.4
turned into a TypeError (see the reference notes, section 1.1).

What it runs: the layers in LAYERS (odd shapes that fold unevenly, a 1x1 conv, a stride-2 7x7
conv, a small-channel conv, a depthwise layer that SCALE-Sim splits per channel, a fully
connected layer) on every array in ARRAYS x dataflows ws/os/is, dense, plus one 2:4 N:M sparse
run per dataflow. CALC bandwidth mode, so the counts are stall-free compute cycles. Each entry
records SCALE-Sim's `Total Cycles` summed over the rows a layer expands to (one per channel for
a depthwise layer). Runtime: ~15 s on a 2-core machine (90 entries).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from venv_bootstrap import rerun_in_venv  # noqa: E402

VENV = Path(os.environ.get("SCALESIM_VENV", "/tmp/scalesim-venv"))
OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "scalesim" / "cycles.json"
PIP_SPECS = ["scalesim==3.0.0", "numpy<2.4"]

# name, ifmap_h, ifmap_w, filter_h, filter_w, channels, filters, stride  (SCALE-Sim conv rows;
# a name containing "DP" is depthwise: SCALE-Sim runs `channels` single-channel layers)
LAYERS = [
    ("odd3x3", 13, 13, 3, 3, 19, 37, 1),
    ("pw1x1", 14, 14, 1, 1, 64, 48, 1),
    ("small_c_s2", 20, 20, 3, 3, 3, 8, 2),
    ("conv7x7_s2", 23, 23, 7, 7, 3, 16, 2),
    ("fc300x100", 1, 1, 1, 1, 300, 100, 1),
    ("DPdw3x3", 12, 12, 3, 3, 8, 1, 1),
]
ARRAYS = [(8, 8), (16, 16), (16, 8), (32, 32)]
DATAFLOWS = ["ws", "os", "is"]
SPARSE = ("2:4", (16, 16))  # N:M ratio applied to every non-depthwise layer, on this array

CFG = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : {sparse}
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""

LAYOUT_HEADER = ("Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, "
                 "Filter Height Intraline Factor, Filter Width Intraline Factor, Channel Intraline "
                 "Factor, Num Filter Intraline Factor, IFMAP Height Intraline Order, IFMAP Width "
                 "Intraline Order, Channel Intraline Order, IFMAP Height Interline Order, IFMAP "
                 "Width Interline Order, Channel Interline Order, Num Filter Intraline Order, "
                 "Channel Intraline Order, Filter Height Intraline Order, Filter Width Intraline "
                 "Order, Num Filter Interline Order, Channel Interline Order, Filter Height "
                 "Interline Order, Filter Width Interline Order,\n")


def ensure_scalesim() -> None:
    """Re-run this script under the scalesim venv unless scalesim is importable here."""
    rerun_in_venv("scalesim", VENV, PIP_SPECS, __file__)


def gemm_view(row: tuple) -> dict:
    """SCALE-Sim's own lowering: no padding, ceil output size, depthwise split per channel."""
    name, h, w, fh, fw, c, nf, s = row
    e, f = math.ceil((h - fh + s) / s), math.ceil((w - fw + s) / s)
    groups = c if "DP" in name else 1
    return {"m": e * f, "n": nf, "k": fh * fw * (c // groups), "groups": groups}


def write_inputs(folder: Path, ratio: str | None) -> tuple[Path, Path]:
    topo, layout = folder / "topo.csv", folder / "layout.csv"
    lines = ["Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
             "Num Filter, Strides, Sparsity,\n"]
    for row in LAYERS:
        extra = f" {ratio}," if ratio and "DP" not in row[0] else ""
        lines.append(", ".join(str(v) for v in row) + "," + extra + "\n")
    topo.write_text("".join(lines))
    rows = [f"{row[0]}, 1, 1, 1, 1, 1, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3,\n"
            for row in LAYERS]
    layout.write_text(LAYOUT_HEADER + "".join(rows))
    return topo, layout


def run_one(folder: Path, rows: int, cols: int, dataflow: str, ratio: str | None) -> list[int]:
    """Total Cycles per topology layer (depthwise rows summed) for one SCALE-Sim run."""
    from scalesim.scale_sim import scalesim

    run_name = f"r{rows}x{cols}_{dataflow}_{'sparse' if ratio else 'dense'}"
    cfg = folder / f"{run_name}.cfg"
    cfg.write_text(CFG.format(run_name=run_name, rows=rows, cols=cols, dataflow=dataflow,
                              sparse="true" if ratio else "false"))
    topo, layout = write_inputs(folder, ratio)
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg),
                       topology=str(topo), layout=str(layout), input_type_gemm=False)
        sim.run_scale(top_path=str(folder))
    with open(folder / run_name / "COMPUTE_REPORT.csv") as f:
        report = [int(r[2]) for r in list(csv.reader(f))[1:]]
    totals, at = [], 0
    for row in LAYERS:
        count = gemm_view(row)["groups"]
        totals.append(sum(report[at:at + count]))
        at += count
    return totals


def entries_for(folder: Path, rows: int, cols: int, dataflow: str, ratio: str | None) -> list[dict]:
    t0 = time.time()
    totals = run_one(folder, rows, cols, dataflow, ratio)
    print(f"{rows}x{cols} {dataflow} {ratio or 'dense'}: {time.time() - t0:.1f} s", flush=True)
    out = []
    for row, total in zip(LAYERS, totals):
        sparse = ratio if ratio and "DP" not in row[0] else "1:1"
        out.append({"layer": row[0], "topology": list(row[1:]), **gemm_view(row),
                    "array_rows": rows, "array_cols": cols, "dataflow": dataflow,
                    "sparsity": sparse, "scalesim_total_cycles": total})
    return out


def main() -> None:
    ensure_scalesim()
    import numpy

    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rows, cols in ARRAYS:
            for dataflow in DATAFLOWS:
                entries += entries_for(folder, rows, cols, dataflow, None)
        for dataflow in DATAFLOWS:
            entries += entries_for(folder, *SPARSE[1], dataflow, SPARSE[0])
    meta = {"generator": "tools/scalesim/regen_fixture.py", "scalesim": "3.0.0",
            "numpy": numpy.__version__, "mode": "CALC (stall-free)",
            "note": "scalesim_total_cycles is COMPUTE_REPORT 'Total Cycles' (last write index, "
                    "i.e. stall-free cycles - 1 per simulated layer)"}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"meta": meta, "entries": entries}, indent=1) + "\n")
    print(f"wrote {len(entries)} entries to {OUT}")


if __name__ == "__main__":
    main()
