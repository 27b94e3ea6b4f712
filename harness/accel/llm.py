"""A decoder LLM on the NPU model: the cost of a prefill and of a decode step, and the KV cache.

The engines work as one device (tensor parallel): every GEMM's output columns and the attention
heads are split evenly over `engines`, so a GEMM takes the array cycles of its share on one
engine (harness.accel.compute, the SCALE-Sim count at the configured precision). They share the
DRAM as harness.accel.contention says: while all of them move data, each gets
`engine_bandwidth(memory, engines)`; together, that times `engines` (`npu_bandwidth`).

A pass (prefill or decode step) is a sequence of phases, per transformer block: qkv projection,
attention, o projection, gate/up, down; then the LM head. A phase moves its DRAM bytes (in DRAM
time by its read/write mix, dram_cost.npu_cost) and computes; with double buffering it ends at
max(compute done, transfer done), without at transfer done + compute, under the bandwidth the
bus masters leave at each instant (timeline.simulate's rule, here without building Phase
objects: a decode step is priced every few milliseconds of a run).

Decode step of B sequences holding S cached tokens in all (memory-bound):
    reads  every weight but the embedding table once (shared by the B sequences; the block's
           two RMSNorm scales with its qkv phase), B rows of the table, the K and V of the S
           cached tokens
    writes the K and V of the B new tokens
    GEMMs  M = B rows; attention per KV head: (group x S) scores and (group x head_dim) context
Prefill of P prompts of T_1..T_P tokens (compute-bound): GEMMs with M = sum T_i; attention per
prompt (T x T scores per head); K and V of every prompt token written; the LM head for the last
token of each prompt only.

Stated approximations (no silent zeros):
- the decode attention of B sequences is priced as one GEMM over their S tokens together (the
  partial folds of each sequence's own GEMM are not counted);
- prefill attention computes the full T x T scores (the causal mask is applied on the vector
  unit, nothing is skipped) and keeps scores on chip (fused, flash-attention style);
- activations stay on chip, except a prefill GEMM whose input and output together exceed half
  an engine's SRAM (its share): they are read from and written to DRAM once;
- element-wise work (RMSNorm, RoPE, SiLU x up, residual adds, softmax) is counted as vector ops
  that overlap the array (compute.core_cycles);
- SRAM traffic: each GEMM's operand traffic (compute.operand_sram_elems) plus every DRAM byte
  written into SRAM once.

KV cache: 2 x layers x kv_heads x head_dim x bytes per element per token, in DRAM; a sequence
reserves its whole context (input + output tokens) when it is admitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from harness.accel import energy as en
from harness.accel.compute import Gemm, array_cycles, dataflow_for, operand_sram_elems
from harness.accel.config import Hardware
from harness.accel.contention import Leftover, engine_bandwidth
from harness.accel.dram_cost import npu_cost
from harness.errors import config_error
from harness.spec import Reader, within
from harness.workloads.decoder import Decoder, DecoderShape

DEFAULT_SLOTS = 16
DEFAULT_DRAM_CAPACITY = 16 * 2**30    # 16 GiB: an Orin NX 16GB-class LPDDR5 part


@dataclass(frozen=True)
class LLMSettings:
    """[llm] of an accelerator system file: how it serves a decoder workload."""

    decode_slots: int = DEFAULT_SLOTS           # sequences decoded together (continuous batching)
    dram_capacity_bytes: float = DEFAULT_DRAM_CAPACITY  # weights + KV cache must fit in it

    def describe(self) -> dict:
        return {"decode_slots": self.decode_slots, "dram_capacity_bytes": self.dram_capacity_bytes}


def read_llm(r: Reader) -> LLMSettings:
    t = r.table("llm")
    slots = t.get("decode_slots", int, default=DEFAULT_SLOTS, check=within(1, 4096))
    capacity = t.get("dram_capacity_bytes", float, default=float(DEFAULT_DRAM_CAPACITY),
                     check=within(1e6, 1e15, " B"))
    t.done()
    return LLMSettings(slots or DEFAULT_SLOTS, capacity or float(DEFAULT_DRAM_CAPACITY))


def npu_bandwidth(hw: Hardware) -> Leftover:
    """The DRAM bandwidth of all engines together while all of them move data."""
    e = hw.compute.engines
    one = engine_bandwidth(hw.memory, e)
    return Leftover(one.period_s, one.edges, one.rates * e)


class Pass(NamedTuple):
    """One prefill or decode step: per-block phases (compute s, DRAM-time bytes), the head's,
    and its totals."""

    block: tuple[tuple[float, float], ...]
    head: tuple[float, float]
    macs: float
    vector_ops: float
    sram_bytes: float
    dram_bytes: float          # bytes really moved


class Cost(NamedTuple):
    seconds: float
    macs: float
    sram_bytes: float
    reads: float
    writes: float
    vector_ops: float = 0.0


class DecoderCost:
    """Prefill and decode-step costs of one decoder on one NPU."""

    def __init__(self, hw: Hardware, shape: DecoderShape):
        self.hw, self.shape = hw, shape
        self.engines = hw.compute.engines
        self.elem = hw.compute.element_bytes
        self.lo = npu_bandwidth(hw)
        self.constant_rate = self.lo.rates[0] if self.lo.constant else None
        self._weights: dict[int, tuple[Cost, ...]] = {}

    # ------------------------------------------------------------------ sizes

    @property
    def weight_bytes(self) -> float:
        return self.shape.params * self.elem

    @property
    def kv_bytes_per_token(self) -> float:
        return self.shape.kv_elems_per_token() * self.elem

    def kv_bytes(self, context_tokens: int) -> float:
        """One sequence's KV cache at `context_tokens` tokens."""
        return self.kv_bytes_per_token * context_tokens

    # ------------------------------------------------------------------ pieces

    def _gemm(self, m: int, k: int, n: int, groups: int = 1, split_n: bool = True) -> Cost:
        """A GEMM (groups of (m x k) @ (k x n)) split over the engines; cycles of one share."""
        c = self.hw.compute
        e = self.engines
        share = Gemm(m, math.ceil(n / e), k, groups) if split_n else Gemm(m, n, k, math.ceil(groups / e))
        seconds = array_cycles(c, share) / c.clock_hz
        sram = operand_sram_elems(dataflow_for(c, share), c.array_rows, c.array_cols, share) * e * self.elem
        return Cost(seconds, float(m) * n * k * groups, sram, 0.0, 0.0)

    def _vector_s(self, ops: float) -> float:
        c = self.hw.compute
        return math.ceil(ops / (c.vector_lanes * self.engines)) / c.clock_hz

    def _phase(self, cost: Cost, reads: float, writes: float, vector_ops: float = 0.0) -> tuple[Cost, tuple[float, float]]:
        seconds = max(cost.seconds, self._vector_s(vector_ops)) if vector_ops else cost.seconds
        full = Cost(seconds, cost.macs, cost.sram_bytes + reads + writes, reads, writes, vector_ops)
        return full, (seconds, npu_cost(self.hw.memory, reads, writes))

    def _spill(self, in_elems: float, out_elems: float) -> tuple[float, float]:
        """Activation bytes a prefill GEMM reads and writes in DRAM (0, 0 when they fit)."""
        b = self.elem
        if (in_elems + out_elems) * b / self.engines > self.hw.memory.sram_bytes / 2:
            return in_elems * b, out_elems * b
        return 0.0, 0.0

    def _projections(self, m: int) -> tuple[Cost, ...]:
        """qkv, o, gate/up, down of one block and the LM head for m rows (cached by m)."""
        if m not in self._weights:
            s = self.shape
            self._weights[m] = (self._gemm(m, s.hidden, s.q_dim + 2 * s.kv_dim),
                                self._gemm(m, s.q_dim, s.hidden),
                                self._gemm(m, s.hidden, 2 * s.ffn),
                                self._gemm(m, s.ffn, s.hidden))
        return self._weights[m]

    def _head(self, rows: int, lookups: int) -> tuple[Cost, tuple[float, float]]:
        s = self.shape
        gemm = self._gemm(rows, s.hidden, s.vocab)
        return self._phase(gemm, (s.head_params + lookups * s.hidden) * self.elem, 0.0)

    def _attention(self, gemms: list[Gemm], vector_ops: float, reads: float) -> tuple[Cost, tuple[float, float]]:
        total = Cost(0.0, 0.0, 0.0, 0.0, 0.0)
        for g in gemms:
            part = self._gemm(g.m, g.k, g.n, g.groups, split_n=False)
            total = Cost(total.seconds + part.seconds, total.macs + part.macs,
                         total.sram_bytes + part.sram_bytes, 0.0, 0.0)
        return self._phase(total, reads, 0.0, vector_ops)

    @staticmethod
    def _pass(parts: list[tuple[Cost, tuple[float, float]]], head: tuple[Cost, tuple[float, float]],
              layers: int) -> Pass:
        costs = [c for c, _ in parts]
        total = lambda f: layers * sum(getattr(c, f) for c in costs) + getattr(head[0], f)
        moved = total("reads") + total("writes")
        return Pass(tuple(p for _, p in parts), head[1], total("macs"), total("vector_ops"),
                    total("sram_bytes"), moved)

    # ------------------------------------------------------------------ passes

    def decode(self, batch: int, cached: int) -> Pass:
        """One decode step of `batch` sequences holding `cached` tokens of KV in all."""
        s, b = self.shape, self.elem
        qkv, o, up, down = self._projections(batch)
        group = s.heads // s.kv_heads
        kv_new = 2 * s.kv_dim * batch * b
        scores = [Gemm(group, max(cached, 1), s.head_dim, s.kv_heads),
                  Gemm(group, s.head_dim, max(cached, 1), s.kv_heads)]
        parts = [self._phase(qkv, (s.hidden * (s.q_dim + 2 * s.kv_dim) + 2 * s.hidden) * b, kv_new,
                             2 * batch * s.hidden),
                 self._attention(scores, 3 * s.heads * cached, 2 * s.kv_dim * cached * b),
                 self._phase(o, s.q_dim * s.hidden * b, 0.0),
                 self._phase(up, 2 * s.hidden * s.ffn * b, 0.0, 3 * batch * s.ffn),
                 self._phase(down, s.ffn * s.hidden * b, 0.0, 4 * batch * s.hidden)]
        return self._pass(parts, self._head(batch, batch), s.layers)

    def prefill(self, prompts: list[int]) -> Pass:
        """The prefill of prompts of these token counts, together."""
        s, b, t = self.shape, self.elem, sum(prompts)
        qkv, o, up, down = self._projections(t)
        qkv_out = s.q_dim + 2 * s.kv_dim
        attention = [g for n in prompts for g in (Gemm(n, n, s.head_dim, s.heads),
                                                  Gemm(n, s.head_dim, n, s.heads))]
        parts = [self._weighted(qkv, s.hidden * qkv_out + 2 * s.hidden, t * s.hidden, t * qkv_out,
                                2 * s.kv_dim * t * b, 2 * t * s.hidden),
                 self._attention(attention, 3 * s.heads * sum(n * n for n in prompts), 0.0),
                 self._weighted(o, s.q_dim * s.hidden, t * s.q_dim, t * s.hidden, 0.0, 0.0),
                 self._weighted(up, 2 * s.hidden * s.ffn, t * s.hidden, 2 * t * s.ffn, 0.0, 3 * t * s.ffn),
                 self._weighted(down, s.ffn * s.hidden, t * s.ffn, t * s.hidden, 0.0, 4 * t * s.hidden)]
        return self._pass(parts, self._head(len(prompts), t), s.layers)

    def _weighted(self, gemm: Cost, weights: int, in_elems: float, out_elems: float,
                  extra_writes: float, vector_ops: float) -> tuple[Cost, tuple[float, float]]:
        spill_in, spill_out = self._spill(in_elems, out_elems)
        return self._phase(gemm, weights * self.elem + spill_in, spill_out + extra_writes, vector_ops)

    # ------------------------------------------------------------------ time and energy

    def end(self, p: Pass, start_s: float) -> float:
        """When a pass starting at `start_s` ends, under the bus masters' contention."""
        db = self.hw.memory.double_buffering
        if self.constant_rate is not None:
            r = self.constant_rate
            one = (lambda c, d: max(c, d / r)) if db else (lambda c, d: c + d / r)
            return start_s + self.shape.layers * sum(one(c, d) for c, d in p.block) + one(*p.head)
        t, finish = start_s, self.lo.finish
        for _ in range(self.shape.layers):
            for c, d in p.block:
                t = max(t + c, finish(t, d)) if db else finish(t, d) + c
        c, d = p.head
        return max(t + c, finish(t, d)) if db else finish(t, d) + c

    def dynamic(self, p: Pass) -> en.Dynamic:
        return en.dynamic(self.hw, p.macs, p.vector_ops, p.sram_bytes, p.dram_bytes)

    def check_fits(self, settings: LLMSettings, workload: Decoder) -> None:
        """The weights must fit in the DRAM capacity, with room for some KV cache."""
        if self.weight_bytes >= settings.dram_capacity_bytes:
            raise config_error(self.hw.source, "llm.dram_capacity_bytes", settings.dram_capacity_bytes,
                               f"holds no KV cache beside the {self.weight_bytes:.0f} B of "
                               f"{workload.name} weights")

    def describe(self, settings: LLMSettings) -> dict[str, Any]:
        return {"weight_bytes": self.weight_bytes, "kv_bytes_per_token": self.kv_bytes_per_token,
                "kv_budget_bytes": settings.dram_capacity_bytes - self.weight_bytes,
                "npu_dram_bytes_per_s": float(np.mean(self.lo.rates)) if self.lo.constant
                else self.lo.mean_bytes_per_s}
