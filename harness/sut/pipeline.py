"""A pipeline of engines behind one FIFO queue (`compute.schedule = "pipeline"`), in virtual time.

Stage 0 (engine 0) takes batches from the queue exactly as ServicePool's one engine does
(dynamic batching: full, timed out, or final). When a stage ends a batch, the batch waits for
the next stage (FIFO; the buffer between stages is unbounded - its activations are in DRAM
already) and starts as soon as that engine is free; the last stage completes its queries. All
stages share the DRAM, so the SUT's `shared` protocol learns every end (harness.accel.joint):
engine s always runs stage s. Only the event loop runs a pipeline (no compiled kernel).
"""

from __future__ import annotations

from collections import deque

from harness.sut.pool import ServicePool, Shared


class PipelinePool(ServicePool):
    def __init__(self, stages: int, max_batch: int, timeout_s: float, shared: Shared):
        super().__init__(1, max_batch, timeout_s, self._no_service, eager=False, shared=shared)
        self.stages = stages

    @staticmethod
    def _no_service(samples: int, start_s: float, engine: int) -> float:
        raise RuntimeError("a pipeline learns its batches' ends from the shared DRAM")

    def start(self, env, done) -> None:
        super().start(env, done)
        self.between: list[deque] = [deque() for _ in range(self.stages)]  # batches waiting per stage

    def _finish(self, engine: int, batch: list[tuple[int, int]]) -> None:
        """Stage `engine` ended `batch`: it waits for the next stage, or the last one completes it."""
        if engine + 1 < self.stages:
            self.between[engine + 1].append(batch)
            self._advance(engine + 1)
        else:
            for query, n in batch:
                self.done.complete(query, n)
        if engine == 0:
            self.idle.append(0)
            self._dispatch()
        else:
            self._advance(engine)

    def _advance(self, stage: int) -> None:
        """Start the stage's next waiting batch if its engine is free."""
        if stage in self.running or not self.between[stage]:
            return
        batch = self.between[stage].popleft()
        self.running[stage] = (batch, self.env.now)
        self._expect(self.shared.begin(stage, sum(n for _, n in batch), self.env.now))
