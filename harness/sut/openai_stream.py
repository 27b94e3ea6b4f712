"""Any OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, ...) streaming tokens, in real time.

Each sample is one request, `stream: true`, to `/v1/completions` or `/v1/chat/completions`
(keys: harness.sut.openai_config). The answer is read as server-sent events on an asyncio loop
in one background thread, so one process holds a thousand streams and more at once
(tests/benchmarks/test_bench_openai.py):

- the first token is the first event carrying content (a completion's `text`, a chat delta's
  `content` or `reasoning_content`), timestamped when its bytes arrive;
- the sample completes at the end of the stream (`data: [DONE]`), which is LoadGen's
  QuerySamplesComplete, so TPOT = (completion − first token) / (tokens − 1) as harness.judge.tokens has it;
- its output tokens are the final usage block's `completion_tokens` when the server sends one,
  else the content events counted (one token each, as the servers above send them); result.json's
  `sut_stats.token_counts` says how many samples were counted each way.

Latency counts from each query's scheduled time (the load generator's job): requests go out when
the loop issues them, open-loop. A sample fails with its reason — and the run goes on — on a
refused connection, an HTTP error, an error event, a malformed event, a stream that breaks or
ends without `[DONE]`, no content token, a usage count that is not a whole number >= 1, silence
longer than `read_timeout_s`, or no complete answer within `deadline_s` of being sent.
"""

from __future__ import annotations

import asyncio
import json
import resource
import threading
from pathlib import Path
from typing import Any

import aiohttp

from harness.measure.realtime import SUTError
from harness.spec import Reader
from harness.sut.openai_config import Bodies, OpenAIConfig, describe_config, load_config, request_headers
from harness.workloads import Workload

SHUTDOWN_S = 10.0   # how long finish() waits for the loop to close its connections


class EventStream:
    """Server-sent events framing: bytes in, complete `data` payloads out."""

    __slots__ = ("rest", "data")

    def __init__(self) -> None:
        self.rest, self.data = b"", []

    def feed(self, raw: bytes) -> list[bytes]:
        *lines, self.rest = (self.rest + raw).split(b"\n")
        events = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self.data:
                    events.append(b"\n".join(self.data))
                    self.data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self.data.append(value[1:] if value.startswith(b" ") else value)
        return events

    def close(self) -> list[bytes]:
        """At the end of the body: an event whose closing blank line never came still counts."""
        return self.feed(b"\n\n") if self.rest or self.data else []


def _content(choice: Any, chat: bool) -> bool:
    if not isinstance(choice, dict):
        return False
    if not chat:
        return bool(choice.get("text"))
    delta = choice.get("delta")
    return isinstance(delta, dict) and bool(delta.get("content") or delta.get("reasoning_content"))


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


class Tally:
    """What one streamed answer has said so far; `event` raises SUTError on a bad event."""

    __slots__ = ("chat", "tokens", "usage", "done")

    def __init__(self, chat: bool):
        self.chat, self.tokens, self.usage, self.done = chat, 0, None, False

    def event(self, data: bytes) -> bool:
        """Take one event's payload; True when it carries content."""
        if data == b"[DONE]":
            self.done = True
            return False
        try:
            chunk = json.loads(data)
        except ValueError:
            raise SUTError(f"malformed event after {self.tokens} tokens: {data[:80]!r}") from None
        if not isinstance(chunk, dict):
            raise SUTError(f"malformed event after {self.tokens} tokens: {data[:80]!r}")
        if "error" in chunk:
            raise SUTError(f"error event after {self.tokens} tokens: {_error_text(chunk['error'])}")
        usage = chunk.get("usage")
        if isinstance(usage, dict) and "completion_tokens" in usage:
            self.usage = usage["completion_tokens"]
        for choice in chunk.get("choices") or ():
            if _content(choice, self.chat):
                self.tokens += 1
                return True
        return False

    def result(self) -> tuple[int, str]:
        """(output tokens, "usage" | "counted") of a finished stream, or SUTError saying why not."""
        if not self.done:
            raise SUTError(f"stream ended without [DONE] after {self.tokens} tokens")
        if self.tokens == 0:
            raise SUTError("stream held no content token")
        if self.usage is None:
            return self.tokens, "counted"
        usage = self.usage
        if isinstance(usage, bool) or not isinstance(usage, int) or usage < 1:
            raise SUTError(f"usage.completion_tokens = {usage!r} (must be a whole number >= 1)")
        return usage, "usage"


class Stats:
    """Counters kept on the loop thread, read after it stops."""

    def __init__(self) -> None:
        self.requests = self.completed = self.failed = self.open = self.peak_open = 0
        self.counts = {"usage": 0, "counted": 0}
        self.usage_differs = 0   # samples whose usage count is not their number of content events

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "completed": self.completed, "failed": self.failed,
                "peak_open_streams": self.peak_open, "token_counts": dict(self.counts),
                "usage_differs_from_content_events": self.usage_differs}


async def _http_error(response: aiohttp.ClientResponse) -> str:
    payload = await response.content.read(400)
    try:
        detail = _error_text(json.loads(payload).get("error") or payload.decode())
    except (ValueError, AttributeError):
        detail = payload[:200].decode("utf-8", "replace")
    return f"HTTP {response.status}" + (f": {detail.strip()}" if detail.strip() else "")


