"""The README is a promise: its two set-up commands name things that exist, and every line of
its tour runs and returns the exit status it states."""

import re
import shutil
import shlex
from pathlib import Path

import pytest

from harness.cli.main import main

README = Path(__file__).resolve().parents[1] / "README.md"


def block_after(marker: str) -> list[str]:
    text = README.read_text()
    body = text.split(marker, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in body.splitlines() if line.strip()]


def test_setup_commands():
    text = README.read_text()
    assert "pip install -e . && bench run --scenario server --sut npu_v2" in text
    assert "pip install -e '.[test]' && pytest" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "pip install -e '.[test]' && pytest" in ci


def test_tour(tmp_path, monkeypatch, capsys):
    shutil.copytree(README.parent / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for line in block_after("<!-- tour -->"):
        command, _, comment = line.partition("#")
        expected = int(m.group(1)) if (m := re.search(r"exit (\d+)", comment)) else 0
        argv = shlex.split(command)
        assert argv[0] == "bench"
        with pytest.raises(SystemExit) as exit_:
            main(argv[1:])
        out, err = capsys.readouterr()
        assert exit_.value.code == expected, f"{line}\n{out}\n{err}"
