'''The TOML layer-graph format: shapes in, MACs / weights / activations derived, never typed.

    name = "resnet50"                 # default: the file stem
    benchmark = "resnet50"            # MLPerf benchmark whose settings apply; default: name
    description = "ResNet-50 v1.5"
    input = [3, 224, 224]             # per sample: [C, H, W] image, [T, D] sequence, [T] token ids
    extends = "resnet50"              # optional: start from another workload's keys (catalog
                                      # name or path); this file's top-level keys replace them

    layers = [
      { op = "conv", name = "conv1", filters = 64, kernel = 7, stride = 2, norm = "batch", act = "relu" },
      { block = "bottleneck", name = "stage3", repeat = 4, args = { width = 128 }, first = { stride = 2 } },
      ...
    ]

    # blocks last: in TOML, keys below a [table] header belong to that table
    [blocks.bottleneck]               # a reusable group of layers
    params = ["width", "stride"]      # its arguments ...
    defaults = { stride = 1 }         # ... and their defaults
    layers = [
      { op = "conv", filters = "$width", kernel = 1, norm = "batch", act = "relu" },
      { op = "conv", filters = "$width", kernel = 3, stride = "$stride", norm = "batch", act = "relu" },
      { op = "conv", filters = "$width * 4", kernel = 1, norm = "batch" },
      { op = "add", skip = "input", on_mismatch = "project", act = "relu", fused = true },
    ]

Each entry of `layers` is an operator (`op = ...`) or a block use (`block = ...`). Its input is
the previous entry's output unless `from` names another: `"input"` (the workload's input, or
inside a block the block's input), the `name` of an earlier entry in the same block or list,
or at top level the full name of any earlier layer (`"head1.route"`). Names are letters,
digits, `_` and `-`; unnamed entries are called `<op><index>`. Layers inside a block use are
named `<use>.<layer>`, or `<use>.<repetition>.<layer>` when `repeat` > 1.

Block use keys: `block`, `name`, `repeat` (1), `args` (for every repetition), `first` (extra
args for the first repetition only, e.g. the stride of a stage), `from`. Inside a block a
string value starting with `$` is an expression over the arguments and `in_channels` (see
`harness.workloads.expr`).

Operators and their keys (defaults in parentheses; * = required):
    conv        filters* (depthwise: input channels), kernel* (int or [h, w]), stride (1),
                padding ("same" | "valid" | int | [h, w]; "same"), groups (1), depthwise (false:
                groups = channels), norm ("none" | "batch": 2 params per filter), bias (true
                unless norm), act ("none" | relu | relu6 | leaky | gelu | tanh | sigmoid | silu |
                hardswish)
    fc          features*, bias (true), act, tokens (only the first N tokens, e.g. a pooler)
    matmul      activation x activation; from = [a, b]*, heads (1), transpose_b (false),
                merge_heads (false: output is [heads, T, n]; true: [T, heads*n])
    embedding   tables* (rows of each table summed per token), features*
    pool        kind ("max" | "avg"), kernel* (unless global), stride (kernel), padding
                ("valid"), global (false)
    add         skip* (the other operand), on_mismatch ("error" | "project": 1x1 strided conv on
                the shortcut | "skip": no add when shapes differ), projection_norm ("batch"), act
    concat      from = [a, b, ...]* (channels of images, features of sequences)
    upsample    scale (2, nearest)
    activation  fn*
    softmax     -
    norm        kind* ("layer" | "batch")
    lstm        hidden*, cell ("lstm" | "gru" | "rnn"), directions (1 | 2), bias (true); input a
                sequence [T, D], output [T, directions x hidden]
A `[precision]` table gives layers their own precision (mixed precision; see
`harness.workloads.precision`). Every operator also takes `name`, `from` and `fused` (true: its input, the previous layer's
output, stays on chip). Loading is strict: unknown or missing keys, wrong types, bad values and
shapes that do not fit are all reported together, each with file, key path, value and rule.
'''

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import config_error
from harness.spec import Problems, Reader, apply_overrides, read_toml
from harness.workloads import precision
from harness.workloads.accuracy import read_accuracy
from harness.workloads.builder import NAME, BlockDef, GraphBuilder
from harness.workloads.model import Workload
from harness.workloads.source import fingerprint_all, raise_unique, read_identity
from harness.workloads.tensors import input_tensor


