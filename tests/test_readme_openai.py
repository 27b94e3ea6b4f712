"""The README's OpenAI-compatible server examples: every system file it shows loads, names the
endpoint its server serves, and runs against the test server (tests/servers/openai_llm.py) with
only its `url` changed; so does the command line it shows."""

import json
import re
import shlex
from pathlib import Path

import pytest

from harness.measure.systems import load_system
from test_realtime import main_code

README = Path(__file__).resolve().parents[1] / "README.md"
ENDPOINTS = {   # name: the endpoint its server answers streamed requests on
    "vllm_llama3.1_8b": "http://127.0.0.1:8000/v1/completions",
    "sglang_llama3.1_8b": "http://127.0.0.1:30000/v1/chat/completions",
    "tgi_llama3.1_8b": "http://127.0.0.1:8080/v1/chat/completions",
    "llamacpp_local": "http://127.0.0.1:8080/v1/completions",
}


def section() -> str:
    text = README.read_text().split("<!-- openai systems -->", 1)[1]
    return text.split("\n### ", 1)[0]


def systems() -> dict[str, str]:
    blocks = re.findall(r"```toml\n(.*?)```", section(), re.S)
    return {re.search(r'^name = "([^"]+)"', b, re.M).group(1): b for b in blocks}


@pytest.fixture
def server(llm_server):
    return llm_server


@pytest.fixture
def place(tmp_path, monkeypatch):
    """Write a README system file (and what it reads) into tmp_path; with `url`, pointed there."""
    monkeypatch.setenv("VLLM_API_KEY", "sk-readme-test")
    (tmp_path / "prompts.txt").write_text("What limits decode speed?\nExplain TTFT.\n")

    def _place(name: str, url: str | None = None, file: str | None = None) -> Path:
        text = systems()[name]
        if url:
            text = re.sub(r'^url = "[^"]*"', f'url = "{url}"', text, flags=re.M)
        path = tmp_path / (file or f"{name}.toml")
        path.write_text(text)
        return path
    return _place


def test_the_section_shows_the_four_servers():
    assert set(systems()) == set(ENDPOINTS)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_system_file_loads_and_names_its_endpoint(name, place):
    spec = load_system(str(place(name)))
    assert spec.adapter == "openai" and spec.config.endpoint == ENDPOINTS[name]


@pytest.mark.realtime
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_system_file_runs_against_the_test_server(name, place, server, tmp_path):
    system, out = place(name, server.url), tmp_path / "out"
    code = main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "llama3.1-8b",
                      "--target-qps", "20", "--duration", "0.2", "--min-queries", "4", "--out", str(out),
                      "--no-report"])
    result = json.loads((out / "result.json").read_text())
    config = load_system(str(system)).config
    assert code == 0 and result["failed_queries"] == 0 and result["query_count"] >= 4
    assert result["tokens"]["output_tokens"] == config.max_tokens * result["query_count"]
    assert result["sut_stats"]["token_counts"]["usage"] == result["query_count"]


@pytest.mark.realtime
def test_the_command_line(place, server, tmp_path, monkeypatch):
    line = re.search(r"```sh\n(bench run .*?)\n```", section()).group(1)
    argv = shlex.split(line)
    place("vllm_llama3.1_8b", server.url, file=argv[argv.index("--sut") + 1])
    monkeypatch.chdir(tmp_path)
    assert main_code(argv[1:]) == 0
    result = json.loads((tmp_path / "reports" / "vllm" / "result.json").read_text())
    assert result["failed_queries"] == 0 and result["sut"]["config"]["openai"]["api_key_env"] == "VLLM_API_KEY"
    assert "sk-readme-test" not in (tmp_path / "reports" / "vllm" / "result.json").read_text()
