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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.accel.config import PRECISIONS, parse_ratio
from harness.spec import Reader, one_of, within



@dataclass(frozen=True)
class Accuracy:
    precision: str
    sparsity: str   # "N:M"
    value: float
    metric: str
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


def _ratio(v: str) -> str | None:
    return None if parse_ratio(v) else 'must be "N:M" with 0 < N <= M, e.g. "2:4" ("1:1" = dense)'


def read_accuracy(r: Reader) -> tuple[Accuracy, ...]:
    """The workload's [[accuracy]] tables; two for one variant are an error."""
    entries, seen = [], set()
    for t in r.tables("accuracy"):
        entry = Accuracy(
            precision=t.get("precision", str, check=one_of(*PRECISIONS)) or "",
            sparsity=normal(t.get("sparsity", str, default="1:1", check=_ratio) or "1:1"),
            value=t.get("value", float, check=within(0, 1)) or 0.0,
            metric=t.get("metric", str) or "",
            source=t.get("source", str, check=lambda s: None if s.strip() else "must say where it was measured") or "")
        t.done()
        if (entry.precision, entry.sparsity) in seen:
            t.problem("precision", entry.precision, f"declared twice for sparsity {entry.sparsity}")
        seen.add((entry.precision, entry.sparsity))
        entries.append(entry)
    return tuple(entries)


def normal(sparsity: str) -> str:
    n, m = parse_ratio(sparsity)
    return "1:1" if n == m else f"{n}:{m}"


def declared(entries, precision: str, sparsity: str) -> dict | None:
    """The declaration for a variant (entries as Accuracy or as result.json dicts), or None."""
    want = (precision, normal(sparsity))
    for e in entries:
        d = e.as_dict() if isinstance(e, Accuracy) else e
        if (d.get("precision"), normal(str(d.get("sparsity", "1:1")))) == want:
            return d
    return None