def shape_check(v: list) -> str | None:
    ok = 1 <= len(v) <= 3 and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v)
    return None if ok else "must be 1 to 3 positive integers: [C, H, W], [T, D] or [T]"


def tables_check(v: list) -> str | None:
    return None if v and all(isinstance(x, dict) for x in v) else "must be a non-empty list of tables"


# ---------------------------------------------------------------- files


def read_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict, list[Path]]:
    """The raw keys of `path` on top of those of the workload it `extends`, and all files read."""
    label = catalog.label(path)
    raw = read_toml(path, label)
    base = raw.pop("extends", None)
    if base is None:
        return raw, [path]
    if not isinstance(base, str) or not base:
        raise config_error(label, "extends", base, "must be a workload name or path")
    base_path = _base_path(path, base)
    if base_path.resolve() in seen or base_path.suffix != ".toml":
        raise config_error(label, "extends", base, "must name another TOML workload, without cycles")
    base_raw, files = read_chain(base_path, seen + (path.resolve(),))
    return {**base_raw, **raw}, [path, *files]


def _base_path(path: Path, base: str) -> Path:
    """A path is relative to the extending file; a bare name is a catalog workload."""
    if not catalog.is_path(base):
        return catalog.resolve("workloads", base)
    candidate = path.parent / base
    if not candidate.is_file():
        raise config_error(catalog.label(path), "extends", base, f"file not found ({candidate})")
    return candidate


def load_graph(path: Path, overrides: dict[str, Any] | None = None) -> Workload:
    raw, files = read_chain(path)
    source = catalog.label(path)
    rest, origins = precision.split_overrides(raw, overrides or {})
    origins.update(apply_overrides(raw, rest))
    problems = Problems()
    r = Reader(raw, source, problems, origins=origins)
    name, benchmark, description = read_identity(r, path.stem)
    shape = r.get("input", list, check=shape_check)
    blocks = read_blocks(r)
    assignment = precision.read_assignment(r)
    declarations = r.tables("accuracy")
    entries = r.get("layers", list, check=tables_check)
    builder = GraphBuilder(source, problems, origins, blocks)
    if entries is not None:
        builder.build(input_tensor(shape) if shape else None, entries)
    names = [layer.name for layer in builder.layers] if entries is not None and not problems.items else []
    if names:   # a broken graph's names are incomplete: no "names no layer" on top
        precision.report_unmatched(r, precision.TABLE, assignment, names)
    accuracy = read_accuracy(declarations, names)
    r.done()
    raise_unique(problems)
    return Workload(name=name, benchmark=benchmark, description=description, source=source,
                    fingerprint=fingerprint_all(files, overrides),
                    layers=precision.apply(builder.layers, assignment),
                    input_shape=tuple(shape), accuracy=accuracy)


def read_blocks(r: Reader) -> dict[str, BlockDef]:
    table = r.table("blocks")
    blocks = {}
    for key in list(table.data):
        b = table.table(key)
        params = b.get("params", list, default=[], check=_names_check)
        defaults = b.get("defaults", dict, default={})
        for arg in set(defaults) - set(params or []):
            b.problem(f"defaults.{arg}", defaults[arg], f"not one of params {params}")
        layers = b.get("layers", list, check=tables_check)
        b.done()
        if params is not None and layers is not None:
            blocks[key] = BlockDef(tuple(params), defaults, tuple(layers))
    return blocks


def _names_check(v: list) -> str | None:
    ok = all(isinstance(x, str) and NAME.fullmatch(x) and x != "in_channels" for x in v)
    return None if ok else "must be a list of argument names (not in_channels)"
