"""Block arguments: `"$expr"` values in a block's layers, evaluated when the block is used.

A string value that starts with `$` is an expression over the block's arguments and the
built-in `in_channels` (channels of the block input; features for a token sequence):
integers, names, `+ - * //` and parentheses, e.g. `"$width * 4"`, `"$stride"`. An expression
that is just a name may also yield a string or boolean argument. Nothing else is evaluated.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv}


class ExprError(Exception):
    """An expression that cannot be evaluated; the message is the broken rule."""


def is_expr(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def evaluate(text: str, names: dict[str, Any]) -> Any:
    """The value of `"$expr"` given `names`."""
    try:
        tree = ast.parse(text[1:].strip(), mode="eval")
    except SyntaxError:
        raise ExprError("not a valid expression (integers, argument names, + - * // and ( ))")
    return _eval(tree.body, names)


def _eval(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExprError(f"unknown name {node.id!r}; known: {', '.join(sorted(names))}")
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, names), _eval(node.right, names)
        if not (_is_int(left) and _is_int(right)):
            raise ExprError("arithmetic needs integer operands")
        if isinstance(node.op, ast.FloorDiv) and right == 0:
            raise ExprError("division by zero")
        return _BINOPS[type(node.op)](left, right)
    raise ExprError("only integers, argument names, + - * // and ( ) are allowed")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def substitute(value: Any, names: dict[str, Any], path: str, errors: list[tuple[str, Any, str]]) -> Any:
    """`value` with every `"$expr"` (also inside lists and tables) replaced by its value.

    Failures are appended to `errors` as (key path, expression, rule); the expression is kept.
    """
    if isinstance(value, dict):
        return {k: substitute(v, names, f"{path}.{k}", errors) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, names, f"{path}[{i}]", errors) for i, v in enumerate(value)]
    if not is_expr(value):
        return value
    try:
        return evaluate(value, names)
    except ExprError as exc:
        errors.append((path, value, str(exc)))
        return value
