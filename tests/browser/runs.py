"""Result directories for the report tests: real (small) runs of the synthetic SUT, and an
accelerator-shaped result made from one by adding the fixture blocks that the accelerator
adapter writes (tests/data/report/accelerator.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.record.rundir import write_run
from harness.measure.runner import RunRequest, execute, prepare

DATA = Path(__file__).resolve().parent.parent / "data" / "report"

SYSTEM = """\
name = "{name}"
adapter = "synthetic"
[service]
distribution = "exponential"
mean_s = 0.0005
servers = 2
"""


def system_file(folder: Path, name: str = "syn") -> Path:
    """A synthetic system file (the name is TOML-escaped, so any string can be tested)."""
    path = folder / "system.toml"
    path.write_text(SYSTEM.format(name=json.dumps(name)[1:-1]), encoding="utf-8")
    return path


def make_run(out: Path, sut: Path, scenario: str = "server", *, qps: float | None = 2000.0,
             duration_s: float | None = 5.0, sets: tuple[str, ...] = ()) -> Path:
    """Run the synthetic SUT in virtual time and write the run directory (without a report)."""
    request = RunRequest(scenario, str(sut), "tiny", qps, duration_s, None, 0, sets)
    run = execute(prepare(request))
    return write_run(out, run.result, run.records)


def accelerator_run(source: Path, out: Path, name: str = "npu_fixture") -> Path:
    """A copy of `source` that reads as an accelerator result: energy and per-layer blocks."""
    shutil.copytree(source, out)
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    result.update(json.loads((DATA / "accelerator.json").read_text(encoding="utf-8")))
    result["sut"].update(name=name, adapter="accelerator")
    (out / "result.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return out
