"""The synthetic adapter's token model: an LLM server as `servers` decode slots, in virtual time.

System file::

    name = "llm_synthetic"
    adapter = "synthetic"
    [service]
    servers = 8                 # decode slots: sequences generated at once
    [tokens]
    output_tokens = 256         # a number, or a distribution:
    # output_tokens = { distribution = "uniform", min = 32, max = 1024 }
    # output_tokens = { distribution = "lognormal", mean = 300, cv = 0.6 }
    first_token_s = 0.05        # prefill: from a slot taking the request to its first token
    per_token_s = 0.02          # decode: each further token

A request waits in one FIFO queue for a free slot (continuous batching: a slot freed by a
finished sequence takes the next request at once, with no batch boundaries). In a slot it
produces its first token after `first_token_s` and each further one `per_token_s` later, so it
holds the slot for first_token_s + (tokens - 1) * per_token_s. Approximation, stated: a slot's
speed does not depend on how many other slots are busy (no shared-compute interference), and
token counts are drawn per issued sample from the SUT's seeded stream, not fixed per dataset
sample. With one slot and fixed times the queue is M/D/1: TTFT = its waiting time +
first_token_s and TPOT = per_token_s exactly.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.spec import Reader, non_negative, one_of, positive

TOKEN_DISTRIBUTIONS = ("deterministic", "uniform", "lognormal")
_BLOCK = 1 << 16


@dataclass(frozen=True)
class TokenModel:
    distribution: str        # of output tokens per request
    tokens: int              # deterministic count; mean for lognormal
    low: int                 # uniform bounds (inclusive)
    high: int
    cv: float
    first_token_s: float
    per_token_s: float

    def describe(self) -> dict[str, Any]:
        counts: Any = self.tokens
        if self.distribution == "uniform":
            counts = {"distribution": "uniform", "min": self.low, "max": self.high}
        elif self.distribution == "lognormal":
            counts = {"distribution": "lognormal", "mean": self.tokens, "cv": self.cv}
        return {"output_tokens": counts, "first_token_s": self.first_token_s,
                "per_token_s": self.per_token_s}


def _whole(v: int) -> str | None:
    return None if v >= 1 else "must be >= 1"


def _counts(t: Reader) -> dict[str, Any]:
    """`output_tokens`: a whole number, or a table naming a distribution."""
    fixed = dict(distribution="deterministic", tokens=1, low=1, high=1, cv=0.0)
    if not isinstance(t.data.get("output_tokens"), dict):
        return {**fixed, "tokens": t.get("output_tokens", int, default=1, check=_whole) or 1}
    d = t.table("output_tokens")
    kind = d.get("distribution", str, check=one_of(*TOKEN_DISTRIBUTIONS)) or "deterministic"
    if kind == "uniform":
        low, high = d.get("min", int, default=1, check=_whole), d.get("max", int, check=_whole)
        if low and high and high < low:
            d.problem("max", high, f"must be >= min ({low})")
        out = {**fixed, "distribution": kind, "low": low or 1, "high": max(high or 1, low or 1)}
    elif kind == "lognormal":
        out = {**fixed, "distribution": kind, "tokens": d.get("mean", int, check=_whole) or 1,
               "cv": d.get("cv", float, default=0.5, check=positive) or 0.5}
    else:
        out = {**fixed, "tokens": d.get("mean", int, check=_whole) or 1}
    d.done()
    return out


def load_tokens(t: Reader) -> TokenModel:
    counts = _counts(t)
    first = t.get("first_token_s", float, check=positive)
    per = t.get("per_token_s", float, check=non_negative)
    t.done()
    return TokenModel(**counts, first_token_s=first or 0.0, per_token_s=per or 0.0)


class TokenCounts:
    """Output tokens per request, drawn in blocks from a seeded generator."""

    def __init__(self, model: TokenModel, seed: int):
        self.model, self.rng, self.block = model, np.random.default_rng(seed), []

    def _refill(self) -> None:
        m = self.model
        if m.distribution == "uniform":
            block = self.rng.integers(m.low, m.high + 1, _BLOCK)
        else:
            sigma2 = math.log1p(m.cv * m.cv)
            raw = self.rng.lognormal(math.log(m.tokens) - sigma2 / 2, math.sqrt(sigma2), _BLOCK)
            block = np.maximum(np.rint(raw), 1).astype(np.int64)
        self.block = block[::-1].tolist()

    def __call__(self) -> int:
        if self.model.distribution == "deterministic":
            return self.model.tokens
        if not self.block:
            self._refill()
        return self.block.pop()


class DecodeSlots:
    """The SUT: FIFO over `slots`; each request's first token and completion are known when it
    arrives (start = max(arrival, earliest free slot)), so they are reported ahead of time."""

    name = "synthetic"

    def __init__(self, model: TokenModel, slots: int, seed: int):
        self.model, self.slots = model, slots
        self.counts = TokenCounts(model, seed)
        self.busy_s, self.requests, self.tokens = 0.0, 0, 0

    def start(self, env, done) -> None:
        self.env, self.done = env, done
        self.free = [(0.0, slot) for slot in range(self.slots)]

    def _serve(self, query: int, arrival: float) -> None:
        m, done = self.model, self.done
        ready, slot = self.free[0]
        start = ready if ready > arrival else arrival
        tokens = self.counts()
        first = start + m.first_token_s
        end = first + (tokens - 1) * m.per_token_s
        heapq.heapreplace(self.free, (end, slot))
        self.busy_s += end - start
        self.tokens += tokens
        done.first_token(query, first)
        done.complete(query, 1, end, tokens=tokens)

    def issue(self, query: int, samples) -> None:
        now = self.env.now
        for _ in range(len(samples)):
            self._serve(query, now)
        self.requests += len(samples)

    def issue_schedule(self, arrivals, count: int) -> None:
        """The whole open-loop schedule at once (see harness.sut.base)."""
        serve = self._serve
        for query in range(count):
            serve(query, arrivals[query])
        self.requests += count

    def flush(self) -> None:
        pass

    def finish(self, duration_s: float) -> dict[str, Any]:
        busy = self.busy_s / (duration_s * self.slots) if duration_s > 0 else None
        return {"sut_stats": {"requests": self.requests, "generated_tokens": self.tokens,
                              "slot_utilization": busy}}
