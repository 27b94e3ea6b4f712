"""The synthetic latency model: service times from a distribution, served by a `ServicePool`.

System file (keys fixed by DESIGN.md)::

    name = "synthetic_2ms"
    adapter = "synthetic"
    [service]
    distribution = "deterministic"  # | "exponential" | "lognormal" | "empirical"
    mean_s = 0.002                  # mean service time of one batch of one sample
    cv = 0.5                        # lognormal only: coefficient of variation
    samples_file = "x.csv"          # empirical only: one service time (s) per line, beside the file
    servers = 1                     # parallel engines behind one FIFO queue
    [batching]
    max_batch = 1                   # samples per batch
    timeout_s = 0.0                 # how long a partial batch waits for more samples
    per_sample_s = 0.0              # added service time per extra sample in a batch

With a `[tokens]` table the SUT is an LLM server instead: `servers` become decode slots and
each request reports its first token and output token count (harness.sut.synthetic_tokens has
the table's keys and the model); `[service]` then holds only `servers`, and `[batching]` does
not apply (continuous batching).

A batch of b samples takes base + per_sample_s * (b - 1), base drawn from the distribution
(mean `mean_s`; lognormal with sigma^2 = ln(1 + cv^2)). Draws come from the SUT's own seeded
stream, in blocks, so a run is reproducible and fast.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.spec import Reader, batching, non_negative, one_of, within

SERVICE_S = within(1e-9, 3600, " s")   # one batch's service time
MAX_SERVERS = 100_000
from harness.sut.pool import SimulatedPoolSUT, ServicePool
from harness.sut.service import Service, most_batches
from harness.sut.synthetic_tokens import DecodeSlots, TokenModel, load_tokens
from harness.workloads import Workload

DISTRIBUTIONS = ("deterministic", "exponential", "lognormal", "empirical")
_BLOCK = 1 << 16


@dataclass(frozen=True)
class SyntheticConfig:
    distribution: str
    mean_s: float
    cv: float
    samples_file: str
    samples: tuple[float, ...]
    servers: int
    max_batch: int
    timeout_s: float
    per_sample_s: float
    tokens: TokenModel | None = None   # an LLM server (decode slots) instead of [service] times


def read_samples(path: Path, r: Reader) -> tuple[float, ...]:
    """Service times from an empirical file: one positive number (seconds) per line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        r.problem("samples_file", str(path), f"cannot read: {exc.strerror or exc}")
        return ()
    except UnicodeDecodeError:
        r.problem("samples_file", str(path), "is not UTF-8 text")
        return ()
    values = []
    for number, line in enumerate(lines, 1):
        text = line.split(",")[0].strip()
        if not text or text.startswith("#"):
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if SERVICE_S(value) if math.isfinite(value) else True:
            r.problems.add(f"{path}:{number}", "", text, "must be a service time in seconds from "
                           "1e-09 to 3600")
            return ()
        values.append(value)
    if not values:
        r.problem("samples_file", str(path), "holds no service times")
    return tuple(values)


def _load_service(s: Reader, base: Path | None) -> dict[str, Any]:
    distribution = s.get("distribution", str, default="deterministic", check=one_of(*DISTRIBUTIONS))
    empirical = distribution == "empirical"
    mean_s = s.get("mean_s", float, default=0.0 if empirical else None, check=SERVICE_S)
    cv = s.get("cv", float, default=0.5, check=within(1e-6, 100))
    samples_file = s.get("samples_file", str, default="" if not empirical else None)
    samples: tuple[float, ...] = ()
    if empirical and samples_file:
        path = Path(samples_file)
        samples = read_samples(path if path.is_absolute() or base is None else base / path, s)
        mean_s = float(np.mean(samples)) if samples else 0.0
    servers = s.get("servers", int, default=1, check=within(1, MAX_SERVERS))
    return dict(distribution=distribution, mean_s=mean_s or 0.0, cv=cv, samples_file=samples_file or "",
                samples=samples, servers=servers)


def load_batching(b: Reader) -> dict[str, Any]:
    """The [batching] table shared by simulated SUTs."""
    max_batch, timeout_s = batching(b)
    return dict(max_batch=max_batch, timeout_s=timeout_s,
                per_sample_s=b.get("per_sample_s", float, default=0.0, check=non_negative))


