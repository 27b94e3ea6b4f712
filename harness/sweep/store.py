"""The sweep's output directory:

    OUT/points/NAME/         one directory per point: an ordinary result directory (run mode) or
                             profile.json (profile mode), and point.json, written last
    OUT/summary.parquet      one row per point (also summary.csv)
    OUT/sweep.html

point.json is the point's completion mark and its summary row: parameters, the fingerprint of
its inputs, status ok/failed, error and figures. A point is done when its point.json exists and
its inputs fingerprint matches; a directory without one is an interrupted point and runs again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from harness.record.rundir import NotWritten, write_file, write_run
from harness.sweep.execute import Outcome
from harness.sweep.figures import FIGURES
from harness.sweep.spec import Sweep

SCHEMA = 1
POINTS = "points"
POINT_FILE = "point.json"


def point_dir(out: Path, name: str) -> Path:
    return Path(out) / POINTS / name


def read_record(out: Path, name: str) -> dict | None:
    try:
        record = json.loads((point_dir(out, name) / POINT_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) and record.get("schema") == SCHEMA else None


def is_done(record: dict | None, inputs: str, retry_failed: bool = False) -> bool:
    if record is None or record.get("inputs") != inputs:
        return False
    return record.get("status") == "ok" or not retry_failed


def write_point(out: Path, outcome: Outcome, params: dict[str, Any], inputs: str, report: bool) -> None:
    """The point's directory, then point.json (so a reader that sees point.json sees it all)."""
    path = point_dir(out, outcome.name)
    missing = ""
    if outcome.result is not None:
        try:
            write_run(path, outcome.result, outcome.files)
            if report:
                from harness.render.page import report_beside   # matplotlib: only for pages
                report_beside(path)
        except NotWritten as exc:   # the measurement is there; point.json says what is not
            missing = str(exc)
    else:
        files = {"profile.json": outcome.profile} if outcome.profile is not None else {}
        _write_dir(path, files)
    record = {"schema": SCHEMA, "name": outcome.name, "params": params, "inputs": inputs,
              "status": outcome.status, "error": outcome.error, "figures": outcome.figures}
    if outcome.traceback:
        record["traceback"] = outcome.traceback
    if missing:
        record["not_written"] = missing
    write_file(path / POINT_FILE, json.dumps(record, indent=2, default=str) + "\n")


def _write_dir(path: Path, files: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    for name, data in files.items():
        (tmp / name).write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    if path.exists():
        shutil.rmtree(path)
    os.rename(tmp, path)


# ---------------------------------------------------------------- summary


def summary(sweep: Sweep, out: Path) -> pd.DataFrame:
    """One row per point, in the sweep's order, read back from the points' records."""
    keys = sweep.parameter_keys
    rows = [_row(i, point.name, point.params, keys, read_record(out, point.name))
            for i, point in enumerate(sweep.points)]
    frame = pd.DataFrame(rows, columns=["index", "point", *keys, "status", "error", *FIGURES, "path"])
    for key in keys:
        frame[key] = _column(frame[key])
    return frame


def _row(index: int, name: str, params: dict, keys: list[str], record: dict | None) -> dict:
    figures = (record or {}).get("figures") or {}
    return {"index": index, "point": name, **{k: params.get(k) for k in keys},
            "status": record["status"] if record else "pending",
            "error": record.get("error") if record else None,
            **{k: figures.get(k) for k in FIGURES},
            "path": f"{POINTS}/{name}" if record else None}


def _column(values: pd.Series) -> pd.Series:
    """A parameter column that parquet can hold: numbers stay numbers, anything else is text."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present) or all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return values
    return values.map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v, separators=(",", ":")))


def write_summary(out: Path, frame: pd.DataFrame) -> None:
    buf = frame.to_parquet(index=False)
    write_file(Path(out) / "summary.parquet", buf)
    write_file(Path(out) / "summary.csv", frame.to_csv(index=False))
