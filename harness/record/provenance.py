"""Where a run was measured: host, CPU, OS, Python and the versions of the numeric stack.

Virtual-time runs are bit-exact for a seed only with the same numpy (its MT19937 streams and
the generators built on them), and every figure may move with a new scipy, pandas, pyarrow or
numba; a real SUT's figures also depend on the host and CPU. result.json records all of it
under `environment`; compare and gate name the packages whose versions differ between runs.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

PACKAGES = ("numpy", "scipy", "pandas", "pyarrow", "numba")
WHEN_USED = ("onnxruntime",)   # recorded when the run imported it (its SUT used it)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    """This process's host, CPU, OS, Python and package versions."""
    packages = {p: _version(p) for p in PACKAGES}
    packages.update({p: _version(p) for p in WHEN_USED if p in sys.modules})
    return {"host": platform.node(), "cpu": _cpu_model(), "cpu_count": os.cpu_count(),
            "os": platform.platform(), "python": platform.python_version(),
            "packages": {k: v for k, v in packages.items() if v is not None}}


def versions(env: dict | None) -> dict[str, str]:
    """Python's and each package's version, flat (empty for a result that recorded none)."""
    if not isinstance(env, dict):
        return {}
    flat = {"python": env.get("python")}
    packages = env.get("packages")
    if isinstance(packages, dict):
        flat.update(packages)
    return {k: str(v) for k, v in flat.items() if v is not None}


def differences(envs: list[dict | None]) -> list[str]:
    """'numpy 1.26.4 vs 2.1.0' for every version that differs between the results that
    recorded one (results without an environment, e.g. MLPerf logs, are not compared)."""
    seen: dict[str, list[str]] = {}
    for env in envs:
        for name, version in versions(env).items():
            if version not in seen.setdefault(name, []):
                seen[name].append(version)
    return [f"{name} {' vs '.join(vs)}" for name, vs in sorted(seen.items()) if len(vs) > 1]
