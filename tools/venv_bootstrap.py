"""Run a fixture script inside its own throwaway virtual environment (outside tools are not
bench's dependencies): used by tools/*/regen_fixture.py."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path


def rerun_in_venv(module: str, venv: Path, pip_specs: list[str], script: str) -> None:
    """Return if `module` imports here; else re-run `script` under `venv`'s Python, creating the
    venv with `pip_specs` installed when it is missing."""
    if importlib.util.find_spec(module) is not None:
        return
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *pip_specs], check=True)
    os.execv(str(python), [str(python), script, *sys.argv[1:]])
