"""The same sweep on a Dask cluster (a LocalCluster on 127.0.0.1) writes exactly the local tables:
points are pure functions of their parameters and seeds."""

import textwrap

import pandas as pd
import pytest

from harness.errors import ConfigError
from harness.sweep import check_inputs, load_sweep, run_sweep

distributed = pytest.importorskip("distributed")

PROFILE = """
    [sweep]
    mode = "profile"
    [fixed]
    system = "npu_v2"
    workload = "tiny"
    [grid]
    compute.array_rows = [32, 64, 128]
    compute.precision = ["int8", "fp16"]
    masters.camera.frame_rate_hz = [30, 60]
    batch = [1, 4]
"""

RUN = """
    [sweep]
    seed = 11
    duration_s = 0.3
    min_queries = 50
    [fixed]
    system = "{system}"
    [grid]
    scenario = ["server", "single-stream"]
    target_qps = [200, 400]
    service.servers = [1, 2]
"""


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local.scheduler_address


def both(tmp_path, text: str, address: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(text))
    sweep = load_sweep(path)
    check_inputs(sweep)
    local = run_sweep(sweep, tmp_path / "local", workers=2)
    remote = run_sweep(sweep, tmp_path / "dask", scheduler=address)
    for name in ("summary.csv", "summary.parquet"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes()
    return local.frame, remote.frame


def test_profile_sweep_on_dask_equals_local(tmp_path, cluster):
    local, remote = both(tmp_path, PROFILE, cluster)
    assert len(local) == 24 and (local["status"] == "ok").all()
    pd.testing.assert_frame_equal(local, remote)


def test_run_sweep_on_dask_equals_local(tmp_path, cluster, synthetic):
    system = synthetic(distribution="exponential", mean_s=0.002)
    local, remote = both(tmp_path, RUN.format(system=system), cluster)
    assert len(local) == 8 and (local["status"] == "ok").all()
    pd.testing.assert_frame_equal(local, remote)


def test_unreachable_scheduler_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setattr("harness.sweep.pool.CONNECT_TIMEOUT_S", 1)
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(PROFILE))
    with pytest.raises(ConfigError, match="--scheduler.*cannot connect"):
        run_sweep(load_sweep(path), tmp_path / "out", scheduler="tcp://127.0.0.1:9")


def test_find_peak_sweep_on_dask_equals_local(tmp_path, cluster, synthetic):
    system = synthetic(distribution="exponential", mean_s=0.001)
    text = RUN.format(system=system).replace("seed = 11", "seed = 11\n    find_peak = true").replace(
        '"server", "single-stream"', '"server"').replace("min_queries = 50", "min_queries = 500")
    local, remote = both(tmp_path, text, cluster)
    assert len(local) == 4 and (local["status"] == "ok").all() and local["peak_qps"].notna().all()
    pd.testing.assert_frame_equal(local, remote)
