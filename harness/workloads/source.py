"""What every workload format shares: its identity keys and its fingerprint.

A CSV or ONNX workload has no TOML of its own, so `name`, `benchmark` and `description` come
from `--set` overrides (default: the file's stem); any other override key is an error there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, Problem
from harness.spec import Problems, Reader, apply_overrides


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def fingerprint_all(paths: Iterable[Path], overrides: dict[str, Any] | None) -> str:
    """Hash of the files a workload was read from and of the overrides applied to them.

    A single file without overrides hashes exactly as `fingerprint(path)`.
    """
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    if overrides:
        digest.update(json.dumps(overrides, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def read_identity(r: Reader, default_name: str) -> tuple[str, str, str]:
    name = r.get("name", str, default=default_name)
    benchmark = r.get("benchmark", str, default=name)
    description = r.get("description", str, default="")
    return name, benchmark, description


def identity_from_overrides(source: str, stem: str, overrides: dict[str, Any] | None):
    """(name, benchmark, description) of a CSV/ONNX workload, from `--set` overrides only."""
    raw: dict = {}
    origins = apply_overrides(raw, overrides or {})
    problems = Problems()
    r = Reader(raw, source, problems, origins=origins)
    identity = read_identity(r, stem)
    r.done()
    raise_unique(problems)
    return identity


def raise_unique(problems: Problems) -> None:
    """Raise the collected problems, each once (a block used N times reports a fault once)."""
    unique: dict[str, Problem] = {}
    for problem in problems.items:
        unique.setdefault(str(problem), problem)
    if unique:
        raise ConfigError(list(unique.values()))
