"""The `python` adapter: strict loading of its keys and finding the callable."""

import sys

import pytest

from harness.errors import ConfigError
from harness.sut.base import adapters
from harness.measure.systems import load_system

SUT_PY = "def infer(samples):\n    return None\n\nclass Model:\n    @staticmethod\n    def run(samples):\n        pass\n\nvalue = 3\n"


@pytest.fixture
def system(write):
    write("mysut.py", SUT_PY)

    def _make(body: str, name: str = "py.toml"):
        return write(name, 'name = "py"\nadapter = "python"\n' + body)
    return _make


def test_registered_with_the_other_adapters():
    assert {"python", "onnxruntime", "http", "synthetic"} <= set(adapters())


def test_defaults_and_the_callable_beside_the_system_file(system):
    spec = load_system(str(system('[python]\ncallable = "mysut:infer"\n')))
    c = spec.config
    assert (c.callable, c.workers, c.timeout_s, c.max_batch, c.batch_timeout_s) == ("mysut:infer", 1, 10.0, 1, 0.0)
    assert c.function.__name__ == "infer" and c.function([1, 2]) is None


def test_every_key_and_a_dotted_attribute(system):
    spec = load_system(str(system('[python]\ncallable = "mysut:Model.run"\nworkers = 0\ntimeout_s = 0.5\n'
                                  '[batching]\nmax_batch = 8\ntimeout_s = 0.002\n')))
    c = spec.config
    assert (c.workers, c.timeout_s, c.max_batch, c.batch_timeout_s) == (0, 0.5, 8, 0.002)
    assert c.function.__qualname__ == "Model.run"


def test_two_systems_with_same_named_modules_do_not_collide(write, tmp_path):
    for folder, result in (("a", 1), ("b", 2)):
        (tmp_path / folder).mkdir()
        write(f"{folder}/sut.py", f"def infer(samples):\n    return {result}\n")
        write(f"{folder}/s.toml", 'adapter = "python"\n[python]\ncallable = "sut:infer"\n')
    a = load_system(str(tmp_path / "a" / "s.toml")).config.function
    b = load_system(str(tmp_path / "b" / "s.toml")).config.function
    assert (a([]), b([])) == (1, 2)


def test_a_module_on_sys_path(system):
    spec = load_system(str(system('[python]\ncallable = "json:dumps"\n')))
    assert spec.config.function is sys.modules["json"].dumps


BAD = {
    "missing table": ("", "python: required table is missing"),
    "missing callable": ("[python]\nworkers = 1\n", "python.callable: required key is missing"),
    "no colon": ('[python]\ncallable = "mysut.infer"\n', "python.callable = 'mysut.infer': must be 'module:function'"),
    "no module": ('[python]\ncallable = "nosuchmod_xyz:f"\n', "python.callable = 'nosuchmod_xyz:f': cannot import 'nosuchmod_xyz': ModuleNotFoundError"),
    "no attribute": ('[python]\ncallable = "mysut:predict"\n', "python.callable = 'mysut:predict': 'mysut' has no attribute 'predict'"),
    "not callable": ('[python]\ncallable = "mysut:value"\n', "mysut:value is not callable"),
    "workers": ('[python]\ncallable = "mysut:infer"\nworkers = -1\n', "python.workers = -1: must be >= 0"),
    "timeout": ('[python]\ncallable = "mysut:infer"\ntimeout_s = 0\n', "python.timeout_s = 0.0: must be a finite number > 0"),
    "unknown key": ('[python]\ncallable = "mysut:infer"\nthreads = 4\n', "python.threads = 4: unknown key"),
    "batching": ('[python]\ncallable = "mysut:infer"\n[batching]\nmax_batch = 0\nper_sample_s = 1\n',
                 "batching.max_batch = 0: must be a number from 1 to 4096"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_name_file_key_value_and_rule(system, case):
    body, message = BAD[case]
    path = system(body)
    with pytest.raises(ConfigError) as info:
        load_system(str(path))
    assert str(path) in str(info.value) and message in str(info.value), str(info.value)


def test_all_problems_are_reported_together(system):
    path = system('[python]\ncallable = "mysut:nope"\nworkers = -2\ntimeout_s = -1\n[batching]\nmax_batch = 0\n')
    with pytest.raises(ConfigError) as info:
        load_system(str(path))
    keys = [p.key for p in info.value.problems]
    assert sorted(keys) == ["batching.max_batch", "python.callable", "python.timeout_s", "python.workers"]


def test_an_import_error_inside_the_module_is_a_config_problem(write):
    write("broken.py", "raise RuntimeError('needs a GPU')\n")
    path = write("b.toml", 'adapter = "python"\n[python]\ncallable = "broken:infer"\n')
    with pytest.raises(ConfigError, match="cannot import 'broken': RuntimeError: needs a GPU"):
        load_system(str(path))
