"""The openai adapter holding 1,000 streams at once in one process, against a plain aiohttp loop
doing the same streams. Not part of the default test run:

    pytest tests/benchmarks/test_bench_openai.py --benchmark-only -s

Both clients run against the same local server in its `--fast` mode (a fixed token, no model,
every `INTERVAL_S`), in a subprocess, so this process's CPU time is the client's. bench's side is
a whole `bench run --scenario offline` of at least STREAMS samples (LoadGen's 10% margin: its load
generator, the adapter, the judging and the written result); the reference opens STREAMS streams
with one aiohttp session, reads each line and decodes each event's JSON, as a minimal client does.
Each round runs both clients at 1 and at TOKENS tokens a stream, alternating reference and bench so
both see the same machine load. Figures: peak streams open at once, wall time, client CPU per
request at each length, and the client's overhead per token: the CPU a request costs for each
token beyond the first ((CPU per request at TOKENS - at 1) / (TOKENS - 1)), bench's also as a ratio
of the reference's. The machine is shared: the numbers printed are the measurement.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from harness.measure.runner import RunRequest, execute, prepare
from servers.openai_llm import LLMServer

STREAMS = 1000
TOKENS = 64
INTERVAL_S = 0.02
ROUNDS = 2


@pytest.fixture(scope="module")
def fast_server():
    srv = LLMServer(fast=True).start()
    yield srv
    srv.stop()


def system(write, url: str, tokens: int):
    return write(f"fast{tokens}.toml", f'name = "fast"\nadapter = "openai"\n[openai]\nurl = "{url}"\n'
                              f'model = "tiny-lm"\nmax_tokens = {tokens}\nconcurrency = {STREAMS}\n'
                              f"deadline_s = 120.0\nextra_body = {{ token_interval_s = {INTERVAL_S} }}\n")


def run_bench(path, tokens: int) -> dict:
    prepared = prepare(RunRequest("offline", str(path), "llama2-70b", target_qps=STREAMS, duration_s=1.0,
                                  min_queries=1))
    wall, cpu = time.perf_counter(), time.process_time()
    r = execute(prepared).result
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    requests = r["sample_count"]
    assert r["failed_queries"] == 0 and requests >= STREAMS and r["tokens"]["output_tokens"] == requests * tokens
    return {"peak": r["sut_stats"]["peak_open_streams"], "wall_s": wall, "cpu_us_per_request": cpu / requests * 1e6}


async def _one(session: aiohttp.ClientSession, url: str, body: bytes, open_now: list) -> int:
    async with session.post(url, data=body) as response:
        open_now[0] += 1
        open_now[1] = max(open_now[1], open_now[0])
        tokens = 0
        async for line in response.content:
            if line.startswith(b"data: ") and line[6:].strip() != b"[DONE]":
                tokens += bool(json.loads(line[6:])["choices"])
        open_now[0] -= 1
        return tokens


async def _reference(url: str, tokens: int) -> tuple[int, int]:
    body = json.dumps({"model": "tiny-lm", "prompt": "x", "max_tokens": tokens, "stream": True,
                       "token_interval_s": INTERVAL_S}).encode()
    open_now = [0, 0]
    connector = aiohttp.TCPConnector(limit=STREAMS)
    async with aiohttp.ClientSession(connector=connector, headers={"Content-Type": "application/json"}) as s:
        counts = await asyncio.gather(*(_one(s, url + "/completions", body, open_now) for _ in range(STREAMS)))
    return sum(counts), open_now[1]


def run_reference(url: str, tokens: int) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    got, peak = asyncio.run(_reference(url, tokens))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert got == STREAMS * tokens
    return {"peak": peak, "wall_s": wall, "cpu_us_per_request": cpu / STREAMS * 1e6}


def mean(runs: list[dict], key: str) -> float:
    return sum(r[key] for r in runs) / len(runs)


def per_token(runs: dict) -> float:
    """Microseconds of client CPU per token beyond a request's first."""
    return (mean(runs[TOKENS], "cpu_us_per_request") - mean(runs[1], "cpu_us_per_request")) / (TOKENS - 1)


def test_thousand_streams(benchmark, write, fast_server):
    paths = {n: system(write, fast_server.url, n) for n in (1, TOKENS)}
    ours, theirs = {1: [], TOKENS: []}, {1: [], TOKENS: []}

    def alternate():
        for n in (1, TOKENS):
            theirs[n].append(run_reference(fast_server.url, n))
            ours[n].append(run_bench(paths[n], n))
            print(f"\n{n} tokens: reference {theirs[n][-1]}\n{n} tokens: bench     {ours[n][-1]}")

    benchmark.pedantic(alternate, rounds=ROUNDS, iterations=1)
    peak = min(r["peak"] for r in ours[TOKENS])
    benchmark.extra_info.update(
        streams=STREAMS, tokens_per_stream=TOKENS, bench_peak_open_streams=peak,
        bench_us_per_token=per_token(ours), reference_us_per_token=per_token(theirs),
        ratio=per_token(ours) / per_token(theirs),
        bench_wall_s=mean(ours[TOKENS], "wall_s"), reference_wall_s=mean(theirs[TOKENS], "wall_s"))
    print(f"\n{benchmark.extra_info}")
    assert peak >= STREAMS

EVENT = (b'data: {"id":"cmpl-7","object":"text_completion","model":"tiny-lm",'
         b'"choices":[{"index":0,"text":" the","finish_reason":null}]}\n\n')


def test_event_parsing_per_token(benchmark):
    """The adapter's own share of a token: SSE framing and the event's JSON (aiohttp's reading of
    the socket and the event loop's wake-up come on top, in both clients above)."""
    from harness.sut.openai_stream import EventStream, Tally

    events, tally = EventStream(), Tally(chat=False)

    def one_token():
        for data in events.feed(EVENT):
            tally.event(data)

    benchmark(one_token)
    assert tally.tokens > 0
