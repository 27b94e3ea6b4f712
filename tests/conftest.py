import signal
import textwrap
from pathlib import Path

import pytest

# A shell that starts a job in the background (`cmd &` without job control) hands it SIGINT
# ignored, and Python then keeps it ignored, as do the processes it starts. The Ctrl-C tests
# need the interactive default, in pytest and in the `bench` processes they interrupt.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def write(tmp_path):
    """write("name.toml", text) -> path, dedented."""
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path
    return _write


@pytest.fixture
def synthetic(write):
    """A synthetic system file: synthetic(mean_s=0.001, distribution=..., servers=..., batching={...})."""
    def _make(name="syn", batching=None, **service):
        service.setdefault("distribution", "deterministic")
        service.setdefault("mean_s", 0.001)
        lines = [f'name = "{name}"', 'adapter = "synthetic"', "[service]"]
        lines += [f"{k} = {v!r}".replace("'", '"') for k, v in service.items()]
        if batching:
            lines += ["[batching]"] + [f"{k} = {v!r}" for k, v in batching.items()]
        return write(f"{name}.toml", "\n".join(lines) + "\n")
    return _make


@pytest.fixture(scope="session")
def llm_server():
    """The OpenAI-compatible test server (tests/servers/openai_llm.py: a tiny numpy transformer
    generating on the CPU) on 127.0.0.1, started once for the session."""
    from servers.openai_llm import LLMServer
    srv = LLMServer().start()
    yield srv
    srv.stop()
