"""An OpenAI-compatible streaming server for tests, on 127.0.0.1, generating with `TinyLM`.

    python tests/servers/openai_llm.py [--fast] [--port 0]   # prints "listening <url>", serves

or from a test: `server = LLMServer().start()`, `server.url` (ends in /v1), `server.stop()`.

POST /v1/completions and /v1/chat/completions take `model`, `prompt` or `messages`, `max_tokens`,
`temperature`, `seed`, `stream` and `stream_options.include_usage`, and answer as vLLM does: one
event per generated token, a final usage event when asked, then `data: [DONE]`. Each token is
sent as soon as the model's decode step produced it, so timing comes from running the model.

`--fast` replaces the model by a fixed token (no compute), for load tests of the client; its
`token_interval_s` request field paces the tokens.

A request's `fault` field makes the answer misbehave (after `fault_after` tokens, default 2):
"break" drops the connection; "no_done" ends the stream without [DONE]; "hang" sends the tokens
and then nothing, never closing; "negative_usage" / "zero_usage" report -3 / 0 completion tokens;
"trickle" sends a token every `fault_delay_s` (default 0.05 s) without end; "error" answers HTTP
500; "error_event" sends an error event mid-stream; "no_content" sends no content token;
"malformed" sends a line that is not JSON. A prompt holding "[fault=NAME]" does the same for its
own request only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import select
import socket
import subprocess
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from servers.tiny_lm import TinyLM  # noqa: E402

MODEL_NAME = "tiny-lm"
START_S = 60.0   # how long a test waits for the server to listen
FAULTS = ("break", "no_done", "hang", "negative_usage", "zero_usage", "trickle", "error",
          "error_event", "no_content", "malformed")


def _chunk(chat: bool, text: str | None, index: int) -> dict:
    if chat:
        delta = {"content": text} if text is not None else {"role": "assistant"}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
    else:
        choice = {"index": 0, "text": text or "", "finish_reason": None}
    return {"id": f"cmpl-{index}", "object": "chat.completion.chunk" if chat else "text_completion",
            "model": MODEL_NAME, "choices": [choice]}


def _event(payload: dict | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


class Generation:
    """One request: its parameters and the token texts it streams."""

    def __init__(self, body: dict, chat: bool, model: TinyLM | None):
        self.body, self.chat, self.model = body, chat, model
        self.max_tokens = int(body.get("max_tokens", 16))
        self.fault = body.get("fault") or _marked_fault(self.prompt())
        self.after = int(body.get("fault_after", 2))
        self.usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def prompt(self) -> str:
        if self.chat:
            return " ".join(str(m.get("content", "")) for m in self.body.get("messages", []))
        return str(self.body.get("prompt", ""))

    async def texts(self):
        """Token texts, each as soon as it exists."""
        if self.model is None:
            interval = float(self.body.get("token_interval_s", 0.0))
            for _ in range(self.max_tokens):
                await asyncio.sleep(interval)
                yield "x"
            return
        m = self.model
        steps = m.generate(m.encode(self.prompt()), self.max_tokens,
                           float(self.body.get("temperature", 0.0)), int(self.body.get("seed", 0)))
        for token in steps:
            yield m.decode([token])
            await asyncio.sleep(0)   # let the other streams run between decode steps


def _marked_fault(prompt: str) -> str:
    """A prompt holding "[fault=NAME]" asks for that fault, so one run can mix good and bad samples."""
    match = re.search(r"\[fault=(\w+)\]", prompt)
    return match.group(1) if match and match.group(1) in FAULTS else ""


def _bad_request(body: dict) -> str | None:
    if body.get("fault", "") not in ("", *FAULTS):
        return f"unknown fault {body.get('fault')!r}"
    n = body.get("max_tokens", 16)
    if not isinstance(n, int) or not 1 <= n < 1000:
        return "max_tokens must be a whole number from 1 to 999"
    if body.get("stream") is not True:
        return "this server only streams: set stream = true"
    return None


async def _stream(request: web.Request, gen: Generation) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    if gen.chat:
        await response.write(_event(_chunk(True, None, 0)))
    count = 0
    async for text in gen.texts():
        if count == gen.after and await _fault_midway(request, response, gen):
            return response
        if gen.fault != "no_content":
            await response.write(_event(_chunk(gen.chat, text, count)))
        count += 1
    return await _finish(request, response, gen, count)


async def _fault_midway(request: web.Request, response: web.StreamResponse, gen: Generation) -> bool:
    """Misbehave after `fault_after` tokens; True when the answer ends here."""
    if gen.fault == "break":
        request.transport.close()
        return True
    if gen.fault == "error_event":
        await response.write(_event({"error": {"message": "the model fell over", "code": 500}}))
        return True
    if gen.fault == "malformed":
        await response.write(b"data: {not json\n\n")
        return True
    if gen.fault == "trickle":
        while True:
            await asyncio.sleep(float(gen.body.get("fault_delay_s", 0.05)))
            await response.write(_event(_chunk(gen.chat, "t", 0)))
    return False


async def _finish(request: web.Request, response: web.StreamResponse, gen: Generation, count: int):
    if gen.usage:
        tokens = {"negative_usage": -3, "zero_usage": 0}.get(gen.fault, count)
        usage = {"prompt_tokens": len(gen.prompt()), "completion_tokens": tokens,
                 "total_tokens": len(gen.prompt()) + tokens}
        await response.write(_event({"id": "cmpl-usage", "choices": [], "usage": usage}))
    if gen.fault == "hang":
        await asyncio.sleep(3600)
    if gen.fault != "no_done":
        await response.write(_event("[DONE]"))
    await response.write_eof()
    return response


def _handler(chat: bool):
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        problem = _bad_request(body)
        if problem:
            return web.json_response({"error": {"message": problem}}, status=400)
        gen = Generation(body, chat, request.app["model"])
        if gen.fault == "error":
            return web.json_response({"error": {"message": "model exploded"}}, status=500)
        return await _stream(request, gen)
    return handle


async def _models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})


def make_app(fast: bool = False) -> web.Application:
    app = web.Application()
    app["model"] = None if fast else TinyLM()
    app.router.add_post("/v1/completions", _handler(False))
    app.router.add_post("/v1/chat/completions", _handler(True))
    app.router.add_get("/v1/models", _models)
    return app


async def serve(port: int, fast: bool) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    runner = web.AppRunner(make_app(fast), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=4096).start()
    print(f"listening http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    await asyncio.Event().wait()


class LLMServer:
    """The server as a subprocess of the tests."""

    def __init__(self, fast: bool = False):
        self.fast = fast

    def start(self) -> "LLMServer":
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        args = [sys.executable, __file__, "--port", "0"] + (["--fast"] if self.fast else [])
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        ready, _, _ = select.select([self.process.stdout], [], [], START_S)
        line = self.process.stdout.readline() if ready else ""   # it listens, or it died
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the test LLM server did not start within {START_S:g} s: {line!r}")
        self.url = line.split()[1]
        return self

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="a fixed token instead of the model")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.fast))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
