"""A tiny decoder-only transformer in numpy, generating real tokens on the CPU.

Random weights from a fixed seed (it writes nonsense, at a real model's pace for its size): a
byte-level vocabulary of 128 ASCII codes, learned position embeddings, `layers` pre-norm blocks of
causal multi-head self-attention and a GELU MLP, an output projection. Prefill runs the
whole prompt through each layer at once (one causal attention over the prompt); decode runs one
token at a time against the key/value cache the prefill filled, so each step costs what a real
decode step costs: the weights once, the cache once.

    model = TinyLM()
    for token in model.generate(model.encode("Hello"), max_tokens=16):
        print(model.decode([token]))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

VOCAB = 128
UNPRINTABLE = np.array([i < 32 or i == 127 for i in range(VOCAB)])   # masked out of the output


@dataclass(frozen=True)
class Shape:
    d_model: int = 64
    heads: int = 4
    layers: int = 2
    d_ff: int = 256
    context: int = 1024


class TinyLM:
    def __init__(self, shape: Shape = Shape(), seed: int = 0):
        self.shape = shape
        rng = np.random.default_rng(seed)
        d, f = shape.d_model, shape.d_ff
        normal = lambda *s: (rng.standard_normal(s) / np.sqrt(s[0])).astype(np.float32)  # noqa: E731
        self.embed = normal(VOCAB, d) * np.float32(np.sqrt(VOCAB))
        self.head = normal(d, VOCAB) * np.float32(4)
        self.position = normal(shape.context, d) * np.float32(0.1)
        self.blocks = [dict(qkv=normal(d, 3 * d), out=normal(d, d), up=normal(d, f), down=normal(f, d))
                       for _ in range(shape.layers)]

    # ------------------------------------------------------------ text

    @staticmethod
    def encode(text: str) -> list[int]:
        return [b & 0x7F for b in text.encode("utf-8")] or [ord(" ")]

    @staticmethod
    def decode(tokens: list[int]) -> str:
        return "".join(chr(t) for t in tokens)

    # ------------------------------------------------------------ the network

    def _attend(self, x: np.ndarray, block: dict, cache: dict, start: int) -> np.ndarray:
        """Causal attention of the rows of x (positions start..) over the cache plus themselves."""
        n, d, h = len(x), self.shape.d_model, self.shape.heads
        q, k, v = np.split(_norm(x) @ block["qkv"], 3, axis=1)
        cache["k"][start:start + n], cache["v"][start:start + n] = k, v
        keys, values = cache["k"][:start + n], cache["v"][:start + n]
        q, keys, values = (a.reshape(len(a), h, d // h).transpose(1, 0, 2) for a in (q, keys, values))
        scores = q @ keys.transpose(0, 2, 1) / np.float32(np.sqrt(d // h))
        scores += np.triu(np.full((n, start + n), -np.inf, np.float32), k=start + 1)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        mixed = (weights @ values).transpose(1, 0, 2).reshape(n, d)
        return x + mixed @ block["out"]

    def _forward(self, tokens: list[int], caches: list[dict], start: int) -> np.ndarray:
        """Logits of the last position after running `tokens` (positions start..)."""
        x = self.embed[tokens] + self.position[start:start + len(tokens)]
        for block, cache in zip(self.blocks, caches):
            x = self._attend(x, block, cache, start)
            x = x + _gelu(_norm(x) @ block["up"]) @ block["down"]
        return _norm(x[-1]) @ self.head

    def generate(self, prompt: list[int], max_tokens: int, temperature: float = 0.0,
                 seed: int = 0) -> Iterator[int]:
        """Prefill the prompt, then yield `max_tokens` tokens, each from one decode step."""
        ctx = self.shape.context
        prompt = prompt[-(ctx - max_tokens):] if max_tokens < ctx else prompt[-1:]
        d = self.shape.d_model
        caches = [{"k": np.zeros((ctx, d), np.float32), "v": np.zeros((ctx, d), np.float32)}
                  for _ in self.blocks]
        rng = np.random.default_rng(seed)
        logits, position = self._forward(prompt, caches, 0), len(prompt)
        for _ in range(min(max_tokens, ctx - position)):
            token = _pick(logits, temperature, rng)
            yield token
            logits = self._forward([token], caches, position)
            position += 1


def _norm(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(1e-6))


def _gelu(x: np.ndarray) -> np.ndarray:
    return np.float32(0.5) * x * (1 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x ** 3)))


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    logits = np.where(UNPRINTABLE, -np.inf, logits)
    if temperature <= 0:
        return int(np.argmax(logits))
    p = np.exp((logits - logits.max()) / temperature)
    return int(rng.choice(VOCAB, p=p / p.sum()))
