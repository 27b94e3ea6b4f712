"""Chart series beside result.json, not in it: the accelerator's DRAM timeline (the whole run in
bins and a zoom on a few master periods) goes to `dram_timeline.parquet`.

In memory a run's result holds the series (`accelerator.dram_timeline`, as harness.accel.traffic
builds it); the writer `detach`es them into the sidecar and leaves a reference in result.json
(`{"file": ..., "end_s", "run_end_s", "usable_bytes_per_s", "masters"}`); readers `attach` them
back. A result written before the sidecar existed carries the series inline and reads as before.

Columns: `view` ("zoom" | "run"), `t_s` (each bin's start), `npu_bytes_per_s`,
`left_bytes_per_s` and `master.NAME` per bus master, in bytes per second over the bin.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from harness.result import column

DRAM_FILE = "dram_timeline.parquet"
_VIEWS = ("zoom", "run")
_SERIES = ("t_s", "npu_bytes_per_s", "left_bytes_per_s")


def _views(timeline: dict) -> dict[str, dict]:
    views = {"zoom": timeline}
    if isinstance(timeline.get("run"), dict):
        views["run"] = timeline["run"]
    return {name: v for name, v in views.items() if "t_s" in v and "left_bytes_per_s" in v}


def detach(result: dict) -> tuple[dict, pa.Table | None]:
    """(result.json's content, the sidecar table or None): the series replaced by a reference."""
    timeline = (result.get("accelerator") or {}).get("dram_timeline")
    views = _views(timeline) if isinstance(timeline, dict) else {}
    if not views:
        return result, None
    masters = sorted({m for v in views.values() for m in v.get("masters", {})})
    columns: dict[str, list] = {"view": [], **{k: [] for k in _SERIES}, **{f"master.{m}": [] for m in masters}}
    for name, view in views.items():
        n = len(view["t_s"])
        columns["view"] += [name] * n
        for key in _SERIES:
            columns[key] += list(view[key])
        for m in masters:
            columns[f"master.{m}"] += list(view.get("masters", {}).get(m, [None] * n))
    table = pa.table({"view": _strings(columns.pop("view")),
                      **{key: _floats(values) for key, values in columns.items()}})
    reference = {"file": DRAM_FILE, "end_s": timeline.get("end_s"),
                 "run_end_s": views["run"]["end_s"] if "run" in views else None,
                 "usable_bytes_per_s": timeline.get("usable_bytes_per_s"), "masters": masters}
    slim = copy.copy(result)
    slim["accelerator"] = {**result["accelerator"], "dram_timeline": reference}
    return slim, table


# pyarrow builds arrays from Python lists through a check that imports pandas (~0.3 s), so the
# columns are built from buffers.

def _floats(values: list) -> pa.Array:
    """Numbers as float64, None as null."""
    null = np.array([v is None for v in values], dtype=bool)
    return column(np.array([0.0 if v is None else v for v in values], dtype=np.float64), null)


def _strings(values: list[str]) -> pa.Array:
    data = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets),
                                                          pa.py_buffer(b"".join(data))])


def write(directory: Path, table: pa.Table | None) -> None:
    if table is not None:
        pq.write_table(table, directory / DRAM_FILE, compression="zstd")


def attach(result: dict, directory: Path) -> dict:
    """The result with its series read back from the sidecar (as the run held them in memory)."""
    accel = result.get("accelerator") if isinstance(result.get("accelerator"), dict) else {}
    ref = accel.get("dram_timeline")
    if not (isinstance(ref, dict) and ref.get("file") == DRAM_FILE and (directory / DRAM_FILE).is_file()):
        return result
    with pq.ParquetFile(directory / DRAM_FILE) as file:   # not read_table: it imports pandas
        table = file.read().to_pydict()
    views = {}
    for name in _VIEWS:
        rows = [i for i, v in enumerate(table["view"]) if v == name]
        if not rows:
            continue
        view = {key: [table[key][i] for i in rows] for key in _SERIES}
        view["masters"] = {m: [table[f"master.{m}"][i] for i in rows] for m in ref.get("masters", [])}
        view["end_s"] = ref["end_s"] if name == "zoom" else ref["run_end_s"]
        views[name] = view
    timeline = {**views.get("zoom", {}), "usable_bytes_per_s": ref.get("usable_bytes_per_s")}
    if "run" in views:
        timeline["run"] = views["run"]
    return {**result, "accelerator": {**accel, "dram_timeline": timeline}}
