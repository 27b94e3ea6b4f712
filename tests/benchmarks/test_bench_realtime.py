"""Real time against MLPerf LoadGen itself: agreement of latency figures and verdicts on the same
Python SUT, and the null-SUT peak server QPS of both. Not part of the default test run:

    pytest tests/benchmarks/test_bench_realtime.py --benchmark-only -s

Both harnesses run the same callable (loadgen_reference.sleep_2ms / null), the same way: worker
threads behind one FIFO queue, or inline on the issuing thread for the null SUT; and the same
server schedule (bench reproduces LoadGen's Poisson arrivals bit for bit from the seed). Runs
alternate LoadGen, bench, LoadGen, bench so both see the same machine load; per side the figures
of its runs are averaged. The machine is shared: the numbers printed are the measurement.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mlperf_loadgen")
from .loadgen_reference import null, run_loadgen, sleep_2ms  # noqa: E402

from harness.measure.runner import RunRequest, execute, prepare  # noqa: E402
from harness.measure.schedule import generate  # noqa: E402

SEEDS = {"schedule_rng_seed": 20260101, "sample_index_rng_seed": 7, "qsl_rng_seed": 3}
ROUNDS = 2


def system(write, callable_name: str, workers: int):
    return write(f"{callable_name}_{workers}.toml",
                 f'name = "py_{callable_name}"\nadapter = "python"\n[python]\n'
                 f'callable = "benchmarks.loadgen_reference:{callable_name}"\nworkers = {workers}\n')


def run_bench(path, scenario: str, settings: dict) -> dict:
    sets = tuple(f"{k}={v}" for k, v in settings.items())
    prepared = prepare(RunRequest(scenario, str(path), "tiny", sets=sets))
    out = execute(prepared)
    r = out.result
    return {"valid": r["valid"], "p50": r["latency_s"]["p50"], "p90": r["latency_s"]["p90"],
            "p99": r["latency_s"]["p99"], "lag_p99": r["issue_lag_s"]["p99"], "queries": r["query_count"],
            "reasons": r["invalid_reasons"], "offsets": out.records.scheduled_s}


def run_reference(scenario: str, call, workers: int, settings: dict, offsets=None) -> dict:
    r = run_loadgen(scenario, call, workers, settings, offsets)
    pct = r["percentiles"]
    lag = r.get("issue_lag_s")
    return {"valid": r["valid"], "p50": pct[0.5], "p90": pct[0.9], "p99": pct[0.99],
            "lag_p99": float(np.percentile(lag, 99)) if lag is not None else None, "queries": r["queries"]}


def alternate(write, scenario: str, call, name: str, workers: int, settings: dict) -> tuple[list, list]:
    path = system(write, name, workers)
    ours, theirs = [], []
    for _ in range(ROUNDS):
        theirs.append(run_reference(scenario, call, workers, settings))
        ours.append(run_bench(path, scenario, settings))
        print(f"\n{scenario}: LoadGen {fmt(theirs[-1])}\n{scenario}: bench   {fmt(ours[-1])}")
    return ours, theirs


def fmt(r: dict) -> str:
    return (f"{'VALID  ' if r['valid'] else 'INVALID'} p50 {r['p50'] * 1e3:7.3f} ms  p90 {r['p90'] * 1e3:7.3f} ms"
            f"  p99 {r['p99'] * 1e3:7.3f} ms  queries {r['queries']}")


def mean(runs: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in runs]))


def agree(ours: list[dict], theirs: list[dict], tolerances: dict[str, float], benchmark) -> None:
    for key, tol in tolerances.items():
        a, b = mean(ours, key), mean(theirs, key)
        benchmark.extra_info[key] = {"bench_s": a, "loadgen_s": b, "ratio": a / b}
        print(f"{key}: bench {a * 1e3:.3f} ms, LoadGen {b * 1e3:.3f} ms, ratio {a / b:.3f}")
    assert [r["valid"] for r in ours] == [r["valid"] for r in theirs]
    for key, tol in tolerances.items():
        assert mean(ours, key) == pytest.approx(mean(theirs, key), rel=tol), key


def test_server_agrees_with_loadgen(benchmark, write):
    """2 ms per sample, one worker, 250 QPS: utilisation 0.5, 20 s per run."""
    settings = {"server_target_qps": 250.0, "min_duration_ms": 20000, "min_query_count": 100,
                "server_target_latency_ns": 100_000_000, **SEEDS}
    ours, theirs = benchmark.pedantic(alternate, args=(write, "server", sleep_2ms, "sleep_2ms", 1, settings),
                                      rounds=1, iterations=1)
    assert ours[0]["queries"] == theirs[0]["queries"]  # the same schedule, issued whole by both
    agree(ours, theirs, {"p50": 0.05, "p99": 0.15}, benchmark)


def test_single_stream_agrees_with_loadgen(benchmark, write):
    settings = {"single_stream_expected_latency_ns": 2_000_000, "min_duration_ms": 20000,
                "min_query_count": 100, **SEEDS}
    ours, theirs = benchmark.pedantic(alternate, args=(write, "single-stream", sleep_2ms, "sleep_2ms", 1, settings),
                                      rounds=1, iterations=1)
    agree(ours, theirs, {"p50": 0.05, "p90": 0.05, "p99": 0.15}, benchmark)


LADDER = (5_000, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 80_000, 100_000, 120_000)
NULL_SETTINGS = {"min_duration_ms": 5000, "min_query_count": 100, "server_target_latency_ns": 10_000_000, **SEEDS}
MAX_LAG_S = 0.001


def passes(r: dict) -> bool:
    return r["valid"] and r["lag_p99"] <= MAX_LAG_S


def climb(write) -> list[dict]:
    """Both harnesses up the QPS ladder, alternating, until each has failed twice in a row."""
    path, rows, misses = system(write, "null", 0), [], {"bench": 0, "loadgen": 0}
    for qps in LADDER:
        settings = {"server_target_qps": float(qps), **NULL_SETTINGS}
        row = {"qps": qps}
        if misses["loadgen"] < 2:
            offsets = generate_offsets(settings)
            row["loadgen"] = run_reference("server", null, 0, settings, offsets)
            misses["loadgen"] = 0 if row["loadgen"]["valid"] else misses["loadgen"] + 1
        if misses["bench"] < 2:
            row["bench"] = run_bench(path, "server", settings)
            misses["bench"] = 0 if row["bench"]["valid"] else misses["bench"] + 1
        rows.append(row)
        print_row(row)
        if min(misses.values()) >= 2:
            break
    return rows


def generate_offsets(settings: dict) -> np.ndarray:
    from harness.measure.settings import effective

    s = effective("server", {k: float(v) if k.endswith("_ms") else v for k, v in settings.items()}, 0)
    return generate(s).offsets_ns / 1e9


def print_row(row: dict) -> None:
    cells = [f"{row['qps']:>7}"]
    for side in ("loadgen", "bench"):
        r = row.get(side)
        cells.append("       -" if r is None else
                     f"{side} {'VALID  ' if r['valid'] else 'INVALID'} p99 lat {r['p99'] * 1e3:7.3f} ms"
                     f" p99 lag {r['lag_p99'] * 1e3:7.3f} ms")
    print("\n" + " | ".join(cells))


def peak(rows: list[dict], side: str, rule) -> int:
    return max((row["qps"] for row in rows if side in row and rule(row[side])), default=0)


def test_null_sut_peak_server_qps(benchmark, write):
    rows = benchmark.pedantic(climb, args=(write,), rounds=1, iterations=1)
    figures = {f"{side}_{name}": peak(rows, side, rule) for side in ("bench", "loadgen")
               for name, rule in (("valid", lambda r: r["valid"]), ("valid_lag_1ms", passes))}
    benchmark.extra_info.update(figures)
    print("\n", figures)
    assert figures["bench_valid"] >= 20_000
    assert figures["bench_valid"] >= figures["loadgen_valid"] / 2
