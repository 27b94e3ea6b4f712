"""Sweep files: strict loading, grid expansion, parameter translation, checks against the files."""

import textwrap

import pytest

from harness.errors import ConfigError
from harness.measure.masters_edit import edit_masters
from harness.spec import parse_value
from harness.sweep import check_inputs, load_sweep
from harness.sweep import params as P
from harness.sweep.inputs import profile_inputs, run_request
from harness.sweep.spec import Constraint


@pytest.fixture
def sweep_file(tmp_path):
    def _make(text: str, name: str = "s.toml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path
    return _make


def problems(path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        check_inputs(load_sweep(path))
    return info.value.lines()


GRID = """
    [sweep]
    mode = "profile"
    [fixed]
    system = "npu_v2"
    workload = "tiny"
    [grid]
    array = [{ compute.array_rows = 32, compute.array_cols = 32 },
             { compute.array_rows = 64, compute.array_cols = 64 }]
    memory.sram_bytes = [1048576, 2097152, 4194304]
    [[points]]
    system = "npu_v1"
    batch = 4
"""


def test_grid_is_the_cartesian_product_then_the_listed_points(sweep_file):
    sweep = load_sweep(sweep_file(GRID))
    assert len(sweep.points) == 2 * 3 + 1
    first, second, last = sweep.points[0].params, sweep.points[1].params, sweep.points[-1].params
    assert first == {"system": "npu_v2", "workload": "tiny", "compute.array_rows": 32,
                     "compute.array_cols": 32, "memory.sram_bytes": 1048576}
    assert second["memory.sram_bytes"] == 2097152 and second["compute.array_rows"] == 32  # last axis fastest
    assert last == {"system": "npu_v1", "workload": "tiny", "batch": 4}
    assert sweep.parameter_keys == ["system", "workload", "compute.array_rows", "compute.array_cols",
                                    "memory.sram_bytes", "batch"]


def test_point_names_are_stable_unique_and_readable(sweep_file):
    names = [p.name for p in load_sweep(sweep_file(GRID)).points]
    assert names == [p.name for p in load_sweep(sweep_file(GRID, "again.toml")).points]
    assert len(set(names)) == len(names)
    assert names[0].startswith("npu_v2_tiny_32_32_1048576-")


def test_defaults_objectives_and_best(sweep_file):
    sweep = load_sweep(sweep_file("""
        [fixed]
        system = "npu_v2"
        scenario = "server"
        compute.array_rows = 64
        [best]
        maximize = "samples_per_s"
        [best.constraints]
        p99_s = { max = 0.015 }
        valid = true
        compute.array_rows = { min = 64 }
    """))
    assert sweep.settings.mode == "run" and len(sweep.points) == 1
    assert sweep.objectives == (("p99_s", "min"), ("samples_per_s", "max"), ("energy_per_sample_j", "min"))
    assert sweep.best.column == "samples_per_s" and sweep.best.direction == "max"
    assert sweep.best.constraints == (Constraint("p99_s", high=0.015), Constraint("valid", equals=True),
                                      Constraint("compute.array_rows", low=64))


def test_every_problem_is_reported_with_its_place_value_and_rule(sweep_file):
    lines = problems(sweep_file("""
        [sweep]
        mode = "profile"
        duration_s = 10
        colour = "red"
        [fixed]
        system = "npu_v2"
        scenario = "server"
        [grid]
        memory.sram_bytes = 5
        masters.camera.fps = [30]
        bogus = [1, 2]
        [best]
        maximize = "throughput"
    """))
    path = lines[0].split(":")[0]
    assert all(line.startswith(path) for line in lines)
    text = "\n".join(lines)
    for expected in ["sweep.duration_s = 10.0: applies to mode = \"run\" only",
                     "sweep.colour = 'red': unknown key",
                     "grid.memory.sram_bytes = 5: must be a non-empty array",
                     "fixed.scenario = 'server': applies to mode = \"run\" only",
                     "grid.masters.camera.fps[0] = 30: expected masters.NAME.FIELD",
                     "grid.bogus[0] = 1: unknown parameter",
                     "best.maximize = 'throughput': unknown column"]:
        assert expected in text
    assert text.count("grid.bogus") == 2  # one per distinct value, not per point


def test_values_are_checked_against_the_files_each_once(sweep_file):
    lines = problems(sweep_file("""
        [sweep]
        mode = "profile"
        [grid]
        system = ["npu_v2", "nope"]
        compute.array_rows = [0, 64]
        compute.aray_cols = [64]
        masters.video.frame_rate_hz = [30]
    """))
    assert len(lines) == 4
    assert "grid.compute.array_rows[0] = 0: must be a number from 1 to 65536" in lines[0]
    assert "grid.compute.aray_cols[0] = 64: unknown key" in lines[1]
    assert "masters.video" in lines[2] and "no such master; known: camera, display" in lines[2]
    assert "grid.system[1] = 'nope': unknown system; known:" in lines[3]


def test_run_sweeps_need_a_scenario_and_profiles_an_accelerator(sweep_file, synthetic):
    assert "every point of a run sweep needs a scenario" in problems(sweep_file("""
        [fixed]
        system = "npu_v2"
    """))[0]
    system = synthetic()
    lines = problems(sweep_file(f"""
        [sweep]
        mode = "profile"
        [fixed]
        system = "{system}"
    """))
    assert 'needs an accelerator system' in lines[0]


def test_duplicate_points_are_refused(sweep_file):
    lines = problems(sweep_file("""
        [fixed]
        system = "npu_v2"
        scenario = "server"
        [grid]
        target_qps = [100, 100]
    """))
    assert any("duplicates the point" in line for line in lines)


# ---------------------------------------------------------------- translation


def test_frame_rate_keeps_bytes_per_frame_and_resolution_sets_them():
    camera = {"name": "camera", "bytes_per_s": 1.2e9, "period_s": 1 / 30, "duty": 0.9}
    [fast] = edit_masters([camera], {"camera": {"frame_rate_hz": 60}}, "x")
    assert fast["period_s"] == pytest.approx(1 / 60) and fast["bytes_per_s"] == pytest.approx(2.4e9)
    [hd] = edit_masters([camera], {"camera": {"resolution": "1920x1080", "bytes_per_pixel": 2.0,
                                                "frame_rate_hz": 60}}, "x")
    assert hd["bytes_per_s"] == pytest.approx(1920 * 1080 * 2.0 * 60)
    assert camera["bytes_per_s"] == 1.2e9  # the input is not changed


def test_master_rules_need_consistent_fields():
    rules = P.point_rules({"system": "s", "masters.camera.resolution": "4k",
                           "masters.camera.bytes_per_s": 1.0, "masters.camera.frame_rate_hz": 30}, "profile")
    text = "; ".join(r for _, _, r in rules)
    assert 'must be "WxH"' in text and "needs masters.NAME.bytes_per_pixel" in text
    assert "conflicts with frame_rate_hz, resolution" in text


@pytest.mark.parametrize("value", [1, 2.5, 1e-9, 25.6e9, float("inf"), True, "ws", 'a "q"',
                                   [3, 224, 224], [{"name": "camera", "duty": 0.9}], []])
def test_literals_parse_back_as_set_values(value):
    assert parse_value(P.literal(value)) == value


def test_a_run_point_becomes_an_ordinary_run_request(sweep_file):
    sweep = load_sweep(sweep_file("""
        [sweep]
        seed = 3
        duration_s = 2
        [fixed]
        system = "npu_v2"
        scenario = "offline"
        target_qps = 900
        server_target_latency_ns = 1e7
        workload.input = [3, 160, 160]
        masters.camera.frame_rate_hz = 60
        compute.engines = 1
    """))
    request = run_request(sweep.points[0].params, sweep.settings)
    assert (request.scenario, request.sut, request.workload, request.target_qps) == ("offline", "npu_v2", "resnet50", 900)
    assert (request.seed, request.duration_s) == (3, 2.0)
    sets = dict(s.split("=", 1) for s in request.sets)
    assert sets["server_target_latency_ns"] == "10000000.0" and sets["compute.engines"] == "1"
    assert sets["workload.input"] == "[3, 160, 160]"
    camera = parse_value(sets["memory.masters"])[0]
    assert camera["name"] == "camera" and camera["period_s"] == pytest.approx(1 / 60)


def test_a_profile_point_becomes_hardware_and_workload(sweep_file):
    sweep = load_sweep(sweep_file(GRID))
    hardware, workload, batch = profile_inputs(sweep.points[-1].params, sweep.settings.base_dir)
    assert (hardware.name, workload.name, batch) == ("npu_v1", "tiny", 4)
    hardware, _, batch = profile_inputs(sweep.points[0].params, sweep.settings.base_dir)
    assert (hardware.compute.array_rows, hardware.memory.sram_bytes, batch) == (32, 1048576, 1)


def test_a_grid_too_large_is_refused_before_it_is_built(sweep_file):
    values = ", ".join(str(i) for i in range(1, 101))
    path = sweep_file('[sweep]\nname = "g"\nmode = "profile"\n[fixed]\nsystem = "npu_v1"\nworkload = "tiny"\n'
                      f'[grid]\ncompute.array_rows = [{values}]\ncompute.array_cols = [{values}]\n'
                      f'memory.sram_bytes = [{values}]\ncompute.clock_hz = [{values}]\n')
    assert problems(path) == [f"{path}: grid = '100,000,000 points': a sweep holds at most 100,000 points: "
                              "fewer values per axis, or several sweeps"]


def test_find_peak_applies_to_run_sweeps_of_server_scenarios(sweep_file):
    path = sweep_file("""
        [sweep]
        find_peak = true
        [grid]
        system = ["npu_v2"]
        scenario = ["server", "Offline", "interactive", "single-stream"]
    """)
    lines = problems(path)
    rule = "find_peak = true searches the server and interactive scenarios only"
    assert lines == [f"{path}: grid.scenario[1] = 'Offline': {rule}",
                     f"{path}: grid.scenario[3] = 'single-stream': {rule}"]
    profile = sweep_file("""
        [sweep]
        mode = "profile"
        find_peak = true
        [fixed]
        system = "npu_v2"
    """, name="p.toml")
    assert problems(profile) == [f'{profile}: sweep.find_peak = True: applies to mode = "run" only']
    server = load_sweep(sweep_file('[sweep]\nfind_peak = true\n[fixed]\nsystem = "npu_v2"\n'
                                   'scenario = "server"\n', name="ok.toml"))
    assert server.settings.find_peak


def test_a_find_peak_point_is_not_the_run_point_done_before():
    from harness.sweep.inputs import fingerprint
    from harness.sweep.spec import RunSettings
    params = {"system": "npu_v2", "scenario": "server"}
    plain, searched = RunSettings(mode="run"), RunSettings(mode="run", find_peak=True)
    assert fingerprint(params, plain) != fingerprint(params, searched)
