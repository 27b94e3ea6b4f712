"""Strict loading of TOML specs: every problem collected, each naming file, key, value and rule.

Usage::

    problems = Problems()
    r = Reader(raw_dict, "systems/npu_v1.toml", problems)
    rows = r.get("compute.array_rows", int, check=positive)   # or r.table("compute").get(...)
    r.done()                 # flags keys nobody asked for
    problems.raise_if_any()  # one ConfigError listing them all

`--set` overrides are merged into the raw dict with `apply_overrides`, which remembers their
origin so that an invalid override is reported as `--set KEY=VALUE`, not as the file.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harness.errors import NO_VALUE, ConfigError, Problem, config_error

MISSING: Any = object()
Check = Callable[[Any], str | None]  # returns the broken rule, or None


class Problems:
    """Collects problems while a spec is read; raises them together."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, source: str, key: str, value: object, rule: str) -> None:
        self.items.append(Problem(source, key, value, rule))

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


# ---------------------------------------------------------------- checks


def positive(v: float) -> str | None:
    return None if v > 0 and math.isfinite(v) else "must be a finite number > 0"


def non_negative(v: float) -> str | None:
    return None if v >= 0 and math.isfinite(v) else "must be a finite number >= 0"


def within(lo: float, hi: float, unit: str = "") -> Check:
    """A number in [lo, hi]: every size, duration and rate has a range, so memory and time are
    bounded before any work starts."""
    def check(v: float) -> str | None:
        ok = math.isfinite(v) and lo <= v <= hi
        return None if ok else f"must be a number from {lo:g} to {hi:g}{unit}"

    return check


MAX_BATCH = 4096          # samples per batch
MAX_BATCH_TIMEOUT_S = 3600.0


def batching(b: "Reader") -> tuple[int | None, float | None]:
    """A system file's [batching] table, as every adapter reads it: `max_batch` samples per
    batch (1 to MAX_BATCH, default 1) and `timeout_s`, how long a partial batch waits for more
    samples (0 to an hour, default 0)."""
    return (b.get("max_batch", int, default=1, check=within(1, MAX_BATCH)),
            b.get("timeout_s", float, default=0.0, check=within(0, MAX_BATCH_TIMEOUT_S, " s")))


def fraction(v: float) -> str | None:
    return None if 0 < v <= 1 else "must be in (0, 1]"


def one_of(*choices: str) -> Check:
    def check(v: str) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)}"

    return check


# ---------------------------------------------------------------- TOML files


def read_toml(path: Path, label: str | None = None) -> dict:
    """Parse a TOML file; a missing or malformed file is a one-line ConfigError."""
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise config_error(label, "", NO_VALUE, "file not found") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise config_error(label, "", NO_VALUE, f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise config_error(label, "", NO_VALUE, f"malformed TOML: {exc}") from None


def parse_value(text: str) -> Any:
    """A `--set` value: any TOML value (1e9, true, "ws", [1, 2]); otherwise a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or not value.strip() or any(not p for p in key.split(".")):
        raise config_error("--set", "", text, "expected KEY=VALUE, e.g. --set server_target_qps=2000")
    return key, parse_value(value.strip())


# ---------------------------------------------------------------- typed access


_KINDS: dict[type, str] = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def coerce(value: Any, kind: type) -> tuple[bool, Any]:
    """TOML value → kind. Integers are accepted where numbers are; booleans never are."""
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            return True, int(value)
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind is list or kind is dict:
        return isinstance(value, kind), value
    return isinstance(value, kind), value


class Reader:
    """Typed, strict access to one table of a spec. Keys never read are reported by `done`."""

    def __init__(self, data: dict, source: str, problems: Problems, prefix: str = "",
                 origins: dict[str, str] | None = None):
        self.data = data if isinstance(data, dict) else {}
        self.source = source
        self.problems = problems
        self.prefix = prefix
        self.origins = origins if origins is not None else {}
        self.seen: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def where(self, key: str) -> str:
        """The file, or the --set that gave this key; a rule failing on a key of the file
        also names the overrides of the same table, since they may be its cause."""
        path = self.path(key)
        if path in self.origins:
            return self.origins[path]
        table = path.split(".")[0]
        related = [origin for dotted, origin in self.origins.items() if dotted.split(".")[0] == table]
        return f"{self.source} (with {', '.join(related)})" if related else self.source

    def problem(self, key: str, value: object, rule: str) -> None:
        self.problems.add(self.where(key), self.path(key), value, rule)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind: type, default: Any = MISSING, check: Check | None = None) -> Any:
        """The value of `key` as `kind`; a problem (and the default) when missing or invalid."""
        self.seen.add(key)
        if key not in self.data:
            if default is MISSING:
                self.problem(key, NO_VALUE, "required key is missing")
            return None if default is MISSING else default
        ok, value = coerce(self.data[key], kind)
        if not ok:
            self.problem(key, self.data[key], f"must be {_KINDS.get(kind, kind.__name__)}")
            return None if default is MISSING else default
        rule = check(value) if check else None
        if rule:
            self.problem(key, value, rule)
            return None if default is MISSING else default
        return value

    def table(self, key: str, required: bool = False) -> Reader:
        self.seen.add(key)
        value = self.data.get(key, MISSING)
        if value is MISSING:
            if required:
                self.problem(key, NO_VALUE, "required table is missing")
            value = {}
        elif not isinstance(value, dict):
            self.problem(key, value, "must be a table")
            value = {}
        return Reader(value, self.source, self.problems, self.path(key) + ".", self.origins)

    def tables(self, key: str) -> list[Reader]:
        """An array of tables ([[key]]); absent means empty."""
        self.seen.add(key)
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(key, value, "must be an array of tables ([[...]])")
            return []
        return [Reader(v, self.source, self.problems, f"{self.path(key)}[{i}].", self.origins)
                for i, v in enumerate(value)]

    def ignore(self, *keys: str) -> None:
        self.seen.update(keys)

    def done(self, extra_allowed: Iterable[str] = ()) -> None:
        allowed = self.seen | set(extra_allowed)
        for key in self.data:
            if key not in allowed:
                hint = f"; known keys: {', '.join(sorted(allowed))}" if allowed else ""
                self.problem(key, self.data[key], "unknown key" + hint)


def apply_overrides(data: dict, overrides: dict[str, Any], label: str = "--set") -> dict[str, str]:
    """Merge dotted `overrides` into `data` in place; return {dotted key: origin label}."""
    origins: dict[str, str] = {}
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise config_error(f"{label} {dotted}", dotted, value, f"{part} is not a table")
            node = child
        node[leaf] = value
        origins[dotted] = f"{label} {dotted}={value!r}"
    return origins
