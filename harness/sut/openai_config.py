"""The `openai` adapter's system file: keys, ranges, prompt sources and request bodies.

    name = "vllm_llama8b"
    adapter = "openai"
    [openai]
    url = "http://127.0.0.1:8000/v1"  # base address; POST {url}/completions or {url}/chat/completions
    api = "completions"               # "completions" | "chat"
    model = "meta-llama/Llama-3.1-8B-Instruct"
    max_tokens = 128                  # output tokens asked for per request
    concurrency = 1024                # streams open at once at most; later requests wait for a slot
    connect_timeout_s = 5.0           # to open a connection
    read_timeout_s = 30.0             # longest silence between two reads of a stream
    deadline_s = 300.0                # total time of one request, from when it is sent
    request_usage = true              # ask for the final usage block (stream_options.include_usage)
    api_key_env = "OPENAI_API_KEY"    # optional: the environment variable holding the bearer key
    headers = { "X-Team" = "perf" }   # optional extra headers (no secrets: result.json shows them)
    extra_body = { temperature = 0.0, ignore_eos = true }  # optional fields merged into each body
    prompts = ["Tell me a story.", "..."]  # optional: sample i is prompts[i % len(prompts)]; [] = none
    prompts_file = "prompts.txt"      # optional instead: one prompt per line, beside the system file
    prompt_words = 32                 # without either: sample i's prompt is 32 seeded words

The key itself never reaches result.json: only the variable's name does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from harness.errors import config_error
from harness.spec import Reader, one_of, within

APIS = {"completions": "/completions", "chat": "/chat/completions"}
MAX_PROMPTS = 1_000_000
WORDS = ("the", "a", "model", "token", "server", "stream", "latency", "first", "time", "per",
         "output", "cache", "batch", "prefill", "decode", "memory", "bandwidth", "query", "sample",
         "camera", "frame", "edge", "chip", "fast", "slow", "small", "large", "open", "loop", "why")


@dataclass(frozen=True)
class OpenAIConfig:
    source: str                      # the system file, for errors found when the run starts
    url: str
    api: str
    model: str
    max_tokens: int
    concurrency: int
    connect_timeout_s: float
    read_timeout_s: float
    deadline_s: float
    request_usage: bool
    api_key_env: str
    headers: tuple[tuple[str, str], ...]
    extra_body: str                  # JSON of a table, merged into each request body
    prompts: tuple[str, ...]         # empty: generated prompts of `prompt_words` words
    prompts_file: str
    prompt_words: int

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + APIS[self.api]


def _url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// address, e.g. http://127.0.0.1:8000/v1"
    return None


def _env_name(v: str) -> str | None:
    """A variable's name, or "" for none."""
    ok = not v or ((v[0].isalpha() or v[0] == "_") and all(c.isalnum() or c == "_" for c in v))
    return None if ok else "must be the name of an environment variable (letters, digits, _), not the key"


def _strings(table: Reader, key: str) -> tuple[tuple[str, str], ...]:
    value = table.get(key, dict, default={})
    if not all(isinstance(v, str) for v in value.values()):
        table.problem(key, value, "must be a table of strings")
        return ()
    return tuple(value.items())


def _extra_body(table: Reader) -> str:
    value = table.get("extra_body", dict, default={})
    fixed = {"model", "prompt", "messages", "stream", "max_tokens"} & set(value)
    if fixed:
        table.problem("extra_body", value, f"may not set {', '.join(sorted(fixed))} (the adapter's own keys)")
        return "{}"
    return json.dumps(value)


def _prompt_list(v: list) -> str | None:
    """At most MAX_PROMPTS non-empty strings; an empty list is no list (generated prompts)."""
    ok = len(v) <= MAX_PROMPTS and all(isinstance(p, str) and p for p in v)
    return None if ok else f"must be a list of at most {MAX_PROMPTS} non-empty strings"


def _read_prompts_file(table: Reader, name: str, base: Path | None) -> tuple[str, ...]:
    path = (base / name) if base is not None else Path(name)
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        table.problem("prompts_file", name, f"cannot be read: {type(exc).__name__}: {exc}")
        return ()
    if not lines or _prompt_list(lines):
        table.problem("prompts_file", name, f"must hold 1 to {MAX_PROMPTS} non-empty lines")
        return ()
    return tuple(lines)


