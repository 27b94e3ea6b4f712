"""JSON objects to frozen dataclasses and back, checked field by field.

A schema is a tree of frozen dataclasses deriving from `Section`. Each field's annotation is its
type (`int`, `float`, `str`, `bool`, `X | None`, `tuple[X, ...]`, `dict[str, X]`, `Any` or
another `Section`); its JSON key is the field name unless `spec(key=...)` says otherwise. A
field without a default is required; `opt()` is an optional one (None when absent). Keys a
section does not declare are kept in its `extra` (later versions may add keys) and written back
as they came, and an optional key given as null is written as null again, in the order read:
reading and writing a file loses, adds and moves nothing.

`parse` reports every problem at once, each naming the file, the dotted key, the value and the
rule it breaks; `dump` gives the JSON object back (an absent optional field stays absent).
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import Any, Callable

from harness.errors import NO_VALUE, ConfigError, Problem

Rule = tuple[Callable[[Any], bool], str]


@dataclass(frozen=True)
class Section:
    """A JSON object of the schema; `extra` holds the keys it does not declare, in file order."""

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False,
                                  metadata={"internal": True})
    nulls: frozenset[str] = field(default=frozenset(), kw_only=True, repr=False,
                                  metadata={"internal": True})   # optional keys given as null
    order: tuple[str, ...] = field(default=(), kw_only=True, repr=False, compare=False,
                                   metadata={"internal": True})   # the keys' order as read

    def given(self, name: str) -> bool:
        """Whether field `name` was given: a value, or an explicit null."""
        return getattr(self, name) is not None or name in self.nulls


def spec(key: str | None = None, rule: Rule | None = None, default: Any = MISSING) -> Any:
    """A field's JSON `key`, its `rule` (check, "must be ..."), and its default."""
    return field(default=default, metadata={"key": key, "rule": rule})


def opt(key: str | None = None, rule: Rule | None = None) -> Any:
    """An optional field: None when the key is absent (or null)."""
    return spec(key, rule, None)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


_BASIC: dict[type, Rule] = {
    int: (is_int, "must be an integer"),
    float: (is_number, "must be a number"),
    str: (lambda v: isinstance(v, str), "must be a string"),
    bool: (lambda v: isinstance(v, bool), "must be true or false"),
}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _key(f) -> str:
    return f.metadata.get("key") or f.name


def _declared(cls: type) -> list:
    return [f for f in fields(cls) if not f.metadata.get("internal")]


class _Reader:
    """One parse: where the data came from and the problems found so far."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, path: str, value: Any, rule: str) -> None:
        self.problems.append(Problem(self.source, path, value, rule))

    def section(self, cls: type, data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            self.problem(path, data, "must be an object")
            return None
        before = len(self.problems)
        values = {f.name: self.field(cls, f, data, path) for f in _declared(cls) if _key(f) in data}
        self.missing(cls, data, path)
        known = {_key(f) for f in _declared(cls)}
        if len(self.problems) > before:
            return None
        nulls = frozenset(f.name for f in _declared(cls) if _key(f) in data and data[_key(f)] is None)
        return cls(**values, extra={k: v for k, v in data.items() if k not in known}, nulls=nulls,
                   order=tuple(data))

    def missing(self, cls: type, data: dict, path: str) -> None:
        for f in _declared(cls):
            if _key(f) not in data and f.default is MISSING and f.default_factory is MISSING:
                self.problem(_join(path, _key(f)), NO_VALUE, f"missing ({_expected(cls, f)})")

    def field(self, cls: type, f, data: dict, path: str) -> Any:
        rule = f.metadata.get("rule")
        value, where = data[_key(f)], _join(path, _key(f))
        if rule and not rule[0](value):
            self.problem(where, value, rule[1])
            return None
        return self.value(_hints(cls)[f.name], value, where)

    def value(self, kind: Any, value: Any, path: str) -> Any:
        args = typing.get_args(kind)
        origin = typing.get_origin(kind)
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            return self.value(next(a for a in args if a is not type(None)), value, path)
        if origin is tuple:
            return self.items(args[0], value, path)
        if origin is dict:
            return self.mapping(args[1], value, path)
        if isinstance(kind, type) and issubclass(kind, Section):
            return self.section(kind, value, path)
        if kind in _BASIC and not _BASIC[kind][0](value):
            self.problem(path, value, _BASIC[kind][1])
        return value

    def items(self, kind: Any, value: Any, path: str) -> tuple | None:
        if not isinstance(value, list):
            self.problem(path, value, "must be a list")
            return None
        if kind in _BASIC and all(map(_BASIC[kind][0], value)):   # a long series: checked at once
            return tuple(value)
        return tuple(self.value(kind, v, f"{path}[{i}]") for i, v in enumerate(value))

    def mapping(self, kind: Any, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, value, "must be an object")
            return None
        return {k: self.value(kind, v, _join(path, k)) for k, v in value.items()}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _expected(cls: type, f) -> str:
    rule = f.metadata.get("rule")
    kind = _hints(cls)[f.name]
    if rule:
        text = rule[1]
    elif isinstance(kind, type) and issubclass(kind, Section):
        text = "must be an object"
    else:
        text = _BASIC.get(kind, (None, "must be a value"))[1]
    return text.replace("must be", "expected", 1)


def parse(cls: type, data: Any, source: str) -> Any:
    """`data` as a `cls`; a ConfigError listing every problem (file, key, value, rule)."""
    reader = _Reader(source)
    out = reader.section(cls, data, "")
    if reader.problems:
        raise ConfigError(reader.problems)
    return out


def dump(value: Any) -> Any:
    """The JSON value of a section (or of anything inside one)."""
    if isinstance(value, Section):
        out = {}
        for f in _declared(type(value)):
            v = getattr(value, f.name)
            if v is not None or f.default is MISSING or f.name in value.nulls:
                out[_key(f)] = dump(v)
        out.update(value.extra)
        return {**{k: out[k] for k in value.order if k in out}, **out}
    if isinstance(value, (tuple, list)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value
