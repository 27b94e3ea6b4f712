"""One --set router for bench run, bench profile and sweeps: masters.NAME.FIELD and workload.KEY
work everywhere, with the same checks."""

import json

import pytest

from clirun import bench
from harness.measure.runner import route_sets
from harness.sweep.inputs import system_overrides



def test_run_and_sweep_fold_master_edits_alike():
    _, system, _ = route_sets(("masters.camera.frame_rate_hz=60", "compute.engines=1"), "npu_v2")
    swept = system_overrides({"system": "npu_v2", "masters.camera.frame_rate_hz": 60,
                              "compute.engines": 1}, ".")
    assert system == swept
    camera = next(m for m in system["memory.masters"] if m["name"] == "camera")
    assert camera["period_s"] == pytest.approx(1 / 60)


def test_a_faster_camera_in_bench_run(capsys, tmp_path):
    margins = {}
    for fps in (30, 120):
        out = tmp_path / str(fps)
        code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", "npu_v2", "--duration", "1",
                             "--set", f"masters.camera.frame_rate_hz={fps}", "--out", str(out), "--no-report")
        assert code == 0, err
        result = json.loads((out / "result.json").read_text())
        camera = next(m for m in result["sut"]["config"]["memory"]["masters"] if m["name"] == "camera")
        assert camera["period_s"] == pytest.approx(1 / fps)
        outcome = next(o for o in result["accelerator"]["realtime_masters"] if o["name"] == "camera")
        margins[fps] = outcome["margin_s"]
    assert margins[120] < margins[30]  # four times the traffic leaves less FIFO margin


def test_profile_takes_master_edits(capsys):
    code, out, err = bench(capsys, "profile", "--sut", "npu_v2", "--workload", "resnet50", "--format", "json",
                           "--set", "masters.camera.frame_rate_hz=60")
    assert code == 0, err
    assert json.loads(out)["total"]["contention"]["hyperperiod_s"] == pytest.approx(1 / 60)


@pytest.mark.parametrize("command,assignment,message", [
    ("profile", "masters.camera.frame_rate_hz=0", "--set: masters.camera.frame_rate_hz = 0: must be > 0"),
    ("profile", "masters.cam.frame_rate_hz=30", "no such master; known: camera, display"),
    ("profile", "masters.camera.speed=3", "expected masters.NAME.FIELD with FIELD one of"),
    ("profile", "server_target_qps=3", "a test setting applies to bench run only"),
    ("run", "masters.camera.resolution=\"640x480\"", "needs masters.NAME.bytes_per_pixel as well"),
])
def test_bad_master_edits_are_one_line_errors(capsys, tmp_path, command, assignment, message):
    args = (["profile", "--sut", "npu_v2", "--workload", "resnet50"] if command == "profile" else
            ["run", "--scenario", "server", "--sut", "npu_v2", "--duration", "1", "--out", str(tmp_path / "r")])
    code, _, err = bench(capsys, *args, "--set", assignment)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
