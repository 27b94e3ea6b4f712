"""The README's system file of each real-time adapter loads, shows every key the adapter reads, and
gives each its default (a file with only the required keys describes the same config)."""

import re
import shutil
from pathlib import Path

import pytest

from harness.measure.systems import load_system
from harness.sut.base import find_adapter
from test_adapter_onnxruntime import mlp

README = Path(__file__).resolve().parents[1] / "README.md"
REQUIRED = {"python": {"callable"}, "onnxruntime": {"model"}, "http": {"url", "model"},
            "openai": {"url", "model"}}


def blocks() -> dict[str, str]:
    text = README.read_text()
    return dict(re.findall(r"<!-- system-file: (\w+) -->\n```toml\n(.*?)```", text, re.S))


def _files(tmp_path: Path) -> None:
    shutil.copy(Path(__file__).resolve().parents[1] / "examples" / "sleepy" / "sut.py", tmp_path / "sut.py")
    mlp(tmp_path / "model.onnx")


def _minimal(adapter: str, full: str) -> str:
    """The block with only its name, adapter, table headers and required keys."""
    keep = REQUIRED[adapter] | {"name", "adapter"}
    lines = [line for line in full.splitlines()
             if line.startswith("[") or line.split("=")[0].strip() in keep]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("adapter", sorted(REQUIRED))
def test_every_key_is_shown_at_its_default(tmp_path, adapter):
    text = blocks()[adapter]
    _files(tmp_path)
    (tmp_path / "full.toml").write_text(text)
    (tmp_path / "minimal.toml").write_text(_minimal(adapter, text))
    full, minimal = load_system(str(tmp_path / "full.toml")), load_system(str(tmp_path / "minimal.toml"))
    plugin = find_adapter(adapter, "README")
    described = plugin.describe(full.config)
    assert described == plugin.describe(minimal.config)
    shown = set(re.findall(r"^(\w+)\s*=", text, re.M))
    for table in described.values():
        assert set(k for k in table if k != "inputs") <= shown
