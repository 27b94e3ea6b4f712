"""Declared accuracy: what a workload's model scores at a precision and sparsity, measured
elsewhere and cited. bench never estimates accuracy: a variant the workload does not declare is
"unknown", and a sweep that selects on accuracy leaves such points out, saying how many.

Workload file::

    [[accuracy]]
    precision = "int8"        # one of the accelerator's precisions
    sparsity = "1:1"          # N:M as compute.sparsity ("1:1" = dense, the default)
    value = 0.76076           # a fraction (top-1 0.76076 = 76.076 %)
    metric = "top-1"          # what was measured
    source = "MLPerf Inference v4.1, NVIDIA H200-SXM-141GBx8_TRT resnet50 Server accuracy.txt"

    [[accuracy]]                # a mixed-precision variant: the layers run at another precision
    precision = "int4"
    layers = { conv1 = "int8", fc = "int8" }   # keys as in the [precision] table
    value = 0.741
    ...

A variant is the system's precision and sparsity *and* the per-layer assignment: the layers
whose precision differs from the system's (workloads.precision.mixed). A declaration matches a
run only when all three are equal, however the assignment was written (file or --set), so a
mixed-precision run with no declaration of its own is "unknown", never the uniform figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.accel.config import PRECISIONS, parse_ratio
from harness.spec import Reader, one_of, within
from harness.workloads.precision import mixed, read_assignment, report_unmatched, resolve



@dataclass(frozen=True)
class Accuracy:
    precision: str
    sparsity: str   # "N:M"
    value: float
    metric: str
    source: str
    layers: tuple[tuple[str, str], ...] = ()   # (layer, precision) of those at another precision

    def as_dict(self) -> dict:
        return {**asdict(self), "layers": dict(self.layers)}


def _ratio(v: str) -> str | None:
    return None if parse_ratio(v) else 'must be "N:M" with 0 < N <= M, e.g. "2:4" ("1:1" = dense)'


def read_accuracy(tables: list[Reader], names: list[str]) -> tuple[Accuracy, ...]:
    """The workload's [[accuracy]] tables (`names`: its layers); two for one variant are an error."""
    entries, seen = [], set()
    for t in tables:
        entry = _entry(t, names)
        t.done()
        variant = (entry.precision, entry.sparsity, entry.layers)
        if variant in seen:
            t.problem("precision", entry.precision, f"declared twice for sparsity {entry.sparsity}"
                      + (f" and layers {dict(entry.layers)}" if entry.layers else ""))
        seen.add(variant)
        entries.append(entry)
    return tuple(entries)


def _entry(t: Reader, names: list[str]) -> Accuracy:
    precision = t.get("precision", str, check=one_of(*PRECISIONS)) or ""
    assignment = read_assignment(t, "layers")
    if names:
        report_unmatched(t, "layers", assignment, names)
    return Accuracy(
        precision=precision,
        sparsity=normal(t.get("sparsity", str, default="1:1", check=_ratio) or "1:1"),
        value=t.get("value", float, check=within(0, 1)) or 0.0,
        metric=t.get("metric", str) or "",
        source=t.get("source", str, check=lambda s: None if s.strip() else "must say where it was measured") or "",
        layers=tuple(mixed(resolve(assignment, names), precision).items()))


def normal(sparsity: str) -> str:
    n, m = parse_ratio(sparsity)
    return "1:1" if n == m else f"{n}:{m}"


def declared(entries, precision: str, sparsity: str, layers: dict[str, str] | None = None) -> dict | None:
    """The declaration for a variant (entries as Accuracy or as result.json dicts), or None.
    `layers`: the workload's per-layer precisions (Workload.precisions), {} when uniform."""
    want = (precision, normal(sparsity), mixed(layers or {}, precision))
    for e in entries:
        d = e.as_dict() if isinstance(e, Accuracy) else e
        got = (d.get("precision"), normal(str(d.get("sparsity", "1:1"))), dict(d.get("layers") or {}))
        if got == want:
            return d
    return None
