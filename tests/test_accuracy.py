"""Accuracy is declared by the workload with its source, never estimated: a variant it does not
declare is unknown, and a sweep that selects on accuracy leaves such points out, saying so."""

import json

import pandas as pd
import pytest

from clirun import bench
from harness.errors import ConfigError
from harness.sweep.figures import from_result
from records import record
from harness.workloads import load_workload


def test_resnet50_declares_its_measured_variants_with_sources():
    variants = {(a.precision, a.sparsity): a for a in load_workload("resnet50").accuracy}
    assert set(variants) == {("fp32", "1:1"), ("int8", "1:1")}
    assert variants[("int8", "1:1")].value == 0.76076 and "accuracy.txt" in variants[("int8", "1:1")].source
    assert variants[("fp32", "1:1")].value == 0.7646


@pytest.mark.parametrize("entry,message", [
    ('precision = "int8"\nvalue = 1.5\nmetric = "top-1"\nsource = "x"', "accuracy[0].value = 1.5: must be a number from 0 to 1"),
    ('precision = "int8"\nvalue = 0.7\nmetric = "top-1"\nsource = " "', "accuracy[0].source = ' ': must say where it was measured"),
    ('precision = "int3"\nvalue = 0.7\nmetric = "top-1"\nsource = "x"', "accuracy[0].precision = 'int3': must be one of"),
    ('precision = "int8"\nsparsity = "4:2"\nvalue = 0.7\nmetric = "top-1"\nsource = "x"', 'must be "N:M" with 0 < N <= M'),
])
def test_bad_declarations_name_the_key(tmp_path, entry, message):
    path = tmp_path / "w.toml"
    path.write_text('extends = "resnet50"\nname = "w"\n[[accuracy]]\n' + entry + "\n")
    with pytest.raises(ConfigError) as err:
        load_workload(str(path))
    assert message in str(err.value)


def test_a_variant_declared_twice_is_refused(tmp_path):
    path = tmp_path / "w.toml"
    entry = '[[accuracy]]\nprecision = "int8"\nsparsity = "2:2"\nvalue = 0.7\nmetric = "top-1"\nsource = "x"\n'
    path.write_text('extends = "resnet50"\nname = "w"\n' + entry + entry)
    with pytest.raises(ConfigError) as err:
        load_workload(str(path))
    assert "declared twice for sparsity 1:1" in str(err.value)


def test_a_sweep_on_accuracy_leaves_unknown_variants_out_and_says_so(capsys, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nmode = "profile"\n[grid]\nsystem = ["npu_v2"]\ncompute.precision = ["int4", "int8"]\n'
                     'compute.sparsity = ["1:1", "2:4"]\n[best]\nmaximize = "samples_per_s"\n'
                     '[best.constraints]\naccuracy = { min = 0.755 }\n')
    code, out, err = bench(capsys, "sweep", sweep, "--out", tmp_path / "o", "--quiet", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["best"]["point"].startswith("npu_v2_int8_1-1") and data["unknown_accuracy"] == 3
    frame = pd.read_parquet(tmp_path / "o" / "summary.parquet").set_index("point")
    assert frame["accuracy"].notna().sum() == 1  # int4 and 2:4 are unknown, not guessed
    page = (tmp_path / "o" / "sweep.html").read_text()
    assert "3 finished point(s) left out: their workload declares no accuracy" in page
    assert page.count(">unknown<") >= 1 and "76.08 %" in page


def test_a_run_points_accuracy_comes_from_its_precision():
    declared = [a.as_dict() for a in load_workload("resnet50").accuracy]
    result = record(sut__config={"compute": {"precision": "int8", "sparsity": "1:1"}},
                    workload__accuracy=declared)
    assert from_result(result)["accuracy"] == 0.76076
    # a SUT with no precision: unknown, never a default
    assert from_result(record(sut__config={"service": {}}, workload__accuracy=declared))["accuracy"] is None
