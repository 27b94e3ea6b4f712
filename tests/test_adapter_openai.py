"""The `openai` adapter: its system file, its stream reading, and `bench run` against a real
OpenAI-compatible server started here on 127.0.0.1 (tests/servers/openai_llm.py, a numpy
transformer generating on the CPU)."""

import json
import re
import time

import numpy as np
import pandas as pd
import pytest

from harness.measure.realtime import SUTError
from harness.sut.openai_config import Bodies, request_headers
from harness.sut.openai_stream import EventStream, Tally
from harness.measure.systems import load_system
from harness.judge.tokens import tpot_s
from test_realtime import main_code


@pytest.fixture
def server(llm_server):
    return llm_server


@pytest.fixture
def llm_system(write, server):
    def _make(body="", name="llm", url=None):
        return write(f"{name}.toml", f'name = "{name}"\nadapter = "openai"\n[openai]\n'
                                     f'url = "{url or server.url}"\nmodel = "tiny-lm"\n{body}')
    return _make


def bench_run(system, out, scenario="server", qps="40", duration="0.3", queries="12", workload="llama2-70b"):
    code = main_code(["run", "--scenario", scenario, "--sut", str(system), "--workload", workload,
                      "--target-qps", qps, "--duration", duration, "--min-queries", queries,
                      "--out", str(out), "--no-report"])
    assert code == 0
    return json.loads((out / "result.json").read_text())


# ---------------------------------------------------------------- the system file


def test_keys_and_defaults(llm_system):
    c = load_system(str(llm_system('api = "chat"\nmax_tokens = 8\nheaders = { X-Team = "perf" }\n'))).config
    assert (c.api, c.max_tokens, c.concurrency, c.request_usage) == ("chat", 8, 1024, True)
    assert (c.connect_timeout_s, c.read_timeout_s, c.deadline_s) == (5.0, 30.0, 300.0)
    assert c.endpoint.endswith("/v1/chat/completions") and c.headers == (("X-Team", "perf"),)