def _prompts(table: Reader, base: Path | None) -> dict[str, Any]:
    """At most one of `prompts` and `prompts_file`; neither: generated prompts."""
    listed = table.get("prompts", list, default=[], check=_prompt_list)
    name = table.get("prompts_file", str, default="")
    words = table.get("prompt_words", int, default=32, check=within(1, 100_000))
    if listed and name:
        table.problem("prompts_file", name, "give prompts or prompts_file, not both")
    prompts = tuple(listed) or (_read_prompts_file(table, name, base) if name else ())
    return dict(prompts=prompts, prompts_file=name, prompt_words=words or 32)


def load_config(table: Reader, path: Path | None) -> OpenAIConfig:
    values = dict(
        url=table.get("url", str, check=_url) or "http://invalid",
        api=table.get("api", str, default="completions", check=one_of(*APIS)) or "completions",
        model=table.get("model", str) or "",
        max_tokens=table.get("max_tokens", int, default=128, check=within(1, 1_000_000)) or 1,
        concurrency=table.get("concurrency", int, default=1024, check=within(1, 100_000)) or 1,
        connect_timeout_s=table.get("connect_timeout_s", float, default=5.0, check=within(1e-3, 1e6, " s")),
        read_timeout_s=table.get("read_timeout_s", float, default=30.0, check=within(1e-3, 1e6, " s")),
        deadline_s=table.get("deadline_s", float, default=300.0, check=within(1e-3, 1e6, " s")),
        request_usage=table.get("request_usage", bool, default=True),
        api_key_env=table.get("api_key_env", str, default="", check=_env_name),
        headers=_strings(table, "headers"), extra_body=_extra_body(table),
        **_prompts(table, path.parent if path is not None else None))
    table.done()
    return OpenAIConfig(source=table.source, **values)


def describe_config(c: OpenAIConfig) -> dict[str, Any]:
    """The effective config for result.json: the key's variable name, never its value."""
    keys = ("url", "api", "model", "max_tokens", "concurrency", "connect_timeout_s",
            "read_timeout_s", "deadline_s", "request_usage", "api_key_env", "prompts_file",
            "prompt_words")
    table = {key: getattr(c, key) for key in keys}
    table.update(headers=dict(c.headers), extra_body=json.loads(c.extra_body),
                 prompts=len(c.prompts) or None)   # how many; the list itself may be long
    return {"openai": table}


def request_headers(c: OpenAIConfig) -> dict[str, str]:
    """Content type, the extra headers and, from `api_key_env`, the bearer key; an unset
    variable is a config error naming it."""
    headers = {"Content-Type": "application/json", **dict(c.headers)}
    if c.api_key_env:
        key = os.environ.get(c.api_key_env)
        if not key:
            raise config_error(c.source, "openai.api_key_env", c.api_key_env,
                               "the environment variable is not set or empty")
        headers["Authorization"] = f"Bearer {key}"
    return headers


class Bodies:
    """Request bodies by sample index, rendered once each: the prompt list's entry modulo its
    length, or `prompt_words` words drawn from a stream seeded by (seed, sample)."""

    def __init__(self, c: OpenAIConfig, seed: int):
        self.config, self.seed, self.cache = c, seed, {}
        extra = json.loads(c.extra_body)
        self.base = {"model": c.model, "max_tokens": c.max_tokens, "stream": True, **extra}
        if c.request_usage:
            self.base["stream_options"] = {"include_usage": True, **extra.get("stream_options", {})}

    def prompt(self, sample: int) -> str:
        if self.config.prompts:
            return self.config.prompts[sample % len(self.config.prompts)]
        rng = np.random.default_rng([self.seed, sample])
        return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), self.config.prompt_words))

    def __call__(self, sample: int) -> bytes:
        body = self.cache.get(sample)
        if body is None:
            text = self.prompt(sample)
            field = ({"prompt": text} if self.config.api == "completions"
                     else {"messages": [{"role": "user", "content": text}]})
            body = self.cache[sample] = json.dumps({**self.base, **field}).encode()
        return body

