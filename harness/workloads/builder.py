"""Builds the layer list of a TOML layer graph: name scopes, `from` references, blocks, fusion.

After the first layer that fails (bad keys, or a shape that does not fit) the rest of its layer
list is still read for keys and references, but no longer built, so one mistake is reported
once and does not cascade into shape errors further down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from harness.errors import NO_VALUE
from harness.spec import MISSING, Problems, Reader, positive, within

MAX_REPEAT = 10_000  # copies of a block: bounded, so a workload file cannot build forever
from harness.workloads.expr import substitute
from harness.workloads.model import Layer
from harness.workloads.ops import ARITY, BUILDERS, REFERENCES, SCHEMAS, Built
from harness.workloads.tensors import ShapeError, Tensor

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class BlockDef:
    params: tuple[str, ...]
    defaults: dict[str, Any]
    layers: tuple[Any, ...]


@dataclass
class Scope:
    """The names visible while one layer list (the top level or one block repetition) is built."""

    prefix: str
    names: dict[str, Tensor | None]   # None: a layer that could not be built
    last: Tensor | None
    top: bool = False
    broken: bool = False              # a layer failed: the rest is checked for keys only


def name_check(v: str) -> str | None:
    if v == "input" or not NAME.fullmatch(v):
        return 'must be letters, digits, "_" or "-" (not starting with a digit), and not "input"'
    return None


@dataclass
class GraphBuilder:
    source: str
    problems: Problems
    origins: dict[str, str]
    blocks: dict[str, BlockDef]
    layers: list[Layer] = field(default_factory=list)
    emitted: dict[str, Tensor | None] = field(default_factory=dict)   # full name -> output
    used: set[str] = field(default_factory=set)

    def build(self, x: Tensor | None, entries: list) -> None:
        """Build `entries` on input `x` (None: the input is invalid, check keys only)."""
        scope = Scope("", {"input": x}, x, top=True, broken=x is None)
        self.run(entries, "layers", scope, ())
        for unused in sorted(set(self.blocks) - self.used):
            self.problems.add(self.source, f"blocks.{unused}", NO_VALUE, "defined but never used")

    def reader(self, raw: dict, path: str) -> Reader:
        return Reader(raw, self.source, self.problems, f"{path}.", self.origins)

    def run(self, entries: list | tuple, path: str, scope: Scope, stack: tuple[str, ...]) -> None:
        for i, raw in enumerate(entries):
            if "block" in raw:
                self.use_block(raw, f"{path}[{i}]", i, scope, stack)
            else:
                self.op_entry(raw, f"{path}[{i}]", i, scope)

    # ------------------------------------------------------------ operators

    def op_entry(self, raw: dict, path: str, index: int, scope: Scope) -> None:
        before = len(self.problems.items)
        r = self.reader(raw, path)
        op = r.get("op", str, check=lambda v: _choice(v, SCHEMAS, "operator"))
        name = self.read_name(r, op or "layer", index, scope)
        fused = r.get("fused", bool, default=False)
        inputs = self.read_inputs(r, op, scope) if op else None
        params = {k.name: r.get(k.name, k.kind, k.default, k.check) for k in SCHEMAS.get(op, ())}
        r.done()
        built = None
        if not scope.broken and len(self.problems.items) == before:
            built = self.try_build(r, op, scope.prefix + name, params, inputs)
        if built is None:
            scope.broken = True
            self.define(scope, name, None)
            return
        self.emit(built, fused, r)
        self.define(scope, name, built.out)

    def try_build(self, r: Reader, op: str, name: str, params: dict, inputs: list) -> Built | None:
        try:
            return BUILDERS[op](name, params, inputs)
        except ShapeError as exc:
            r.problem(exc.key, exc.value, exc.rule)
            return None

    def read_name(self, r: Reader, op: str, index: int, scope: Scope) -> str:
        name = r.get("name", str, default=f"{op}{index}", check=name_check) or f"{op}{index}"
        if name in scope.names:
            r.problem("name", name, "already used in this layer list")
        return name

    def define(self, scope: Scope, name: str, out: Tensor | None) -> None:
        scope.names[name] = out
        scope.last = out
        self.emitted[scope.prefix + name] = out

    def read_inputs(self, r: Reader, op: str, scope: Scope) -> list[Tensor] | None:
        arity = ARITY.get(op)
        refs = r.get("from", object, default=MISSING if arity else None,
                     check=lambda v: _from_check(v, arity))
        if refs is None and arity:
            return None
        keyed = [("from", ref) for ref in (refs if isinstance(refs, list) else [refs])]
        keyed += [(key, r.get(key, str)) for key in REFERENCES.get(op, ())]
        tensors = [self.lookup(r, key, ref, scope) for key, ref in keyed if key == "from" or ref]
        ok = len(tensors) == len(keyed) and all(t is not None for t in tensors)
        return tensors if ok and not scope.broken else None

    def lookup(self, r: Reader, key: str, ref: str | None, scope: Scope) -> Tensor | None:
        if ref is None:
            return scope.last
        if ref in scope.names:
            return scope.names[ref]
        if scope.top and ref in self.emitted:
            return self.emitted[ref]
        if not (scope.broken and "." in ref):   # names inside a block that failed are unknown
            known = ", ".join(list(scope.names)[-8:])
            r.problem(key, ref, f"no earlier layer of that name here (recent: {known})")
        return None

    def emit(self, built: Built, fused: bool, r: Reader) -> None:
        """Append the layers; side layers (a shortcut projection) go before a fused pair."""
        if not built.layers:
            return
        *side, main = built.layers
        if fused:
            previous = self.layers[-1].name if self.layers else None
            if previous is None or main.inputs[0] != previous:
                r.problem("fused", True, f"the input ({main.inputs[0] or 'input'}) must be the "
                                         f"previous layer's output ({previous})")
            self.layers[len(self.layers) - 1:len(self.layers) - 1] = side
        else:
            self.layers.extend(side)
        self.layers.append(replace(main, fused=fused))

    # ------------------------------------------------------------ blocks

    def use_block(self, raw: dict, path: str, index: int, scope: Scope, stack: tuple[str, ...]) -> None:
        before = len(self.problems.items)
        r = self.reader(raw, path)
        block, name, repeat, args, first, x = self.read_use(r, index, scope)
        if block in stack:
            r.problem("block", block, "a block cannot use itself")
        self.used.add(block)
        if block is None or block in stack or not self.check_args(r, self.blocks[block], args, first, repeat):
            scope.broken = True
            self.define(scope, name, None)
            return
        if scope.broken or len(self.problems.items) > before:
            scope.broken = True
            x, repeat = None, 1                   # still check the block's layers, once
        out = self.repeat_block(block, (scope.prefix + name, repeat, path), (args, first), x, stack)
        scope.broken = scope.broken or out is None
        self.define(scope, name, out)

    def read_use(self, r: Reader, index: int, scope: Scope) -> tuple:
        """(block, name, repeat, args, first, input tensor) of a block use."""
        block = r.get("block", str, check=lambda v: _choice(v, self.blocks, "block"))
        name = self.read_name(r, block or "block", index, scope)
        repeat = r.get("repeat", int, default=1, check=within(1, MAX_REPEAT))
        args = r.get("args", dict, default={})
        first = r.get("first", dict, default={})
        x = self.read_inputs(r, "block", scope)
        r.done()
        return block, name, repeat, args, first, x[0] if x else None

    def check_args(self, r: Reader, block: BlockDef, args: dict, first: dict, repeat: int) -> bool:
        """Report unknown arguments; False when a required one is missing."""
        for table, given in (("args", args), ("first", first)):
            for key in set(given) - set(block.params):
                r.problem(f"{table}.{key}", given[key], f"not a parameter of the block {list(block.params)}")
        always = set(block.defaults) | set(args)
        missing = [p for p in block.params if p not in always and (repeat > 1 or p not in first)]
        for param in missing:
            r.problem(f"args.{param}", NO_VALUE, "required block argument is missing")
        return not missing

    def repeat_block(self, block: str, use: tuple[str, int, str], args: tuple[dict, dict],
                     x: Tensor | None, stack: tuple[str, ...]) -> Tensor | None:
        """Build `repeat` copies of `block` in a row; the last output (None if any failed)."""
        name, repeat, path = use
        definition, where = self.blocks[block], f"{path} > blocks.{block}.layers"
        for rep in range(1, repeat + 1):
            prefix = name + "." + (f"{rep}." if repeat > 1 else "")
            sub = Scope(prefix, {"input": x}, x, broken=x is None)
            values = {**definition.defaults, **args[0], **(args[1] if rep == 1 else {}),
                      "in_channels": _channels(x)}
            entries = self.substitute(definition.layers, values, where)
            if entries is None:
                return None
            self.run(entries, where, sub, stack + (block,))
            if sub.broken:
                return None
            x = sub.last
        return x

    def substitute(self, layers: tuple, values: dict, path: str) -> list | None:
        errors: list[tuple[str, Any, str]] = []
        entries = [substitute(raw, values, f"{path}[{i}]", errors) for i, raw in enumerate(layers)]
        for key, value, rule in errors:
            self.problems.add(self.source, key, value, rule)
        return None if errors else entries


def _channels(x: Tensor | None) -> int:
    if x is None:
        return 1                 # checking keys only
    return x.shape[0] if x.kind == "image" else x.shape[-1]


def _choice(value: str, known: dict, what: str) -> str | None:
    return None if value in known else f"unknown {what}; known: {', '.join(known) or '(none)'}"


def _from_check(value: Any, arity: int | None) -> str | None:
    if arity is None:
        return None if isinstance(value, str) else "must be the name of one earlier layer"
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if ok and (len(value) == arity or (arity < 0 and len(value) >= -arity)):
        return None
    count = arity if arity > 0 else f"at least {-arity}"
    return f"must be a list of {count} earlier layer names"