class ServiceSampler:
    """Base service times drawn in blocks from a seeded generator."""

    def __init__(self, config: SyntheticConfig, seed: int):
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.block: list[float] = []

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        """One block of base times, in the order they are used."""
        c = self.config
        if c.distribution == "exponential":
            return rng.exponential(c.mean_s, _BLOCK)
        if c.distribution == "lognormal":
            sigma2 = math.log1p(c.cv * c.cv)
            return rng.lognormal(math.log(c.mean_s) - sigma2 / 2, math.sqrt(sigma2), _BLOCK)
        return rng.choice(np.asarray(c.samples), _BLOCK)

    def _refill(self) -> None:
        self.block = self._draw(self.rng)[::-1].tolist()

    def draws(self, calls: int) -> np.ndarray:
        """The base times of the next `calls` calls (at least), as calls would draw them, from
        a copy of the generator (empty when deterministic: every base is mean_s)."""
        if self.config.distribution == "deterministic":
            return np.empty(0)
        if self.block:  # a run starts with a fresh sampler; keep the arithmetic simple
            raise RuntimeError("draws() of a sampler already in use")
        rng = copy.deepcopy(self.rng)
        return np.concatenate([self._draw(rng) for _ in range(-(-max(calls, 1) // _BLOCK))])

    def __call__(self, batch: int, start_s: float, engine: int) -> float:
        c = self.config
        if c.distribution == "deterministic":
            base = c.mean_s
        else:
            if not self.block:
                self._refill()
            base = self.block.pop()
        return base + c.per_sample_s * (batch - 1)


class SyntheticSUT(SimulatedPoolSUT):
    def __init__(self, name: str, config: SyntheticConfig, seed: int):
        self.name = name
        self.config = config
        self.pool = ServicePool(config.servers, config.max_batch, config.timeout_s,
                                ServiceSampler(config, seed))

    def compiled_service(self, loadgen):
        c = self.config
        return Service("draws", self.pool.service.draws(most_batches(loadgen)), c.mean_s,
                       c.per_sample_s)

    def finish(self, duration_s: float) -> dict[str, Any]:
        busy = self.pool.busy_s / (duration_s * self.config.servers) if duration_s > 0 else None
        return {"sut_stats": {"batches": self.pool.batches, "utilization": busy}}


def _slots_only(service: Reader, batching: Reader) -> dict[str, Any]:
    """[service] of a token model: only `servers` (decode slots); no [batching]."""
    servers = service.get("servers", int, default=1, check=within(1, MAX_SERVERS))
    for key in list(service.data):
        if key != "servers":
            service.problem(key, service.data[key], "not used with [tokens]: a request holds a slot "
                            "for first_token_s + (tokens - 1) * per_token_s")
    for key in list(batching.data):
        batching.problem(key, batching.data[key], "not used with [tokens]: slots batch continuously")
    return dict(distribution="deterministic", mean_s=0.0, cv=0.5, samples_file="", samples=(),
                servers=servers or 1, max_batch=1, timeout_s=0.0, per_sample_s=0.0)


class SyntheticAdapter:
    name = "synthetic"
    time_mode = "virtual"
    tables = ("service", "batching", "tokens")

    def load(self, r: Reader, path: Path | None) -> SyntheticConfig:
        if r.has("tokens"):
            tokens_table = r.table("tokens")
            model = load_tokens(tokens_table)
            config = _slots_only(r.table("service"), r.table("batching"))
            return SyntheticConfig(**config, tokens=model)
        service_table, batching_table = r.table("service", required=True), r.table("batching")
        service = _load_service(service_table, path.parent if path else None)
        batching = load_batching(batching_table)
        service_table.done()
        batching_table.done()
        return SyntheticConfig(**service, **batching)

    def describe(self, config: SyntheticConfig) -> dict[str, Any]:
        if config.tokens is not None:
            return {"service": {"servers": config.servers}, "tokens": config.tokens.describe()}
        return {"service": {"distribution": config.distribution, "mean_s": config.mean_s,
                            "cv": config.cv, "samples_file": config.samples_file,
                            "servers": config.servers},
                "batching": {"max_batch": config.max_batch, "timeout_s": config.timeout_s,
                             "per_sample_s": config.per_sample_s}}

    def saturation_qps(self, config: SyntheticConfig, workload: Workload) -> float | None:
        """Server queries/s (one sample each) the pool cannot sustain: every server busy with
        full batches of mean service time (more samples per batch never cost more per sample);
        None for a token model."""
        if config.tokens is not None:
            return None
        b = config.max_batch
        return config.servers * b / (config.mean_s + config.per_sample_s * (b - 1))

    def build(self, config: SyntheticConfig, workload: Workload, seed: int) -> SyntheticSUT | DecodeSlots:
        if config.tokens is not None:
            return DecodeSlots(config.tokens, config.servers, seed)
        return SyntheticSUT("synthetic", config, seed)


ADAPTER = SyntheticAdapter()
