'''Decoder-only LLM workloads: a transformer's published shapes and its request lengths.

    name = "llama3.1-8b"
    benchmark = "llama3.1-8b"          # the MLPerf benchmark whose settings apply
    [decoder]                          # the model's config.json, in its own words
    layers = 32                        # num_hidden_layers
    hidden = 4096                      # hidden_size
    heads = 32                         # num_attention_heads
    kv_heads = 8                       # num_key_value_heads (GQA; = heads without it)
    ffn = 14336                        # intermediate_size (gated SiLU MLP: gate, up, down)
    vocab = 128256                     # vocab_size
    head_dim = 128                     # default hidden / heads
    tied_embeddings = false            # tie_word_embeddings: the LM head reuses the table
    [tokens]                           # request lengths, one pair per dataset sample
    dataset_samples = 13368            # how many samples the dataset holds
    seed = 0                           # the lengths are drawn once, from this seed
    input_tokens = 512                 # a whole number, or a distribution:
    output_tokens = { distribution = "lognormal", mean = 114, cv = 0.3, min = 1, max = 128 }
    # { distribution = "uniform", min = 32, max = 1024 }

A lognormal's `mean` and `cv` are those of the distribution before it is rounded and clipped
to [min, max]. Sample i of a run (the load generator's sample index) has the lengths of dataset
sample i mod dataset_samples, so a run's lengths depend on its sample indices, not on timing.

`layers` of the Workload (what `bench profile` costs) is the prefill of one request of the
median input length; the accelerator adapter prices prefill and decode itself
(harness.accel.llm).
'''

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from harness import catalog
from harness.spec import Problems, Reader, apply_overrides, one_of, positive, read_toml, within
from harness.workloads.model import Layer, Workload
from harness.workloads.source import fingerprint_all, raise_unique, read_identity

DISTRIBUTIONS = ("fixed", "uniform", "lognormal")
MAX_DIM = 1 << 20
MAX_TOKENS = 1 << 20
MAX_SAMPLES = 10_000_000


@dataclass(frozen=True)
class Lengths:
    """Tokens per request: fixed, uniform on [low, high], or lognormal clipped to [low, high]."""

    distribution: str
    mean: float
    low: int
    high: int
    cv: float = 0.0

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.distribution == "fixed":
            return np.full(n, int(self.mean), dtype=np.int64)
        if self.distribution == "uniform":
            return rng.integers(self.low, self.high + 1, n).astype(np.int64)
        sigma2 = math.log1p(self.cv * self.cv)
        raw = rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), n)
        return np.clip(np.rint(raw), self.low, self.high).astype(np.int64)

    def describe(self) -> Any:
        if self.distribution == "fixed":
            return int(self.mean)
        out = {"distribution": self.distribution, "min": self.low, "max": self.high}
        if self.distribution == "lognormal":
            out.update(mean=self.mean, cv=self.cv)
        return out


@dataclass(frozen=True)
class DecoderShape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    head_dim: int
    tied_embeddings: bool = False

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def block_params(self) -> int:
        """One transformer block: q, k, v, o projections, gate/up/down, two RMSNorm scales."""
        attention = self.hidden * (self.q_dim + 2 * self.kv_dim) + self.q_dim * self.hidden
        return attention + 3 * self.hidden * self.ffn + 2 * self.hidden

    @property
    def head_params(self) -> int:
        """The LM head (vocab x hidden) and the final norm; tied: the head is the table."""
        return self.vocab * self.hidden + self.hidden

    @property
    def params(self) -> int:
        table = 0 if self.tied_embeddings else self.vocab * self.hidden
        return self.layers * self.block_params + self.head_params + table

    def kv_elems_per_token(self) -> int:
        """K and V of every layer for one token: 2 x layers x kv_heads x head_dim."""
        return 2 * self.layers * self.kv_dim

    def describe(self) -> dict:
        return {"layers": self.layers, "hidden": self.hidden, "heads": self.heads,
                "kv_heads": self.kv_heads, "ffn": self.ffn, "vocab": self.vocab,
                "head_dim": self.head_dim, "tied_embeddings": self.tied_embeddings,
                "params": self.params, "kv_elems_per_token": self.kv_elems_per_token()}


@dataclass(frozen=True)
class Decoder(Workload):
    shape: DecoderShape | None = None
    input_tokens: Lengths | None = None
    output_tokens: Lengths | None = None
    dataset_samples: int = 1
    lengths_seed: int = 0

    @cached_property
    def lengths(self) -> tuple[np.ndarray, np.ndarray]:
        """(input, output) tokens of every dataset sample, drawn once from the seed."""
        rng = np.random.default_rng(self.lengths_seed)
        inputs = self.input_tokens.draw(rng, self.dataset_samples)
        return inputs, self.output_tokens.draw(rng, self.dataset_samples)

    def sample_lengths(self, sample: int) -> tuple[int, int]:
        inputs, outputs = self.lengths
        i = sample % self.dataset_samples
        return int(inputs[i]), int(outputs[i])

    def describe(self) -> dict:
        inputs, outputs = self.lengths
        return {**super().describe(), "decoder": self.shape.describe(),
                "tokens": {"dataset_samples": self.dataset_samples, "seed": self.lengths_seed,
                           "input_tokens": self.input_tokens.describe(),
                           "output_tokens": self.output_tokens.describe(),
                           "input_tokens_mean": float(inputs.mean()),
                           "output_tokens_mean": float(outputs.mean())}}


