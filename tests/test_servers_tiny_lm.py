"""The test server's model is a real transformer: decoding from its key/value cache gives the
same next-token logits as running the whole sequence again, and sampling follows its seed."""

import numpy as np

from servers.tiny_lm import UNPRINTABLE, TinyLM


def fresh_caches(model: TinyLM) -> list[dict]:
    n, d = model.shape.context, model.shape.d_model
    return [{"k": np.zeros((n, d), np.float32), "v": np.zeros((n, d), np.float32)} for _ in model.blocks]


def test_cached_decode_matches_a_full_recompute():
    model = TinyLM()
    prompt = model.encode("the first token")
    tokens = list(model.generate(prompt, max_tokens=6))
    caches = fresh_caches(model)
    model._forward(prompt, caches, 0)
    for i, token in enumerate(tokens[:-1]):
        cached = model._forward([token], caches, len(prompt) + i)
        full = model._forward(prompt + tokens[:i + 1], fresh_caches(model), 0)
        assert np.allclose(cached, full, atol=1e-4)
        assert int(np.argmax(np.where(UNPRINTABLE, -np.inf, full))) == tokens[i + 1]   # greedy


def test_output_depends_on_the_prompt_and_the_seed():
    model = TinyLM()
    greedy = [list(model.generate(model.encode(p), 12)) for p in ("hello", "goodbye")]
    sampled = [list(model.generate(model.encode("hello"), 12, temperature=1.0, seed=s)) for s in (1, 1, 2)]
    assert greedy[0] != greedy[1] and sampled[0] == sampled[1] != sampled[2]
    assert all(32 <= t < 127 for t in greedy[0] + sampled[0])