class Client:
    """The asyncio side: one session, `concurrency` stream slots, one task per sample. Every
    outcome goes to the load generator through `env.post`, timestamped on this thread."""

    def __init__(self, config: OpenAIConfig, bodies: Bodies, headers: dict[str, str], env, done):
        self.config, self.bodies, self.headers = config, bodies, headers
        self.env, self.done = env, done
        self.chat = config.api == "chat"
        self.stats = Stats()
        self.tasks: set[asyncio.Task] = set()

    async def open(self) -> None:
        c = self.config
        self.slots = asyncio.Semaphore(c.concurrency)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=c.connect_timeout_s,
                                        sock_read=c.read_timeout_s)
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=c.concurrency),
                                             timeout=timeout, headers=self.headers)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()

    def launch(self, query: int, samples: list[int]) -> None:
        for sample in samples:
            task = asyncio.get_running_loop().create_task(self.sample(query, sample))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def sample(self, query: int, sample: int) -> None:
        async with self.slots:
            stats, tally = self.stats, Tally(self.chat)
            stats.requests += 1
            stats.open += 1
            stats.peak_open = max(stats.peak_open, stats.open)
            try:
                await self._deadline(query, sample, tally)
            finally:
                stats.open -= 1

    async def _deadline(self, query: int, sample: int, tally: Tally) -> None:
        deadline = asyncio.timeout(self.config.deadline_s)
        try:
            async with deadline:
                end = await self.stream(query, sample, tally)
                tokens, how = tally.result()
        except Exception as exc:  # noqa: BLE001 - every failure fails the sample, with its reason
            self._fail(query, self._reason(exc, tally, deadline.expired()))
            return
        self.stats.completed += 1
        self.stats.counts[how] += 1
        self.stats.usage_differs += how == "usage" and tokens != tally.tokens
        self.env.post(self._complete, query, end, tokens)

    async def stream(self, query: int, sample: int, tally: Tally) -> float:
        """Send the request and read its events up to [DONE]; the instant [DONE] arrived."""
        async with self.session.post(self.config.endpoint, data=self.bodies(sample)) as response:
            if response.status != 200:
                raise SUTError(await _http_error(response))
            if response.content_type != "text/event-stream":
                raise SUTError(f"answer is not an event stream (Content-Type {response.content_type!r})")
            events, env = EventStream(), self.env
            async for raw in response.content.iter_any():
                now = env.now
                for data in events.feed(raw):
                    if tally.event(data) and tally.tokens == 1:
                        env.post(self.done.first_token, query, now)
                if tally.done:
                    return now
            for data in events.close():
                tally.event(data)
            return env.now

    def _reason(self, exc: Exception, tally: Tally, expired: bool) -> str:
        c, where = self.config, f"after {tally.tokens} tokens"
        if expired:
            return f"no complete answer within deadline_s = {c.deadline_s:g} s ({tally.tokens} tokens so far)"
        if isinstance(exc, SUTError):
            return str(exc)
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return f"no connection within connect_timeout_s = {c.connect_timeout_s:g} s"
        if isinstance(exc, aiohttp.SocketTimeoutError):
            return f"nothing read for read_timeout_s = {c.read_timeout_s:g} s {where}"
        if isinstance(exc, aiohttp.ClientPayloadError) or tally.tokens:
            return f"stream broke {where}: {type(exc).__name__}: {exc}"
        return f"request failed: {type(exc).__name__}: {exc}"

    def _fail(self, query: int, reason: str) -> None:
        self.stats.failed += 1
        self.env.post(self.done.fail, query, f"openai {self.config.model}: {reason}", self.env.now)

    def _complete(self, query: int, at: float, tokens: int) -> None:
        self.done.complete(query, 1, at, tokens=tokens)


def _room_for(streams: int) -> None:
    """Raise the open-file limit (soft, up to the hard one) so `streams` sockets fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = streams + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY
                                                    else min(want, hard), hard))


class OpenAISUT:
    """The SUT contract over a `Client` running on its own event-loop thread."""

    name = "openai"

    def __init__(self, config: OpenAIConfig, bodies: Bodies, headers: dict[str, str]):
        self.config, self.bodies, self.headers = config, bodies, headers

    def start(self, env, done) -> None:
        _room_for(self.config.concurrency)
        self.loop = asyncio.new_event_loop()
        self.client = Client(self.config, self.bodies, self.headers, env, done)
        self.thread = threading.Thread(target=self.loop.run_forever, name="openai-streams", daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.client.open(), self.loop).result()

    def issue(self, query: int, samples) -> None:
        self.loop.call_soon_threadsafe(self.client.launch, query, [int(s) for s in samples])

    def flush(self) -> None:
        pass

    def finish(self, duration_s: float) -> dict[str, Any]:
        closing = asyncio.run_coroutine_threadsafe(self.client.close(), self.loop)
        try:
            closing.result(SHUTDOWN_S)
        except TimeoutError:
            pass   # the loop thread is a daemon: a connection that will not close is left behind
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(SHUTDOWN_S)
        if not self.thread.is_alive():
            self.loop.close()
        return {"sut_stats": self.client.stats.as_dict()}


class OpenAIAdapter:
    name = "openai"
    time_mode = "real"
    tables = ("openai",)

    def load(self, r: Reader, path: Path | None) -> OpenAIConfig:
        return load_config(r.table("openai", required=True), path)

    def model_of(self, config: OpenAIConfig) -> str:
        return f"{config.model} at {config.endpoint}"

    def describe(self, config: OpenAIConfig) -> dict[str, Any]:
        return describe_config(config)

    def build(self, config: OpenAIConfig, workload: Workload, seed: int) -> OpenAISUT:
        return OpenAISUT(config, Bodies(config, seed), request_headers(config))


ADAPTER = OpenAIAdapter()
