"""Parsers for MLPerf LoadGen's log files: the summary text, the `:::MLLOG` detail log, and the
power analyzer's `spl.txt`.

They tolerate what real submissions contain (any spacing around colons, "90th" or "90.0th",
trailing spaces, warnings on VALID runs) and fail loudly, naming file, line and key, on what
cannot be read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import NO_VALUE, config_error

_BULLET = re.compile(r"^\s*\*\s*(.*?)\s*$")
_KEY_VALUE = re.compile(r"^\s*([^:*][^:]*?)\s*:\s*(.*?)\s*$")
_COUNT = re.compile(r"^(No|\d+)\s+(warnings?|errors?)\s+encountered", re.IGNORECASE)
_ES_ESTIMATE = re.compile(r"Early stopping (\d+(?:\.\d+)?)th percentile estimate\s*:\s*(\d+)")
_PROCESSED = re.compile(r"Processed at least \d+ queries \((\d+)\)")
_HEADLINE_PCT = re.compile(r"^(\d+(?:\.\d+)?)th percentile latency \(ns\)$")
SPL_TIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"


def number(text: str, source: str, key: str, signed: bool = False) -> int | float:
    """An int or float from log text; anything else — and a non-finite or (unless `signed`)
    negative figure — is an error naming file and key, never a published figure."""
    t = str(text).strip()
    try:
        value: int | float = int(t)
    except ValueError:
        try:
            value = float(t)
        except ValueError:
            raise config_error(source, key, text, "expected a number") from None
    if not math.isfinite(value) or (value < 0 and not signed):
        raise config_error(source, key, text, "must be a finite number" + ("" if signed else " >= 0"))
    return value


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise config_error(str(path), "", NO_VALUE, f"cannot read: {exc.strerror}") from None


# ---------------------------------------------------------------- summary


@dataclass
class Summary:
    path: Path
    fields: dict[str, str] = field(default_factory=dict)     # first occurrence of each key
    bullets: list[str] = field(default_factory=list)
    warnings: int = 0
    errors: int = 0

    def get(self, key: str) -> str | None:
        return self.fields.get(key)

    def num(self, key: str) -> int | float | None:
        text = self.fields.get(key)
        return None if text is None or text == "" else number(text, str(self.path), key)

    @property
    def scenario(self) -> str | None:
        return self.fields.get("Scenario")

    @property
    def valid(self) -> bool | None:
        text = self.fields.get("Result is")
        return None if text is None else text.upper() == "VALID"

    def satisfied(self, what: str) -> bool | None:
        """`Min duration`, `Min queries`, `Performance constraints`, `Early stopping`."""
        text = self.fields.get(f"{what} satisfied")
        return None if text is None else text.lower() == "yes"

    def early_stopping_estimate_ns(self, percentile: float) -> int | None:
        for bullet in self.bullets:
            m = _ES_ESTIMATE.search(bullet)
            if m and float(m.group(1)) == percentile:
                return int(m.group(2))
        return None

    def processed_queries(self) -> int | None:
        for bullet in self.bullets:
            m = _PROCESSED.search(bullet)
            if m:
                return int(m.group(1))
        return None

    def headline_percentile(self) -> tuple[float, int] | None:
        """(percentile, ns) from the '90th percentile latency (ns)' headline line."""
        for key, text in self.fields.items():
            m = _HEADLINE_PCT.match(key)
            if m:
                return float(m.group(1)), int(number(text, str(self.path), key))
        return None


def parse_summary(path: Path) -> Summary:
    summary = Summary(path)
    for line in read_text(path).splitlines():
        _summary_line(summary, line)
    if summary.scenario is None or summary.valid is None:
        raise config_error(str(path), "Scenario/Result is", NO_VALUE,
                           "not an MLPerf LoadGen summary (missing 'Scenario' or 'Result is')")
    return summary


def _summary_line(summary: Summary, line: str) -> None:
    if not line.strip() or line.startswith("==="):
        return
    bullet = _BULLET.match(line)
    if bullet:
        summary.bullets.append(bullet.group(1))
        return
    count = _COUNT.match(line.strip())
    if count:
        n = 0 if count.group(1).lower() == "no" else int(count.group(1))
        if count.group(2).lower().startswith("warning"):
            summary.warnings = n
        else:
            summary.errors = n
        return
    kv = _KEY_VALUE.match(line)
    if kv:
        summary.fields.setdefault(kv.group(1), kv.group(2))


# ---------------------------------------------------------------- detail


@dataclass
class Detail:
    path: Path
    values: dict[str, Any] = field(default_factory=dict)      # last value of each key
    warnings: int = 0
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def parse_detail(path: Path) -> Detail:
    detail = Detail(path)
    for number_, line in enumerate(read_text(path).splitlines(), start=1):
        if line.startswith(":::MLLOG"):
            _detail_line(detail, line, number_)
    if not detail.values:
        raise config_error(str(path), "", NO_VALUE, "no ':::MLLOG' lines: not an MLPerf detail log")
    return detail


def _detail_line(detail: Detail, line: str, line_no: int) -> None:
    where = f"{detail.path}:{line_no}"
    try:
        record = json.loads(line[len(":::MLLOG"):])
        key, value = record["key"], record.get("value")
    except (json.JSONDecodeError, KeyError, TypeError, RecursionError):
        raise config_error(where, "", NO_VALUE, "malformed ':::MLLOG' line") from None
    meta = record.get("metadata") or {}
    if not isinstance(key, str):
        raise config_error(where, "key", key, "must be a string")
    if not isinstance(meta, dict):
        raise config_error(where, f"{key}: metadata", meta, "must be an object")
    detail.values[key] = value
    if meta.get("is_warning"):
        detail.warnings += 1
    if meta.get("is_error"):
        detail.errors += 1
        detail.error_messages.append(f"{key}: {value}")


# ---------------------------------------------------------------- spl.txt (power)


@dataclass(frozen=True)
class PowerWindow:
    average_w: float
    window_s: float
    samples: int


def parse_spl_time(text: str, source: str, key: str) -> datetime:
    try:
        return datetime.strptime(str(text).strip(), SPL_TIME_FORMAT)
    except ValueError:
        raise config_error(source, key, text, "expected a time as MM-DD-YYYY HH:MM:SS.fff") from None


def power_in_window(spl: Path, begin: datetime, end: datetime) -> PowerWindow | None:
    """Average of the positive Watts samples strictly inside (begin, end), as MLPerf's
    checker computes it; None when no sample falls inside."""
    watts = []
    for line_no, line in enumerate(read_text(spl).splitlines(), start=1):
        parts = line.split(",")
        if len(parts) < 4 or parts[0] != "Time":
            continue
        when = parse_spl_time(parts[1], f"{spl}:{line_no}", "Time")
        w = number(parts[3], f"{spl}:{line_no}", "Watts", signed=True)
        if begin < when < end and w > 0:
            watts.append(float(w))
    if not watts:
        return None
    return PowerWindow(sum(watts) / len(watts), (end - begin).total_seconds(), len(watts))