def is_decoder_file(path: Path) -> bool:
    return path.suffix.lower() == ".toml" and "decoder" in read_toml(path, catalog.label(path))


def _read_shape(r: Reader) -> DecoderShape | None:
    d = r.table("decoder", required=True)
    dim = within(1, MAX_DIM)
    keys = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab")
    got = {k: d.get(k, int, check=dim) for k in keys}
    heads, hidden = got["heads"], got["hidden"]
    default_hd = hidden // heads if heads and hidden and hidden % heads == 0 else None
    head_dim = d.get("head_dim", int, check=dim, **({"default": default_hd} if default_hd else {}))
    tied = d.get("tied_embeddings", bool, default=False)
    if heads and got["kv_heads"] and heads % got["kv_heads"]:
        d.problem("kv_heads", got["kv_heads"], f"must divide heads ({heads})")
    d.done()
    if None in got.values() or head_dim is None:
        return None
    return DecoderShape(**got, head_dim=head_dim, tied_embeddings=bool(tied))


def _read_lengths(t: Reader, key: str) -> Lengths | None:
    count = within(1, MAX_TOKENS)
    if not isinstance(t.data.get(key), dict):
        n = t.get(key, int, check=count)
        return None if n is None else Lengths("fixed", n, n, n)
    d = t.table(key)
    kind = d.get("distribution", str, check=one_of(*DISTRIBUTIONS))
    if kind == "fixed":
        n = d.get("mean", int, check=count)
        d.done()
        return None if n is None else Lengths("fixed", n, n, n)
    low, high = d.get("min", int, default=1, check=count), d.get("max", int, check=count)
    mean = cv = 0.0
    if kind == "lognormal":
        mean = d.get("mean", float, check=within(1, MAX_TOKENS))
        cv = d.get("cv", float, check=positive)
    d.done()
    if low is not None and high is not None and high < low:
        d.problem("max", high, f"must be >= min ({low})")
        return None
    if None in (kind, low, high, mean, cv):
        return None
    return Lengths(kind, mean if kind == "lognormal" else (low + high) / 2, low, high, cv)


def _read_tokens(r: Reader) -> dict[str, Any]:
    t = r.table("tokens", required=True)
    out = {"dataset_samples": t.get("dataset_samples", int, default=1, check=within(1, MAX_SAMPLES)),
           "lengths_seed": t.get("seed", int, default=0, check=within(0, 2**63 - 1)),
           "input_tokens": _read_lengths(t, "input_tokens"),
           "output_tokens": _read_lengths(t, "output_tokens")}
    t.done()
    return out


def prefill_layers(shape: DecoderShape, tokens: int) -> tuple[Layer, ...]:
    """One request's prefill as layers of the shared layer model (for `bench profile`)."""
    h, t = shape.hidden, tokens
    layers: list[Layer] = []
    for i in range(shape.layers):
        p = f"block{i}."
        layers += [
            Layer(p + "qkv", "matmul", t, shape.q_dim + 2 * shape.kv_dim, h,
                  weights=h * (shape.q_dim + 2 * shape.kv_dim), in_elems=t * h,
                  out_elems=t * (shape.q_dim + 2 * shape.kv_dim), vector_ops=2 * t * h),
            Layer(p + "scores", "matmul", t, t, shape.head_dim, groups=shape.heads,
                  out_elems=shape.heads * t * t, vector_ops=3 * shape.heads * t * t, fused=True),
            Layer(p + "context", "matmul", t, shape.head_dim, t, groups=shape.heads,
                  out_elems=t * shape.q_dim, fused=True),
            Layer(p + "o_proj", "matmul", t, h, shape.q_dim, weights=shape.q_dim * h,
                  in_elems=t * shape.q_dim, out_elems=t * h, fused=True),
            Layer(p + "gate_up", "matmul", t, 2 * shape.ffn, h, weights=2 * h * shape.ffn,
                  in_elems=t * h, out_elems=t * 2 * shape.ffn, vector_ops=3 * t * shape.ffn),
            Layer(p + "down", "matmul", t, h, shape.ffn, weights=shape.ffn * h,
                  in_elems=t * shape.ffn, out_elems=t * h, vector_ops=3 * t * h, fused=True)]
    layers.append(Layer("lm_head", "matmul", 1, shape.vocab, h, weights=shape.head_params,
                        in_elems=h, out_elems=shape.vocab))
    return tuple(layers)


def load_decoder(path: Path, overrides: dict[str, Any] | None = None) -> Decoder:
    raw = read_toml(path, catalog.label(path))
    source = catalog.label(path)
    origins = apply_overrides(raw, overrides or {})
    problems = Problems()
    r = Reader(raw, source, problems, origins=origins)
    name, benchmark, description = read_identity(r, path.stem)
    shape = _read_shape(r)
    tokens = _read_tokens(r)
    r.done()
    raise_unique(problems)
    assert shape is not None and None not in tokens.values()
    median = int(np.median(tokens["input_tokens"].draw(np.random.default_rng(0), 1001)))
    return Decoder(name=name, benchmark=benchmark, description=description, source=source,
                   fingerprint=fingerprint_all([path], overrides),
                   layers=prefill_layers(shape, median), input_shape=(median,), shape=shape,
                   **tokens)
