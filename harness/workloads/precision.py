"""Per-layer (mixed) precision: the workload's `[precision]` table.

    [precision]                 # layer name or block-use name -> precision
    conv1 = "int8"              # one layer, by its full name as `bench profile` prints it
    stage4 = "int4"             # every layer of a block use ("stage4.1.conv2", "stage4.2.add", ...)
    "stage4.3.conv3" = "int8"   # the longest matching key wins: this one layer of stage4

A layer no key names runs at the system's `compute.precision`. Keys are the same on the command
line, where dots simply continue the name: `--set workload.precision.stage4.3.conv3=int8`. A key
that names no layer, or a value that is not a precision, is an error naming the file (or the
--set), the key and the value.

The accelerator model charges each layer at its own precision (harness.accel.mixed): operand
bytes, MACs per PE per cycle, pJ per MAC, weight residency and tiling. A layer reading a tensor
written at another precision converts it on the vector unit, one vector op per element.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.accel.config import PRECISIONS
from harness.spec import Reader
from harness.workloads.model import Layer

TABLE = "precision"


def flatten(table: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) pairs: `--set workload.precision.a.b=x` nests {"a": {"b": "x"}}, which
    names the layer "a.b" as the quoted key "a.b" in the file does."""
    pairs: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        pairs += flatten(value, name + ".") if isinstance(value, dict) else [(name, value)]
    return pairs


def split_overrides(raw: dict, overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply the `precision.NAME` overrides to `raw`'s table as flat layer-name keys (so that
    `stage4` and `stage4.3.conv3` can both be set); the other overrides, and the origins of these."""
    table = raw.get(TABLE)
    if not any(k.startswith(TABLE + ".") for k in overrides) or (table is not None and not isinstance(table, dict)):
        return overrides, {}
    flat = dict(flatten(table or {}))
    rest, origins = {}, {}
    for key, value in overrides.items():
        if key.startswith(TABLE + "."):
            flat[key[len(TABLE) + 1:]] = value
            origins[key] = f"--set {key}={value!r}"
        else:
            rest[key] = value
    raw[TABLE] = flat
    return rest, origins


def _precision(value: Any) -> str | None:
    if isinstance(value, str) and value in PRECISIONS:
        return None
    return f"must be one of {', '.join(PRECISIONS)}"


def read_assignment(r: Reader, key: str = TABLE) -> dict[str, str]:
    """The table `key` of reader `r` as {layer-name key: precision}; problems go to r."""
    t = r.table(key)
    found = {}
    for name, value in flatten(t.data):
        rule = _precision(value)
        if rule:
            t.problem(name, value, rule)
        else:
            found[name] = value
    t.seen.update(t.data)
    return found


def matches(key: str, name: str) -> bool:
    """A key names the layer itself or a block use (a prefix of its name ending at a dot)."""
    return name == key or name.startswith(key + ".")


def resolve(assignment: dict[str, str], names: list[str]) -> dict[str, str]:
    """{layer name: precision} for the layers some key names (the longest matching key wins)."""
    out = {}
    for name in names:
        keys = [k for k in assignment if matches(k, name)]
        if keys:
            out[name] = assignment[max(keys, key=len)]
    return out


def unmatched(assignment: dict[str, str], names: list[str]) -> list[str]:
    """The keys that name no layer (typos)."""
    return [k for k in assignment if not any(matches(k, n) for n in names)]


def report_unmatched(r: Reader, key: str, assignment: dict[str, str], names: list[str]) -> None:
    t = r.table(key)
    for k in unmatched(assignment, names):
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        t.problem(k, assignment[k], f"names no layer or block use of the workload (layers: {shown})")


def apply(layers: list[Layer], assignment: dict[str, str]) -> tuple[Layer, ...]:
    """The layers with their `precision` set where the assignment names them."""
    chosen = resolve(assignment, [layer.name for layer in layers])
    return tuple(replace(layer, precision=chosen[layer.name]) if layer.name in chosen else layer
                 for layer in layers)


def mixed(explicit: dict[str, str], default: str) -> dict[str, str]:
    """The layers whose precision differs from `default` (the system's): the canonical form in
    which an assignment is compared with a declared accuracy."""
    return {name: p for name, p in sorted(explicit.items()) if p != default}
