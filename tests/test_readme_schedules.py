"""The README's "Schedules over engines": its commands run and print the figures quoted beside
them, and its table's profile figures are what `bench profile` gives today."""

import re
import shlex
from pathlib import Path

import pytest

from harness import catalog
from harness.accel import AcceleratorModel, load_hardware
from harness.cli.main import main
from harness.workloads import load_workload

README = Path(__file__).resolve().parents[1] / "README.md"
ROWS = {"independent": {}, "pipeline (balanced at batch 8)": {"compute.schedule": "pipeline"},
        "pipeline, cut at stage5.1.conv2": {"compute.schedule": "pipeline",
                                             "compute.pipeline_cuts": ["stage5.1.conv2"]},
        "split_batch": {"compute.schedule": "split_batch"},
        "split_spatial": {"compute.schedule": "split_spatial"}}


def section() -> str:
    text = README.read_text()
    return text.split("### Schedules over engines", 1)[1].split("\n### ", 1)[0]


def profile(batch: int, **keys):
    hw = load_hardware(catalog.resolve("systems", "npu_v2"), "npu_v2", keys)
    return AcceleratorModel(hw, load_workload("resnet50")).profile(batch).total


@pytest.mark.slow
def test_every_command_prints_the_figure_beside_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    block = section().split("<!-- schedules -->\n```sh\n", 1)[1].split("```", 1)[0]
    for line in filter(str.strip, block.splitlines()):
        command, _, figure = line.partition("#")
        with pytest.raises(SystemExit) as exit_:
            main(shlex.split(command)[1:])
        out, err = capsys.readouterr()
        assert exit_.value.code == 0, f"{line}\n{out}\n{err}"
        assert figure.strip() in out, f"{line}\n{out}"


def test_the_table_holds_todays_profile_figures():
    table = {cells[0]: cells[1:] for cells in
             (re.split(r"\s*\|\s*", row.strip(" |")) for row in section().splitlines()
              if row.startswith("| ") and not row.startswith(("| schedule", "| ---")))}
    assert set(table) == set(ROWS)
    for name, keys in ROWS.items():
        one, eight = profile(1, **keys), profile(8, **keys)
        latency, _, _, dram, energy = table[name]
        assert latency == f"{one['time_s'] * 1e3:.3f} ms"
        assert dram == f"{one['dram_bytes'] / 1e6:.3f} / {eight['dram_bytes'] / 8e6:.3f}"
        assert energy == f"{one['energy_per_sample_j'] * 1e3:.3f}"


def test_the_pipeline_wins_where_the_dram_is_the_limit():
    slow = {"memory.dram_bytes_per_s": 12.8e9}
    one = profile(1, **slow)
    piped = profile(1, **slow, **ROWS["pipeline, cut at stage5.1.conv2"])
    text = section()
    assert f"one engine takes {one['time_s'] * 1e6:.0f} us" in text
    assert f"pipeline {piped['time_s'] * 1e6:.0f} us, a batch every {piped['schedule']['interval_s'] * 1e6:.0f} us" in text
