"""SCALE-Sim topology CSV import.

Convolution form (SCALE-Sim's default): a header line, then one row per layer

    Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,

with a trailing comma (SCALE-Sim drops the last field, so a row without it would lose its
stride there; bench rejects it) and optionally a last `N:M` sparsity field, of which only the
dense `1:1` is accepted. No padding: the output is ceil((H - Fh + S) / S) per axis, i.e. the
IFMAP is taken as already padded. A layer whose name contains `DP` is depthwise, as in
SCALE-Sim: `Channels` single-channel convolutions with `Num Filter` filters each (groups =
Channels, k = Fh*Fw).

GEMM form (`-i gemm`), recognised by its header `Layer, M, N, K,`: rows `name, M, N, K,`.

Rows become conv (or matmul) layers with no biases (weights = filter elements), a chain in
file order. Any malformed row is a ConfigError naming the file, the row and the column.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import NO_VALUE, config_error
from harness.spec import Problems
from harness.workloads.model import Layer, Workload
from harness.workloads.source import fingerprint_all, identity_from_overrides, raise_unique

CONV_COLUMNS = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                "Num Filter", "Strides")
GEMM_COLUMNS = ("M", "N", "K")


def load_csv(path: Path, overrides: dict[str, Any] | None = None) -> Workload:
    source = catalog.label(path)
    name, benchmark, description = identity_from_overrides(source, path.stem, overrides)
    lines = read_lines(path, source)
    header = [c.strip() for c in lines[0][1].split(",")]
    gemm = [c.lower() for c in header[1:4]] == ["m", "n", "k"]
    problems = Problems()
    layers = [row_layer(number, text, gemm, source, problems) for number, text in lines[1:]]
    if len(lines) == 1:
        problems.add(source, "", NO_VALUE, "no layer rows after the header")
    raise_unique(problems)
    chained = chain([layer for layer in layers if layer is not None])
    return Workload(name=name, benchmark=benchmark, description=description, source=source,
                    fingerprint=fingerprint_all([path], overrides), layers=chained,
                    input_shape=input_shape(chained[0]))


def input_shape(first: Layer) -> tuple[int, ...]:
    """[C, H, W] of the first conv row's IFMAP, or [M, K] of the first GEMM row."""
    if first.op == "matmul":
        return (first.m, first.k)
    h, w, _, _, channels, _, _ = first.conv
    return (channels * first.groups, h, w)


def read_lines(path: Path, source: str) -> list[tuple[int, str]]:
    """(1-based line number, text) of every non-blank line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise config_error(source, "", NO_VALUE, f"cannot read: {exc}") from None
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise config_error(source, "", NO_VALUE, "empty topology file")
    return lines


def row_layer(number: int, text: str, gemm: bool, source: str, problems: Problems) -> Layer | None:
    columns = GEMM_COLUMNS if gemm else CONV_COLUMNS
    where = f"row {number}"
    fields = split_row(text, columns, where, source, problems)
    if fields is None:
        return None
    name, values = fields[0], numbers(fields[1:len(columns) + 1], columns, where, source, problems)
    sparse_ok = check_sparsity(fields[len(columns) + 1:], where, source, problems)
    if values is None or not sparse_ok:
        return None
    if not name:
        problems.add(source, f"{where}, Layer name", "", "must not be empty")
        return None
    return gemm_layer(name, values) if gemm else conv_row_layer(name, values, where, source, problems)


def split_row(text: str, columns: tuple[str, ...], where: str, source: str,
              problems: Problems) -> list[str] | None:
    """The fields of a row without its trailing comma; None (and a problem) when malformed."""
    fields = [f.strip() for f in text.split(",")]
    if fields[-1] != "":
        problems.add(source, where, text.strip(), "must end with a trailing comma (SCALE-Sim "
                                                  "drops the last field)")
        return None
    if len(fields) - 1 not in (len(columns) + 1, len(columns) + 2):
        problems.add(source, where, text.strip(), f"expected {len(columns) + 1} fields: "
                                                  f"Layer name, {', '.join(columns)}")
        return None
    return fields[:-1]


def numbers(texts: list[str], columns: tuple[str, ...], where: str, source: str,
            problems: Problems) -> list[int] | None:
    values = []
    for text, column in zip(texts, columns):
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value <= 0:
            problems.add(source, f"{where}, {column}", text, "must be a positive integer")
        values.append(value)
    return values if all(v > 0 for v in values) else None


def check_sparsity(extra: list[str], where: str, source: str, problems: Problems) -> bool:
    if not extra or extra[0] == "1:1":
        return True
    problems.add(source, f"{where}, sparsity", extra[0], "only dense 1:1 is modelled")
    return False


def conv_row_layer(name: str, values: list[int], where: str, source: str,
                   problems: Problems) -> Layer | None:
    h, w, fh, fw, channels, filters, stride = values
    for column, size, window in (("Filter Height", h, fh), ("Filter Width", w, fw)):
        if window > size:
            problems.add(source, f"{where}, {column}", window, f"larger than the IFMAP ({size})")
            return None
    oh, ow = -(-(h - fh + stride) // stride), -(-(w - fw + stride) // stride)  # SCALE-Sim's ceil
    groups, per_group = (channels, 1) if "DP" in name else (1, channels)
    return Layer(name=name, op="conv", m=oh * ow, n=filters, k=fh * fw * per_group, groups=groups,
                 weights=fh * fw * per_group * filters * groups, in_elems=h * w * channels,
                 out_elems=oh * ow * filters * groups, conv=tuple(values[:4]) + (per_group, filters, stride),
                 out_shape=(filters * groups, oh, ow))


def gemm_layer(name: str, values: list[int]) -> Layer:
    m, n, k = values
    return Layer(name=name, op="matmul", m=m, n=n, k=k, weights=k * n, in_elems=m * k,
                 out_elems=m * n, conv=(m, k, 1, k, 1, n, 1), out_shape=(m, n))


def chain(layers: list[Layer]) -> tuple[Layer, ...]:
    """Each layer reads the previous one's output (the CSV has no graph)."""
    return tuple(replace(layer, inputs=(layers[i - 1].name if i else "",))
                 for i, layer in enumerate(layers))
