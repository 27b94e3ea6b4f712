"""An ONNX graph after shape inference: tensor shapes, constants, and which layer wrote what."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.errors import NO_VALUE, config_error
from harness.spec import Problems


def read_model(path: Path, source: str):
    """The model with symbolic batch dims set to 1 and every tensor's shape inferred."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path))
    except (OSError, ValueError, DecodeError, onnx.checker.ValidationError) as exc:
        raise config_error(source, "", NO_VALUE, f"not a readable ONNX model: {one_line(exc)}") from None
    fix_batch(model, source)
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, ValueError) as exc:
        raise config_error(source, "", NO_VALUE, f"shape inference failed: {one_line(exc)}") from None


def one_line(exc: Exception) -> str:
    """An exception's message on one line, at most 300 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def fix_batch(model, source: str) -> None:
    initializers = {t.name for t in model.graph.initializer}
    problems = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        for i, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.dim_value > 0:
                continue
            if i == 0:
                dim.dim_value = 1
            else:
                problems.append(f"{value.name}[{i}] = {dim.dim_param or '?'!r}")
    if problems:
        raise config_error(source, "graph.input", ", ".join(problems),
                           "symbolic dimensions other than the batch are not supported; "
                           "export the model with static shapes")


def _dims(value) -> tuple[int, ...] | None:
    dims = tuple(d.dim_value for d in value.type.tensor_type.shape.dim)
    known = value.type.tensor_type.HasField("shape") and all(d > 0 for d in dims)
    return dims if known else None


class OnnxGraph:
    def __init__(self, model, source: str, problems: Problems):
        graph = model.graph
        self.graph, self.source, self.problems = graph, source, problems
        self.initializers = {t.name: tuple(t.dims) for t in graph.initializer}
        self.shapes: dict[str, tuple[int, ...] | None] = dict(self.initializers)
        for value in (*graph.value_info, *graph.input, *graph.output):
            self.shapes.setdefault(value.name, _dims(value))
        self.constants = set(self.initializers) | {""}
        self.writer: dict[str, str] = {}      # tensor -> layer name ("" = graph input)
        self.inputs = [v for v in graph.input if v.name not in self.initializers]

    def nodes(self):
        return enumerate(self.graph.node)

    def input_shape(self) -> tuple[int, ...]:
        if not self.inputs:
            return ()
        dims = self.shapes.get(self.inputs[0].name) or ()
        return dims[1:] if len(dims) > 1 and dims[0] == 1 else dims

    # ------------------------------------------------------------ tensors

    def shape(self, name: str, node) -> tuple[int, ...] | None:
        dims = self.shapes.get(name)
        if dims is None:
            self.problems.add(self.source, f"node {node.name or node.op_type!r} ({node.op_type})",
                              name, "tensor shape unknown after shape inference")
        return dims

    def is_constant(self, name: str) -> bool:
        return name in self.constants

    def all_constant(self, node) -> bool:
        return all(self.is_constant(name) for name in node.input)

    def elems_of(self, names) -> int:
        return sum(math.prod(self.shapes.get(n) or (0,)) for n in names if n)

    def activation_elems(self, node) -> int:
        return self.elems_of(n for n in node.input if not self.is_constant(n))

    def constant_params(self, node) -> int:
        """Elements of the constant, non-scalar operands of an element-wise node (biases)."""
        sizes = [math.prod(self.shapes.get(n) or (1,)) for n in node.input if n and self.is_constant(n)]
        return sum(size for size in sizes if size > 1)

    def attr(self, node, name: str, default: Any) -> Any:
        import onnx
        for attribute in node.attribute:
            if attribute.name == name:
                value = onnx.helper.get_attribute_value(attribute)
                return list(value) if isinstance(value, (list, tuple)) else value
        return default

    # ------------------------------------------------------------ producers

    def alias(self, node) -> None:
        """A view or constant node: its outputs are its input's data (or constants)."""
        if self.all_constant(node):
            self.constants.update(node.output)
            return
        source = next(n for n in node.input if not self.is_constant(n))
        for out in node.output:
            self.writer[out] = self.writer.get(source, "")

    def produced(self, node, layer: str) -> None:
        for out in node.output:
            self.writer[out] = layer

    def producers(self, node) -> tuple[str, ...]:
        return tuple(self.writer.get(n, "") for n in node.input if not self.is_constant(n))
