"""Chart series beside result.json, not in it: the accelerator's DRAM timeline (the whole run in
bins and a zoom on a few master periods) goes to `dram_timeline.parquet`.

In memory a run's result holds the series (`accelerator.dram_timeline`, as harness.accel.traffic
builds it); the writer `detach`es them into the sidecar and leaves a reference in result.json
(`{"file": ..., "end_s", "run_end_s", "usable_bytes_per_s", "masters"}`); readers `attach` them
back (both on the typed record, harness.record.schema). A result written before the sidecar
existed carries the series inline and reads as before.

Columns: `view` ("zoom" | "run"), `t_s` (each bin's start), `npu_bytes_per_s`,
`left_bytes_per_s` and `master.NAME` per bus master, in bytes per second over the bin.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from harness.record.build import column
from harness.record.schema import DramTimeline, RunRecord, TimelineView
from harness.record.typed_json import parse

DRAM_FILE = "dram_timeline.parquet"
_VIEWS = ("zoom", "run")
_SERIES = ("t_s", "npu_bytes_per_s", "left_bytes_per_s")


def _views(timeline: DramTimeline) -> dict[str, TimelineView]:
    views = {"zoom": timeline, "run": timeline.run}
    return {name: v for name, v in views.items()
            if v is not None and v.t_s is not None and v.left_bytes_per_s is not None}


def _timeline(record: RunRecord) -> DramTimeline | None:
    return record.accelerator.dram_timeline if record.accelerator else None


def detach(record: RunRecord) -> tuple[RunRecord, pa.Table | None]:
    """(result.json's record, the sidecar table or None): the series replaced by a reference."""
    timeline = _timeline(record)
    views = _views(timeline) if timeline is not None else {}
    if not views:
        return record, None
    masters = sorted({m for v in views.values() for m in (v.masters or {})})
    columns: dict[str, list] = {"view": [], **{k: [] for k in _SERIES}, **{f"master.{m}": [] for m in masters}}
    for name, view in views.items():
        n = len(view.t_s)
        columns["view"] += [name] * n
        for key in _SERIES:
            columns[key] += list(getattr(view, key) or [None] * n)
        for m in masters:
            columns[f"master.{m}"] += list((view.masters or {}).get(m, [None] * n))
    reference = DramTimeline(file=DRAM_FILE, end_s=timeline.end_s,
                             run_end_s=views["run"].end_s if "run" in views else None,
                             usable_bytes_per_s=timeline.usable_bytes_per_s, masters=masters,
                             nulls=frozenset({"run_end_s", "usable_bytes_per_s", "end_s"}))
    table = pa.table({"view": _strings(columns.pop("view")),
                      **{key: _floats(values) for key, values in columns.items()}})
    return _with_timeline(record, reference), table


def _with_timeline(record: RunRecord, timeline: DramTimeline) -> RunRecord:
    return replace(record, accelerator=replace(record.accelerator, dram_timeline=timeline))


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


def write(sink, table: pa.Table) -> None:
    """The sidecar into `sink` (a binary file, or a pyarrow buffer stream)."""
    pq.write_table(table, sink, compression="zstd")


def attach(record: RunRecord, directory: Path) -> RunRecord:
    """The record with its series read back from the sidecar (as the run held them in memory)."""
    ref = _timeline(record)
    if not (ref is not None and ref.file == DRAM_FILE and (directory / DRAM_FILE).is_file()):
        return record
    with pq.ParquetFile(directory / DRAM_FILE) as file:   # not read_table: it imports pandas
        table = file.read().to_pydict()
    views = {}
    for name in _VIEWS:
        rows = [i for i, v in enumerate(table["view"]) if v == name]
        if not rows:
            continue
        view = {key: [table[key][i] for i in rows] for key in _SERIES}
        view["masters"] = {m: [table[f"master.{m}"][i] for i in rows] for m in ref.masters or []}
        view["end_s"] = ref.end_s if name == "zoom" else ref.run_end_s
        views[name] = view
    timeline = {**views.get("zoom", {}), "usable_bytes_per_s": ref.usable_bytes_per_s}
    if "run" in views:
        timeline["run"] = views["run"]
    return _with_timeline(record, parse(DramTimeline, timeline, str(directory / DRAM_FILE)))
