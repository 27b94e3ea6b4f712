"""Systolic-array compute cycles per layer, as SCALE-Sim 3.x counts them (reference §1.4-1.5).

A layer is a GEMM (M x K) @ (K x N), `groups` times. For an R x C array the dataflow decides
which GEMM dimensions are laid out on the rows (Sr) and columns (Sc) and which one streams (T):

    ws: Sr = K, Sc = N, T = M    per fold 2R + C + T - 2   (R cycles to preload the weights)
    os: Sr = M, Sc = N, T = K    per fold  R + C + T - 2   (no preload)
    is: Sr = K, Sc = M, T = N    per fold 2R + C + T - 2

    cycles = ceil(Sr / R) * ceil(Sc / C) * per_fold        (partial folds cost a full fold)

SCALE-Sim's COMPUTE_REPORT `Total Cycles` is this count minus one (the index of the last
output write); tests/data/scalesim/cycles.json pins the agreement for every dataflow.

Batching: weights are shared by the samples of a batch, so a weight layer's M grows with the
batch (WS amortises its fill over more rows); an activation x activation product (attention)
has one GEMM per sample, so its groups grow. N:M structured sparsity keeps N of every M weights
along K, exactly as SCALE-Sim's row-wise compression: K' = (K // M) * N + min(K % M, N).
Precision divides the cycles by the MACs one PE does per cycle (int4: 2, fp16: 0.5, ...).

Element-wise work (`Layer.vector_ops`: pooling, residual adds, BN/activation, softmax) runs on
a vector unit of `vector_lanes` ops per cycle. In a layer with MACs it post-processes the
array's outputs as they stream out, so the layer takes max(array, vector) cycles; a layer
without MACs takes its vector cycles.

Depthwise layers: SCALE-Sim runs one single-channel GEMM per channel (K = 9, N = 1), which uses
one column of the array (reference §1.8: MobileNet v2 at 8 % utilisation on 32x32). With
`depthwise = "vector"` they run channel-parallel on the vector unit instead, `vector_lanes`
MACs per cycle (times the precision's rate), as NPUs with a depthwise engine do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.accel.config import Compute
from harness.workloads.model import Layer


@dataclass(frozen=True)
class Gemm:
    m: int
    n: int
    k: int
    groups: int = 1


def fold_cycles(dataflow: str, rows: int, cols: int, gemm: Gemm) -> int:
    """Stall-free cycles of one GEMM group on a rows x cols array (SCALE-Sim count + 1)."""
    m, n, k = gemm.m, gemm.n, gemm.k
    if m <= 0 or n <= 0 or k <= 0:
        return 0
    if dataflow == "ws":
        spatial_r, spatial_c, per_fold = k, n, 2 * rows + cols + m - 2
    elif dataflow == "os":
        spatial_r, spatial_c, per_fold = m, n, rows + cols + k - 2
    else:
        spatial_r, spatial_c, per_fold = k, m, 2 * rows + cols + n - 2
    return math.ceil(spatial_r / rows) * math.ceil(spatial_c / cols) * per_fold


def gemm_cycles(dataflow: str, rows: int, cols: int, gemm: Gemm) -> int:
    return gemm.groups * fold_cycles(dataflow, rows, cols, gemm)


def sparse_k(k: int, ratio: tuple[int, int]) -> int:
    """Rows of K left after N:M compression (SCALE-Sim's ellpack row-wise scheme)."""
    n, m = ratio
    return (k // m) * n + min(k % m, n)


def sparse_stored_fraction(ratio: tuple[int, int], element_bytes: float) -> float:
    """Bytes stored per dense weight byte under N:M sparsity: N/M of the weights, each with a
    ceil(log2 M)-bit index."""
    n, m = ratio
    if (n, m) == (1, 1):
        return 1.0
    return n / m * (element_bytes + math.ceil(math.log2(m)) / 8) / element_bytes


def unstructured_stored_fraction(compute: Compute) -> float:
    """Bytes stored per dense weight byte under unstructured sparsity: the kept weights, each
    with its index."""
    if not compute.unstructured:
        return 1.0
    bpe = compute.element_bytes
    return compute.weight_density * (bpe + compute.sparse_index_bits / 8) / bpe


def stores_unstructured(compute: Compute) -> bool:
    """Unstructured sparsity is used only when its indices leave the weights smaller than dense."""
    return compute.unstructured and unstructured_stored_fraction(compute) < 1.0


def skipped_share(compute: Compute) -> float:
    """The share of a weight layer's K the array skips: zeros it can skip, stored sparse."""
    if not stores_unstructured(compute):
        return 0.0
    return (1.0 - compute.weight_density) * compute.sparse_skip_efficiency


def storage_sparsity(compute: Compute) -> tuple[int, int]:
    """The N:M sparsity the engine actually uses: the configured one, or dense (1:1) when its
    indices make the compressed weights no smaller than dense ("9:10" at int8: 0.9 x (1 + 4/8)
    = 1.35 x dense) - a compiler then stores them dense and the array skips nothing."""
    ratio = compute.sparsity
    return ratio if sparse_stored_fraction(ratio, compute.element_bytes) < 1.0 else (1, 1)


def sparsity_note(compute: Compute) -> str:
    """How the weights are stored, in words: "dense", "2:4", unstructured, or the fallback and why."""
    if compute.unstructured:
        grown = unstructured_stored_fraction(compute)
        if grown >= 1.0:
            return (f"dense: {compute.weight_density:g} density with {compute.sparse_index_bits:g}-bit "
                    f"indices would store {grown:.3g}x the dense bytes at {compute.precision}")
        return (f"unstructured {compute.weight_density:g} density ({grown:.3g}x the dense bytes), "
                f"{skipped_share(compute):.3g} of K skipped")
    n, m = compute.sparsity
    if (n, m) == (1, 1):
        return "dense"
    if storage_sparsity(compute) == (n, m):
        return f"{n}:{m}"
    grown = sparse_stored_fraction((n, m), compute.element_bytes)
    return (f"dense: {n}:{m} with its {math.ceil(math.log2(m))}-bit indices would store "
            f"{grown:.3g}x the dense bytes at {compute.precision}")


def layer_gemm(layer: Layer, batch: int, sparsity: tuple[int, int] = (1, 1), skipped: float = 0.0) -> Gemm:
    """The GEMM the array runs for `batch` samples of `layer`: K compressed by N:M sparsity, or
    shortened by the `skipped` share of it (unstructured sparsity, compute.skipped_share)."""
    k = sparse_k(layer.k, sparsity) if layer.weights > 0 and sparsity != (1, 1) else layer.k
    if layer.weights > 0 and skipped > 0:
        k = max(1, math.ceil(k * (1.0 - skipped)))
    if layer.weights > 0:
        return Gemm(layer.m * batch, layer.n, k, layer.groups)
    return Gemm(layer.m, layer.n, k, layer.groups * batch)


FIXED_DATAFLOWS = ("ws", "os", "is")


def dataflow_for(compute: Compute, gemm: Gemm) -> str:
    """The configured dataflow; with "auto", the fastest of ws, os and is for this GEMM (a
    compiler's kernel selection; ties keep that order)."""
    if compute.dataflow != "auto":
        return compute.dataflow
    return min(FIXED_DATAFLOWS,
               key=lambda d: gemm_cycles(d, compute.array_rows, compute.array_cols, gemm))


def array_cycles(compute: Compute, gemm: Gemm) -> int:
    """Cycles on the array at the configured precision, in the layer's dataflow."""
    base = gemm_cycles(dataflow_for(compute, gemm), compute.array_rows, compute.array_cols, gemm)
    return math.ceil(base / compute.rate)


def vector_cycles(compute: Compute, layer: Layer, batch: int, convert: int = 0) -> int:
    """The vector unit's cycles: the layer's element ops plus `convert` elements per sample
    requantized from another precision (mixed.conversion_ops)."""
    return math.ceil((layer.vector_ops + convert) * batch / compute.vector_lanes)


def on_vector_unit(compute: Compute, layer: Layer) -> bool:
    """A depthwise layer (one filter per group) mapped to the vector unit (depthwise = "vector")."""
    return (compute.depthwise == "vector" and layer.groups > 1 and layer.weights > 0
            and layer.n == 1)


def layer_cycles(compute: Compute, layer: Layer, batch: int, gemm: Gemm, convert: int = 0) -> tuple[int, int]:
    """(array cycles, vector cycles) of `batch` samples of `layer` (`compute` at its precision)."""
    post = vector_cycles(compute, layer, batch, convert)
    if on_vector_unit(compute, layer):
        lanes = compute.vector_lanes * compute.rate
        return 0, math.ceil(executed_macs(gemm) / lanes) + post
    return array_cycles(compute, gemm), post


def core_cycles(array: int, vector: int) -> int:
    """Cycles of a layer's array and vector work (vector post-ops overlap the array)."""
    return max(array, vector)


def executed_macs(gemm: Gemm) -> int:
    return gemm.m * gemm.n * gemm.k * gemm.groups


def operand_sram_elems(dataflow: str, rows: int, cols: int, gemm: Gemm) -> int:
    """Elements moved between SRAM and the array: the non-stationary operands are re-read
    once per fold of the other spatial dimension, partial sums written once per K fold
    (SCALE-Sim's counting, reference §1.6)."""
    m, n, k = gemm.m, gemm.n, gemm.k
    if m <= 0 or n <= 0 or k <= 0:
        return 0
    if dataflow == "ws":
        elems = k * n + m * k * math.ceil(n / cols) + m * n * math.ceil(k / rows)
    elif dataflow == "os":
        elems = m * k * math.ceil(n / cols) + k * n * math.ceil(m / rows) + m * n
    else:
        elems = m * k + k * n * math.ceil(m / cols) + m * n * math.ceil(k / rows)
    return elems * gemm.groups