BAD = {
    "api": ('api = "embeddings"', "openai.api = 'embeddings': must be one of"),
    "url": ("", "openai.url = '127.0.0.1:8000': must be an http"),
    "max_tokens": ("max_tokens = 0", "openai.max_tokens = 0: must be a number from 1"),
    "concurrency": ("concurrency = -4", "openai.concurrency = -4: must be a number from 1"),
    "deadline": ("deadline_s = inf", "openai.deadline_s = inf: must be a number from"),
    "key_in_file": ('api_key_env = "sk-live-123"', "openai.api_key_env = 'sk-live-123': must be the name"),
    "both_prompts": ('prompts = ["a"]\nprompts_file = "p.txt"', "openai.prompts_file = 'p.txt': give prompts"),
    "empty_prompt": ('prompts = [""]', "openai.prompts = ['']: must be a list of at most"),
    "missing_file": ('prompts_file = "none.txt"', "openai.prompts_file = 'none.txt': cannot be read"),
    "extra_body": ("extra_body = { stream = false }", "may not set stream"),
    "headers": ("headers = { X-N = 3 }", "openai.headers = {'X-N': 3}: must be a table of strings"),
    "unknown": ("max_token = 5", "openai.max_token = 5: unknown key"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_values_are_one_line_naming_file_key_and_value(case, llm_system, tmp_path, capsys):
    body, expected = BAD[case]
    system = llm_system(body + "\n", url="127.0.0.1:8000" if case == "url" else None)
    code = main_code(["run", "--scenario", "offline", "--sut", str(system), "--workload", "llama2-70b",
                      "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert str(system) in err and expected in err, err


def test_an_unset_key_variable_is_a_config_error(llm_system, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BENCH_TEST_NO_SUCH_KEY", raising=False)
    system = llm_system('api_key_env = "BENCH_TEST_NO_SUCH_KEY"\n')
    code = main_code(["run", "--scenario", "offline", "--sut", str(system), "--workload", "llama2-70b",
                      "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "openai.api_key_env = 'BENCH_TEST_NO_SUCH_KEY': the environment variable is not set" in err


def test_request_bodies(llm_system, write):
    write("prompts.txt", "first prompt\n\nsecond prompt\n")
    chat = load_system(str(llm_system('api = "chat"\nprompts_file = "prompts.txt"\nmax_tokens = 7\n'
                                      "extra_body = { temperature = 0.5 }\n"))).config
    body = json.loads(Bodies(chat, seed=1)(3))
    assert body["messages"] == [{"role": "user", "content": "second prompt"}]
    assert (body["stream"], body["stream_options"], body["max_tokens"], body["temperature"]) == (
        True, {"include_usage": True}, 7, 0.5)
    plain = load_system(str(llm_system("request_usage = false\nprompt_words = 5\n"))).config
    bodies, other = Bodies(plain, seed=1), Bodies(plain, seed=2)
    first = json.loads(bodies(0))
    assert "stream_options" not in first and len(first["prompt"].split()) == 5
    assert bodies.prompt(0) == Bodies(plain, seed=1).prompt(0) != other.prompt(0)


def test_the_key_comes_from_the_environment(llm_system, monkeypatch):
    monkeypatch.setenv("BENCH_TEST_KEY", "sk-secret-1")
    c = load_system(str(llm_system('api_key_env = "BENCH_TEST_KEY"\n'))).config
    assert request_headers(c)["Authorization"] == "Bearer sk-secret-1"


# ---------------------------------------------------------------- reading a stream


def test_event_framing_across_reads():
    events = EventStream()
    assert events.feed(b'data: {"a"') == []
    assert events.feed(b':1}\r\n\r\n: a comment\n\nevent: x\ndata: one\ndata:two\n\ndata: [DO') == [
        b'{"a":1}', b"one\ntwo"]
    assert events.feed(b"NE]\n") == [] and events.close() == [b"[DONE]"]


def chunk(text=None, usage=None, chat=False):
    choice = {"delta": {"content": text}} if chat else {"text": text}
    body = {"choices": [choice] if text is not None else []}
    if usage is not None:
        body["usage"] = {"completion_tokens": usage}
    return json.dumps(body).encode()


def test_tokens_come_from_usage_or_are_counted():
    usage, counted = Tally(chat=False), Tally(chat=True)
    for data in (chunk("a"), chunk(""), chunk("b"), chunk(usage=5), b"[DONE]"):
        usage.event(data)
    for data in (json.dumps({"choices": [{"delta": {"role": "assistant"}}]}).encode(),
                 chunk("x", chat=True), chunk("y", chat=True), b"[DONE]"):
        counted.event(data)
    assert usage.result() == (5, "usage") and usage.tokens == 2
    assert counted.result() == (2, "counted")


@pytest.mark.parametrize("events, reason", [
    ([chunk("a")], "stream ended without [DONE] after 1 tokens"),
    ([chunk(usage=3), b"[DONE]"], "stream held no content token"),
    ([chunk("a"), chunk(usage=-1), b"[DONE]"], "usage.completion_tokens = -1 (must be a whole number >= 1)"),
    ([chunk("a"), chunk(usage=0), b"[DONE]"], "usage.completion_tokens = 0"),
    ([chunk("a"), chunk(usage=2.5), b"[DONE]"], "usage.completion_tokens = 2.5"),
    ([chunk("a"), b"{oops"], "malformed event after 1 tokens: b'{oops'"),
    ([chunk("a"), b'{"error": {"message": "out of memory"}}'], "error event after 1 tokens: out of memory"),
])
def test_bad_streams_say_why(events, reason):
    tally = Tally(chat=False)
    with pytest.raises(SUTError, match=re.escape(reason)):
        for data in events:
            tally.event(data)
        tally.result()


# ---------------------------------------------------------------- bench run against the server


def per_sample(out) -> pd.DataFrame:
    queries = pd.read_parquet(out / "queries.parquet")
    assert {"query_id", "scheduled_s", "issued_s", "completed_s", "samples", "first_token_s",
            "tokens"} <= set(queries.columns)
    return queries


@pytest.mark.realtime
def test_server_run_ttft_tpot_and_tokens(llm_system, server, tmp_path):
    out = tmp_path / "server"
    result = bench_run(llm_system("max_tokens = 12\n"), out)
    q, tokens, stats = per_sample(out), result["tokens"], result["sut_stats"]
    assert result["failed_queries"] == 0 and result["time_mode"] == "real"
    assert (q["tokens"] == 12).all() and tokens["output_tokens"] == 12 * len(q)
    assert stats["token_counts"] == {"usage": len(q), "counted": 0}
    assert stats["usage_differs_from_content_events"] == 0 and stats["requests"] == len(q)
    ttft, latency = q["first_token_s"] - q["scheduled_s"], q["completed_s"] - q["scheduled_s"]
    assert ((ttft > 0) & (ttft <= latency)).all()
    tpot = tpot_s((q["completed_s"] - q["first_token_s"]).to_numpy(), q["tokens"].to_numpy())
    assert np.allclose(tpot, (latency - ttft) / 11, atol=1e-9)
    assert tokens["tpot_s"]["max"] == pytest.approx(tpot.max(), abs=1e-9)
    assert tokens["ttft_s"]["max"] == pytest.approx(ttft.max(), abs=1e-9)
    assert tokens["tpot_s"]["p50"] > 0 and result["sut"]["model"] == f"tiny-lm at {server.url}/completions"


@pytest.mark.realtime
def test_counted_tokens_without_usage_and_the_chat_api(llm_system, tmp_path):
    system = llm_system('api = "chat"\nrequest_usage = false\nmax_tokens = 5\n')
    result = bench_run(system, tmp_path / "chat")
    q = per_sample(tmp_path / "chat")
    assert result["failed_queries"] == 0 and (q["tokens"] == 5).all()
    assert result["sut_stats"]["token_counts"] == {"usage": 0, "counted": len(q)}


@pytest.mark.realtime
def test_offline_run(llm_system, tmp_path):
    result = bench_run(llm_system("max_tokens = 4\nconcurrency = 8\n"), tmp_path / "off",
                       scenario="offline", qps="60", duration="0.2", queries="1")
    assert result["failed_queries"] == 0 and result["sample_count"] >= 12
    assert result["tokens"]["output_tokens"] == 4 * result["sample_count"]
    assert result["sut_stats"]["peak_open_streams"] == 8 and result["tokens"]["tokens_per_second"] > 0


@pytest.mark.realtime
def test_the_key_never_reaches_the_result(llm_system, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_TEST_KEY", "sk-secret-0451")
    out = tmp_path / "keyed"
    result = bench_run(llm_system('api_key_env = "BENCH_TEST_KEY"\nmax_tokens = 2\n'), out, queries="4")
    assert result["sut"]["config"]["openai"]["api_key_env"] == "BENCH_TEST_KEY"
    assert not [f.name for f in out.iterdir() if b"sk-secret-0451" in f.read_bytes()]


FAULTS = {   # fault: (extra system keys, the reason every sample fails with)
    "break": ("", "stream broke after 2 tokens: ClientPayloadError"),
    "no_done": ("", "stream ended without [DONE] after 6 tokens"),
    "hang": ("read_timeout_s = 0.3\n", "nothing read for read_timeout_s = 0.3 s after 6 tokens"),
    "trickle": ("deadline_s = 0.5\n", "no complete answer within deadline_s = 0.5 s"),
    "negative_usage": ("", "usage.completion_tokens = -3 (must be a whole number >= 1)"),
    "zero_usage": ("", "usage.completion_tokens = 0"),
    "error": ("", "HTTP 500: model exploded"),
    "error_event": ("", "error event after 2 tokens: the model fell over"),
    "no_content": ("", "stream held no content token"),
    "malformed": ("", "malformed event after 2 tokens"),
}


@pytest.mark.realtime
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_fails_its_samples_with_the_reason(fault, llm_system, tmp_path):
    keys, reason = FAULTS[fault]
    system = llm_system(f'max_tokens = 6\nextra_body = {{ fault = "{fault}" }}\n{keys}', name=fault)
    began = time.perf_counter()
    result = bench_run(system, tmp_path / fault, queries="6", duration="0.1")
    assert time.perf_counter() - began < 5.0
    assert result["failed_queries"] == result["query_count"] == result["sut_stats"]["failed"] >= 6
    assert not result["valid"] and any(reason in r for r in result["invalid_reasons"]), result["invalid_reasons"]
    assert result["tokens"]["output_tokens"] == 0 and result["tokens"]["tokens_per_second"] == 0.0


@pytest.mark.realtime
def test_bad_samples_fail_while_the_others_complete(llm_system, tmp_path):
    prompts = '["fine", "[fault=break] broken", "also fine", "[fault=negative_usage] x"]'
    result = bench_run(llm_system(f"max_tokens = 4\nprompts = {prompts}\n"), tmp_path / "mix", queries="24")
    q = per_sample(tmp_path / "mix")
    failed = q["completed_s"].isna()
    assert 0 < failed.sum() < len(q) == result["query_count"] and result["failed_queries"] == failed.sum()
    assert (q.loc[~failed, "tokens"] == 4).all()


@pytest.mark.realtime
def test_a_refused_connection_fails_every_sample(llm_system, tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]    # closed again before the run: nothing listens there
    result = bench_run(llm_system(url=f"http://127.0.0.1:{port}/v1"), tmp_path / "refused", queries="4")
    assert result["failed_queries"] == result["query_count"]
    assert any("request failed: ClientConnectorError" in r for r in result["invalid_reasons"])


@pytest.mark.realtime
def test_concurrency_caps_open_streams(llm_system, tmp_path):
    result = bench_run(llm_system("max_tokens = 8\nconcurrency = 2\n"), tmp_path / "cap", qps="150", queries="20")
    assert result["failed_queries"] == 0 and result["sut_stats"]["peak_open_streams"] == 2
