"""Typed result records for tests: a hand-written fixture result with keys changed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from harness.record.schema import RunRecord, from_dict

BASE = Path(__file__).parent / "data" / "results" / "npu_v1_resnet50_ss" / "result.json"


def record_dict(**changes) -> dict:
    """The fixture's result.json object with `changes` applied: `a__b=v` sets data["a"]["b"],
    a dict value replaces the key's whole value."""
    data = copy.deepcopy(json.loads(BASE.read_text(encoding="utf-8")))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return data


def record(**changes) -> RunRecord:
    """The fixture as a typed record, with `changes` (see record_dict)."""
    return from_dict(record_dict(**changes), "test record")
