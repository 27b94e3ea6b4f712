"""The accelerator adapter serving a decoder LLM: continuous batching over decode slots.

The NPU runs one pass at a time (its engines together, harness.accel.llm), iteration by
iteration, as vLLM-style servers do:

1. admit: waiting requests (FIFO) take free decode slots while their KV cache (input + output
   tokens) fits in what the DRAM capacity leaves beside the weights and the KV of the sequences
   already admitted; a request whose KV alone exceeds that budget is refused (the sample fails,
   saying so) instead of waiting forever;
2. if requests were admitted, one prefill pass over all of them: at its end each reports its
   first token (TTFT), and a one-token request completes;
3. otherwise one decode step of every active sequence: weights read once, each sequence's KV;
   at its end each has one more token, and those with all their tokens complete (TPOT).

Each pass starts when the previous one ends (or when a request arrives at an idle NPU) and its
duration depends on its start: the bus masters take their DRAM share first. Energy: one row
per engine per pass in the accelerator's batch log (each engine does its share of the work), so
power gating, wake-ups and peak power come from harness.accel.energy.run_energy as for any
accelerator run; joules per token divide by the output tokens of the run.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any

from harness.accel.config import Hardware
from harness.accel.energy import run_energy
from harness.accel.llm import DecoderCost, LLMSettings
from harness.accel.runlog import BatchLog
from harness.workloads.decoder import Decoder


class Sequence:
    __slots__ = ("query", "inputs", "outputs", "kv", "joined", "ends")

    def __init__(self, query: int, inputs: int, outputs: int, kv: float):
        self.query, self.inputs, self.outputs, self.kv = query, inputs, outputs, kv
        self.joined = self.ends = 0


class LLMServer:
    def __init__(self, hardware: Hardware, workload: Decoder, settings: LLMSettings):
        self.name = hardware.name
        self.hardware, self.workload, self.settings = hardware, workload, settings
        self.cost = DecoderCost(hardware, workload.shape)
        self.cost.check_fits(settings, workload)
        self.budget = settings.dram_capacity_bytes - self.cost.weight_bytes

    def start(self, env, done) -> None:
        self.env, self.done = env, done
        self.waiting: deque[Sequence] = deque()
        self.active: list[tuple[int, int, Sequence]] = []   # heap by the step count it ends at
        self.steps = 0              # decode steps so far
        self.cached = 0             # KV tokens held by the active sequences
        self.reserved = 0.0         # KV bytes reserved by the active sequences
        self.busy = False
        self.log = BatchLog()
        self.stats = {"prefills": 0, "decode_steps": 0, "decode_s": 0.0, "prefill_s": 0.0,
                      "decode_sequences": 0, "refused": 0, "tokens": 0, "peak_kv_bytes": 0.0, "macs": 0.0}

    def issue(self, query: int, samples) -> None:
        for sample in samples:
            inputs, outputs = self.workload.sample_lengths(int(sample))
            kv = self.cost.kv_bytes(inputs + outputs)
            if kv > self.budget:
                self.stats["refused"] += 1
                self.done.fail(query, f"KV cache of {kv:.0f} B ({inputs} + {outputs} tokens) exceeds "
                               f"the {self.budget:.0f} B the DRAM capacity leaves beside the weights")
                continue
            self.waiting.append(Sequence(query, inputs, outputs, kv))
        if not self.busy:
            self.busy = True
            self.env.at(self.env.now, self._iterate)

    def flush(self) -> None:
        pass

    # ------------------------------------------------------------------ iterations

    def _admit(self) -> list[Sequence]:
        new: list[Sequence] = []
        free = self.settings.decode_slots - len(self.active)
        while self.waiting and len(new) < free and self.reserved + self.waiting[0].kv <= self.budget:
            seq = self.waiting.popleft()
            self.reserved += seq.kv
            new.append(seq)
        self.stats["peak_kv_bytes"] = max(self.stats["peak_kv_bytes"], self.reserved)
        return new

    def _iterate(self) -> None:
        now = self.env.now
        new = self._admit()
        if new:
            end = self._prefill(new, now)
        elif self.active:
            end = self._decode(now)
        else:
            self.busy = False
            return
        self.env.at(end, self._iterate)

    def _run(self, p, start: float, completed: int) -> float:
        end = self.cost.end(p, start)
        dyn = self.cost.dynamic(p)
        self.stats["macs"] += p.macs
        e = self.hardware.compute.engines
        for engine in range(e):
            self.log.append(engine, start, end, completed if engine == 0 else 0,
                            dyn.mac / e, dyn.sram / e, dyn.dram / e, p.dram_bytes / e)
        return end

    def _prefill(self, new: list[Sequence], now: float) -> float:
        ones = [s for s in new if s.outputs == 1]
        end = self._run(self.cost.prefill([s.inputs for s in new]), now, len(ones))
        self.stats["prefills"] += 1
        self.stats["prefill_s"] += end - now
        for seq in new:
            self.done.first_token(seq.query, end)
            if seq.outputs == 1:
                self._complete(seq, end)
                continue
            seq.joined, seq.ends = self.steps, self.steps + seq.outputs - 1
            heapq.heappush(self.active, (seq.ends, id(seq), seq))
            self.cached += seq.inputs
        return end

    def _decode(self, now: float) -> float:
        batch = len(self.active)
        finishing = sum(1 for ends, _, _ in self.active if ends == self.steps + 1)
        end = self._run(self.cost.decode(batch, self.cached), now, finishing)
        self.steps += 1
        self.cached += batch
        st = self.stats
        st["decode_steps"] += 1
        st["decode_s"] += end - now
        st["decode_sequences"] += batch
        while self.active and self.active[0][0] == self.steps:
            seq = heapq.heappop(self.active)[2]
            self.cached -= seq.inputs + seq.outputs - 1
            self._complete(seq, end)
        return end

    def _complete(self, seq: Sequence, at: float) -> None:
        self.reserved -= seq.kv
        self.stats["tokens"] += seq.outputs
        self.done.complete(seq.query, 1, at, tokens=seq.outputs)

    # ------------------------------------------------------------------ after the run

    def finish(self, duration_s: float) -> dict[str, Any]:
        cols = self.log.arrays()
        end_s = float(cols["end_s"].max()) if len(cols["end_s"]) else duration_s
        energy = run_energy(self.hardware, cols, end_s - duration_s, end_s, self.stats["macs"])
        tokens = self.stats["tokens"]
        energy["joules_per_token"] = energy["total_j"] / tokens if tokens else None
        return {"energy": energy, "llm": self._summary()}

    def _summary(self) -> dict[str, Any]:
        st, c = self.stats, self.cost
        steps = st["decode_steps"]
        return {**self.settings.describe(), **c.describe(self.settings),
                "kv_bytes_per_sequence_max": c.kv_bytes(int(max(i + o for i, o in zip(*self.workload.lengths)))),
                "peak_kv_bytes": st["peak_kv_bytes"], "refused_sequences": st["refused"],
                "prefill_passes": st["prefills"], "prefill_s": st["prefill_s"],
                "decode_steps": steps, "decode_s": st["decode_s"],
                "mean_decode_batch": st["decode_sequences"] / steps if steps else None,
                "mean_decode_step_s": st["decode_s"] / steps if steps else None,
                "output_tokens": st["tokens"]}
