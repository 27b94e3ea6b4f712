"""A real-time Python SUT that streams tokens (the callable returns a generator), through
`bench run`: first token, token count and broken streams, against the wall clock."""

import json

import pytest

from harness.cli.main import main

pytestmark = pytest.mark.realtime

SUT = '''
import time

def stream(samples):
    time.sleep(0.004)
    yield "first"
    for _ in range(7):
        time.sleep(0.002)
        yield "token"

def broken(samples):
    yield "first"
    yield "second"
    raise ConnectionError("server went away")
'''


def run(tmp_path, write, function):
    write("llm_sut.py", SUT)
    system = write("llm.toml", f'name = "llm"\nadapter = "python"\n[python]\ncallable = "llm_sut:{function}"\n'
                   "workers = 2\n")
    out = tmp_path / function
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
              "--set", "workload.benchmark=llama2-70b", "--duration", "1", "--target-qps", "50",
              "--min-queries", "50", "--out", str(out), "--no-report"])
    assert exit_.value.code == 0
    return json.loads((out / "result.json").read_text())


def test_a_streaming_callable_reports_first_token_and_tokens(tmp_path, write):
    result = run(tmp_path, write, "stream")
    tokens = result["tokens"]
    assert result["failed_queries"] == 0
    assert tokens["output_tokens"] == 8 * result["query_count"]
    assert 0.004 <= tokens["ttft_s"]["p50"] < 0.030
    assert 0.002 <= tokens["tpot_s"]["p50"] < 0.010


def test_a_stream_that_breaks_fails_its_sample_saying_where(tmp_path, write):
    result = run(tmp_path, write, "broken")
    assert result["failed_queries"] == result["query_count"] and not result["valid"]
    assert any("stream broke after 2 tokens: ConnectionError: server went away" in r
               for r in result["invalid_reasons"])
