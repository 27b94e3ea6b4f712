"""Block-argument expressions (harness.workloads.expr) and shape arithmetic (tensors)."""

from __future__ import annotations

import pytest

from harness.workloads.expr import ExprError, evaluate, substitute
from harness.workloads.tensors import ShapeError, out_size, scalesim_row

NAMES = {"width": 64, "stride": 2, "mode": "project", "flag": True}


@pytest.mark.parametrize("text, value", [
    ("$width", 64), ("$width * 4", 256), ("$ (width + 1) // 2 - 3", 29), ("$7", 7),
    ("$mode", "project"), ("$flag", True),
])
def test_evaluate(text, value):
    assert evaluate(text, NAMES) == value


@pytest.mark.parametrize("text, rule", [
    ("$depth", "unknown name 'depth'; known: flag, mode, stride, width"),
    ("$width / 2", "only integers"), ("$width ** 2", "only integers"), ("$width(", "not a valid"),
    ("$mode * 2", "integer operands"), ("$width // 0", "division by zero"), ("$1.5", "only integers"),
    ("$__import__('os')", "only integers"),
])
def test_evaluate_rejects(text, rule):
    with pytest.raises(ExprError, match=rule.replace("(", r"\(").replace("*", r"\*")):
        evaluate(text, NAMES)


def test_substitute_nested_and_collects_errors():
    errors = []
    value = substitute({"a": "$width", "b": ["$stride", "x"], "c": {"d": "$nope"}}, NAMES, "L", errors)
    assert value == {"a": 64, "b": [2, "x"], "c": {"d": "$nope"}}
    assert errors == [("L.c.d", "$nope", "unknown name 'nope'; known: flag, mode, stride, width")]


@pytest.mark.parametrize("size, kernel, stride, padding, out", [
    (224, 7, 2, 3, 112), (224, 7, 2, "same", 112), (15, 3, 2, "same", 8), (15, 3, 1, "valid", 13),
    (56, 3, 2, 1, 28), (7, 1, 2, 0, 4),
])
def test_out_size(size, kernel, stride, padding, out):
    assert out_size(size, kernel, stride, padding, "kernel") == out


def test_out_size_window_too_large():
    with pytest.raises(ShapeError) as info:
        out_size(4, 5, 1, "valid", "kernel")
    assert (info.value.key, info.value.value) == ("kernel", 5)


def test_scalesim_row_reproduces_output_size():
    row = scalesim_row((112, 112), (7, 7), 3, 64, 2)
    assert row == (229, 229, 7, 7, 3, 64, 2)
    h, _, fh, _, _, _, s = row
    assert -(-(h - fh + s) // s) == 112          # SCALE-Sim's ceil((H - Fh + S) / S)
