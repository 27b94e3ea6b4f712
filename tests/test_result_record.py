"""result.json's one typed record (harness.record.schema): what a run builds is what it writes
and what every reader reads back; bad files are refused naming the file and the key."""

import json
from pathlib import Path

import pytest

from clirun import bench
from harness.errors import ConfigError
from harness.record.rundir import write_run
from harness.render.page import write_report
from harness.render import view
from harness.record.schema import load, read, to_dict, to_json
from harness.measure.runner import RunRequest, execute, prepare
from harness.sweep.figures import from_result
from records import record, record_dict

DATA = Path(__file__).parent / "data" / "results"


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sys")
    system = folder / "syn.toml"
    system.write_text('name = "syn"\nadapter = "synthetic"\n[service]\ndistribution = "exponential"\n'
                      'mean_s = 0.002\n', encoding="utf-8")
    run = execute(prepare(RunRequest("server", str(system), "tiny", target_qps=200, duration_s=1,
                                     min_queries=50)))
    out = write_run(folder / "run", run.record, run.records)
    return run, out


def test_build_write_read_gives_the_same_record(synthetic_run):
    run, out = synthetic_run
    back = load(out)
    assert back == run.record
    assert back.energy is None and back.tokens is None and back.accelerator is None
    assert (out / "result.json").read_text(encoding="utf-8") == to_json(back)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir() if (p / "result.json").is_file()))
def test_reading_and_writing_a_file_loses_adds_and_moves_nothing(name):
    path = DATA / name / "result.json"
    text = json.dumps(json.loads(path.read_text(encoding="utf-8")))
    assert json.dumps(to_dict(read(path))) == text


def test_an_unknown_schema_version_is_refused_as_before(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(record_dict(schema=2)), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        read(path)
    assert str(exc.value) == f"{path}: schema = 2: unsupported result schema (this bench reads schema 1)"


def test_a_missing_key_is_one_error_naming_the_file_and_the_key(tmp_path, capsys):
    data = record_dict()
    del data["latency_s"]["p99"]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "result.json").write_text(json.dumps(data), encoding="utf-8")
    code, _, err = bench(capsys, "report", str(tmp_path / "r"), "--out", str(tmp_path / "x.html"))
    where = tmp_path / "r" / "result.json"
    assert code == 2 and f"{where}: latency_s.p99: missing (expected a number or null)" in err
    assert "Traceback" not in err


def test_an_ill_typed_nested_key_is_named_with_its_path(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(record_dict(energy__breakdown_j={"mac": "lots"})), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"energy\.breakdown_j\.mac = 'lots': must be a number"):
        read(path)


def test_no_energy_section_reads_as_not_measured_never_zero(synthetic_run, tmp_path):
    run, out = synthetic_run
    rows = dict(view.headline(run.record))
    assert rows["energy"] == view.NOT_MEASURED and "energy per sample" not in rows
    html = write_report([out], tmp_path / "r.html").read_text(encoding="utf-8")
    assert view.NOT_MEASURED in html and "0 mJ" not in html
    figures = from_result(run.record)
    assert figures["energy_per_sample_j"] is None and figures["power_w"] is None


def test_an_energy_section_reads_as_its_figures():
    rows = dict(view.headline(record()))
    assert rows["energy per sample"] == "4 mJ" and rows["average power"] == "3.2 W"


def test_an_energy_figure_that_is_unknown_prints_as_such():
    from harness.cli.run import headline
    lines = headline(record(energy__joules_per_sample=None))
    assert "  energy n/a mJ/sample, average power 3.200 W" in lines
    assert not any("energy" in line for line in headline(record(energy__joules_per_sample=None,
                                                                 energy__average_power_w=None)))
