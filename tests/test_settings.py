import pytest

from harness.errors import ConfigError
from harness.measure.settings import derive_seed, effective, scenario_name, validate_flat


@pytest.mark.parametrize("text, name", [
    ("SingleStream", "single-stream"), ("single_stream", "single-stream"), ("single-stream", "single-stream"),
    ("MultiStream", "multi-stream"), ("SERVER", "server"), ("Offline", "offline")])
def test_scenario_spellings(text, name):
    assert scenario_name(text) == name


def test_unknown_scenario():
    with pytest.raises(ConfigError, match="--scenario = 'serverless': unknown scenario"):
        scenario_name("serverless")


def test_offline_query_size_as_loadgen():
    # mlperf-loadgen.md §3.1 [V]: expected 400 QPS for 3 s gives 1320 samples.
    s = effective("offline", {"min_duration_ms": 3000.0, "offline_expected_qps": 400.0, "min_query_count": 1}, 0)
    assert (s.samples_per_query, s.min_query_count, s.min_sample_count) == (1320, 1, 1320)
    big = effective("offline", {"min_duration_ms": 600000.0, "offline_expected_qps": 20000.0}, 0)
    assert big.samples_per_query == 13_200_000


def test_stream_target_qps_from_expected_latency():
    ss = effective("single-stream", {"single_stream_expected_latency_ns": 2e6}, 0)
    ms = effective("multi-stream", {"multi_stream_expected_latency_ns": 20e6}, 0)
    assert (ss.target_qps, ss.samples_per_query) == (500.0, 1)
    assert (ms.target_qps, ms.samples_per_query, ms.target_percentile) == (50.0, 8, 0.99)


def test_seeds_explicit_or_derived_per_stream():
    s = effective("server", {"schedule_rng_seed": 7}, 42)
    assert s.schedule_rng_seed == 7
    assert s.qsl_rng_seed == derive_seed(42, "qsl_rng_seed") != s.sample_index_rng_seed


@pytest.mark.parametrize("key, value, rule", [
    ("server_target_qps", 0, "must be a number from 0.001 to 1e+08 queries/s"),
    ("server_target_qps", float("nan"), "must be a number from 0.001 to 1e+08 queries/s"),
    ("min_duration_ms", -5, "must be a number from 0.001 to 1e+08 ms"),
    ("server_target_latency_percentile", 99, "must be a fraction"),
    ("min_query_count", "many", "must be an integer"),
    ("server_target_qsp", 10, "unknown key"),
])
def test_bad_settings_name_key_value_and_rule(key, value, rule):
    with pytest.raises(ConfigError) as err:
        validate_flat({key: value}, "--set")
    assert f"--set: {key} = " in str(err.value) and rule in str(err.value)
