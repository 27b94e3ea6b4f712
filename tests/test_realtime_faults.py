"""A misbehaving SUT in real time: the run always finishes, INVALID with the reason, every
record kept; Ctrl-C ends a run with its partial result written and marked interrupted."""

import json
import signal
import threading
import time

import numpy as np
import pytest

from harness.judge.verdict import judge
from harness.measure.loadgen import LoadGen
from harness.measure.realtime import WorkerPoolSUT, RealTimeEnvironment, WorkerPool
from harness.measure.schedule import generate
from harness.measure.settings import effective
from test_realtime import main_code

SERVER = dict(server_target_qps=200.0, min_duration_ms=300.0, min_query_count=1)


def run_pool(call, workers=1, timeout_s=5.0, scenario="server", **settings):
    s = effective(scenario, {**SERVER, **settings} if scenario == "server" else settings, 0)
    sut = WorkerPoolSUT("t", WorkerPool(call, "sut", workers, 1, 0.0, timeout_s))
    records = LoadGen(RealTimeEnvironment(), sut, s, generate(s)).run()
    return records, judge(records, s), sut.finish(1.0), s


class RawSUT:
    """A SUT written against the contract directly, answering from its own thread."""

    def __init__(self, answer):
        self.answer = answer

    def start(self, env, done):
        self.env, self.done = env, done

    def issue(self, query, samples):
        threading.Thread(target=self.env.post, args=(self.answer, self.done, query)).start()

    def flush(self):
        pass


def run_raw(answer, **settings):
    s = effective("server", {**SERVER, **settings}, 0)
    records = LoadGen(RealTimeEnvironment(), RawSUT(answer), s, generate(s)).run()
    return records, judge(records, s)


def failed_check(outcome):
    return next(c for c in outcome.checks if c.name == "failed_queries")


@pytest.mark.realtime
def test_an_exception_fails_the_batch_queries_and_the_run_finishes_invalid():
    def flaky(samples):
        if samples[0] % 3 == 0:
            raise ValueError(f"cannot infer sample {samples[0]}")

    rec, outcome, stats, s = run_pool(flaky)
    assert rec.count == generate(s).count and not rec.interrupted
    assert rec.errors and all("raised ValueError: cannot infer sample" in e for e in rec.errors.values())
    failed = np.array(sorted(rec.errors))
    assert np.all(np.isnan(rec.completed_s[failed]))
    assert np.isnan(rec.completed_s).sum() == len(rec.errors)   # every other query completed
    assert not outcome.valid and outcome.failed_queries == len(rec.errors)
    assert "queries failed (first: sut raised ValueError" in failed_check(outcome).reason


@pytest.mark.realtime
def test_a_batch_that_never_returns_times_out_and_its_worker_is_replaced():
    release = threading.Event()

    def hangs_once(samples):
        if samples and not release.is_set() and hangs_once.calls == 0:
            hangs_once.calls += 1
            release.wait(10)

    hangs_once.calls = 0
    start = time.perf_counter()
    rec, outcome, stats, s = run_pool(hangs_once, timeout_s=0.1)
    release.set()
    assert time.perf_counter() - start < 3.0
    assert list(rec.errors.values()) == ["sut did not finish a batch within timeout_s = 0.1 s"]
    assert rec.count == generate(s).count and stats["sut_stats"]["timed_out_batches"] == 1
    assert np.isnan(rec.completed_s).sum() == 1 and not outcome.valid


@pytest.mark.realtime
def test_an_inline_call_over_its_timeout_fails_its_query():
    rec, outcome, *_ = run_pool(lambda samples: time.sleep(0.03 if samples[0] % 2 else 0), workers=0,
                                timeout_s=0.02, server_target_qps=50.0)
    assert rec.errors and all("within timeout_s = 0.02 s" in e for e in rec.errors.values())
    assert not outcome.valid


@pytest.mark.realtime
def test_answering_twice_fails_the_query_and_keeps_its_record():
    def twice(done, query):
        done.complete(query)
        if query == 3:
            done.complete(query)

    rec, outcome = run_raw(twice)
    assert rec.errors == {3: "SUT reported more samples complete than the query holds"}
    assert not np.isnan(rec.completed_s).any() and not outcome.valid


@pytest.mark.realtime
def test_unknown_ids_are_recorded_and_the_unanswered_query_fails_by_the_adapter_timeout():
    def wrong_id(done, query):
        done.complete(query + 1000 if query == 2 else query)
        if query == 2:
            done.fail(query, "no answer for query 2")   # what an adapter's timeout reports

    rec, outcome = run_raw(wrong_id)
    assert rec.runtime_errors == ["SUT completed unknown query id 1002."]
    assert rec.errors == {2: "no answer for query 2"} and not outcome.valid


@pytest.mark.realtime
def test_ctrl_c_writes_the_partial_result_marked_interrupted(write, tmp_path):
    write("stopper.py", "import os, signal, time\n"
                        "calls = [0]\n"
                        "def infer(samples):\n"
                        "    calls[0] += 1\n"
                        "    if calls[0] == 20:\n"
                        "        os.kill(os.getpid(), signal.SIGINT)\n"
                        "    time.sleep(0.001)\n")
    system = write("stop.toml", 'adapter = "python"\n[python]\ncallable = "stopper:infer"\n')
    out = tmp_path / "partial"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    code = main_code(["run", "--scenario", "server", "--sut", str(system), "--workload", "tiny",
                      "--target-qps", "200", "--duration", "30", "--out", str(out), "--no-report"])
    assert code == 130
    result = json.loads((out / "result.json").read_text())
    assert result["interrupted"] and not result["valid"]
    assert "interrupted" in [c["name"] for c in result["checks"] if not c["met"]]
    assert 20 <= result["query_count"] < 6000
    assert (out / "queries.parquet").is_file()


@pytest.mark.realtime
@pytest.mark.parametrize("workers", [0, 1])
@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit()])
def test_any_base_exception_from_sut_code_fails_its_queries_not_the_run(workers, raised):
    if workers == 0 and isinstance(raised, KeyboardInterrupt):
        pytest.skip("on the loop thread a KeyboardInterrupt is the user's Ctrl-C")

    def rude(samples):
        if samples[0] % 2 == 0:
            raise raised

    rec, outcome, _, s = run_pool(rude, workers=workers)
    assert rec.count == generate(s).count and not rec.interrupted
    name = type(raised).__name__
    assert rec.errors and all(f"sut raised {name}" in e for e in rec.errors.values())
    assert outcome.failed_queries == len(rec.errors) < rec.count


# ---------------------------------------------------------------- the run's deadline


def hung_run(write, tmp_path, workers, scenario="single-stream", sets=("run_grace_ms=300",),
             sut="import time\ndef infer(samples):\n    time.sleep(3600)\n"):
    write("hung.py", sut)
    system = write("hung.toml", f'adapter = "python"\n[python]\ncallable = "hung:infer"\n'
                                f'workers = {workers}\ntimeout_s = 600\n')
    out = tmp_path / "out"
    began = time.perf_counter()
    argv = ["run", "--scenario", scenario, "--sut", str(system), "--workload", "tiny",
            "--duration", "0.2", "--min-queries", "1", "--out", str(out), "--no-report"]
    code = main_code(argv + [a for s in sets for a in ("--set", s)])
    return code, time.perf_counter() - began, json.loads((out / "result.json").read_text())


@pytest.mark.realtime
@pytest.mark.parametrize("workers", [0, 1])
def test_a_sut_that_never_returns_ends_the_run_at_its_deadline(write, tmp_path, workers):
    """timeout_s = 600 would hold the batch for ten minutes (forever inline): the run ends
    run_grace_ms after the last answer instead, the hung query failed with the reason."""
    code, took, result = hung_run(write, tmp_path, workers)
    assert code == 0 and took < 3.0 and not result["interrupted"]
    assert result["failed_queries"] == result["query_count"] == 1 and not result["valid"]
    failed = next(c for c in result["checks"] if c["name"] == "failed_queries")
    assert "no query was answered for run_grace_ms = 300 ms while 1 were outstanding" in failed["reason"]
    assert any("Ending early" in e for e in result["runtime_errors"])
    duration = next(c for c in result["checks"] if c["name"] == "min_duration")
    assert "No query completed" in duration["fix"] and "=0" not in duration["fix"]


@pytest.mark.realtime
def test_a_sut_too_slow_to_finish_ends_at_max_duration_plus_grace(write, tmp_path):
    """Answers keep coming (no stall), but not all by max_duration + grace: the rest fail."""
    sut = "import time\ndef infer(samples):\n    time.sleep(0.05)\n"
    code, took, result = hung_run(write, tmp_path, 1, "server", sut=sut,
                                  sets=("run_grace_ms=200", "max_duration_ms=300", "server_target_qps=200"))
    assert code == 0 and took < 3.0
    assert 0 < result["failed_queries"] < result["query_count"]
    assert any("max_duration_ms + run_grace_ms = 0.5 s" in e for e in result["runtime_errors"])


@pytest.mark.realtime
def test_an_offline_query_answered_sample_by_sample_is_progress(write, tmp_path):
    """One offline query outlives run_grace_ms, but its samples finish steadily: no stall."""
    sut = "import time\ndef infer(samples):\n    time.sleep(0.002)\n"
    code, took, result = hung_run(write, tmp_path, 1, "offline", sut=sut,
                                  sets=("run_grace_ms=100", "offline_expected_qps=300"))
    assert code == 0 and result["failed_queries"] == 0 and result["sample_count"] >= 66
    assert result["duration_s"] > 0.13 and not result["runtime_errors"]


@pytest.mark.realtime
def test_first_tokens_of_long_streams_are_progress(write, tmp_path):
    """Each stream outlives run_grace_ms, but first tokens keep arriving: no stall."""
    sut = "import time\ndef infer(samples):\n    yield 1\n    time.sleep(0.25)\n    yield 2\n"
    code, took, result = hung_run(write, tmp_path, 8, "server", sut=sut,
                                  sets=("run_grace_ms=150", "server_target_qps=40",
                                        "workload.benchmark=llama2-70b"))
    assert code == 0 and result["failed_queries"] == 0 and not result["runtime_errors"]
    assert result["tokens"]["output_tokens"] == 2 * result["query_count"]


# ---------------------------------------------------------------- what a Python SUT returns


def checked_run(answer, workers=1, max_batch=4):
    from harness.sut.python_callable import checked
    s = effective("offline", dict(offline_expected_qps=400.0, min_duration_ms=50.0, min_query_count=1), 0)
    sut = WorkerPoolSUT("t", WorkerPool(checked(answer), "sut", workers, max_batch, 0.0, 5.0))
    records = LoadGen(RealTimeEnvironment(), sut, s, generate(s)).run()
    return records, judge(records, s)


@pytest.mark.realtime
@pytest.mark.parametrize("answer", [
    lambda samples: None, lambda samples: list(samples), lambda samples: {s: 0.5 for s in samples},
    lambda samples: [(s, "cat") for s in reversed(samples)], lambda samples: np.array(samples),
    lambda samples: np.zeros(len(samples)), lambda samples: "answers without ids"])
def test_answers_that_cover_their_samples_or_name_none_complete(answer):
    rec, outcome = checked_run(answer)
    assert not rec.errors and outcome.failed_queries == 0


@pytest.mark.realtime
@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("answer, reason", [
    (lambda samples: list(samples[1:]), "sut: returned no answer for sample"),
    (lambda samples: list(samples) + [samples[0]], "times; it was given"),
    (lambda samples: [s + 10**6 for s in samples], "it was not given (given ["),
    (lambda samples: {"a": 1}, "sut: returned answer id 'a', which is not a sample index"),
    (lambda samples: [], "sut: returned no answer for sample"),
])
def test_missing_repeated_or_foreign_answers_fail_their_queries_with_the_reason(workers, answer, reason):
    """Offline: one query of many samples; a bad answer for any of them fails it, saying why."""
    rec, outcome = checked_run(answer, workers)
    assert rec.count == 1 and outcome.failed_queries == 1 and not outcome.valid
    assert reason in rec.errors[0], rec.errors[0]
    assert np.isnan(rec.completed_s[0])


@pytest.mark.realtime
def test_an_inline_call_that_hangs_is_interrupted_at_its_timeout_and_the_run_goes_on(write, tmp_path):
    """workers = 0: the first call never returns by itself; timeout_s interrupts it, its query
    fails with the timeout reason, and the later queries complete."""
    sut = ("import time\ncalls = [0]\ndef infer(samples):\n    calls[0] += 1\n"
           "    if calls[0] == 1:\n        time.sleep(3600)\n")
    write("hung.py", sut)
    system = write("hung.toml", 'adapter = "python"\n[python]\ncallable = "hung:infer"\n'
                                'workers = 0\ntimeout_s = 0.2\n')
    out = tmp_path / "out"
    began = time.perf_counter()
    code = main_code(["run", "--scenario", "single-stream", "--sut", str(system), "--workload", "tiny",
                      "--duration", "0.3", "--min-queries", "5", "--out", str(out), "--no-report"])
    took = time.perf_counter() - began
    result = json.loads((out / "result.json").read_text())
    assert code == 0 and took < 3.0
    assert result["failed_queries"] == 1 and result["query_count"] >= 5
    failed = next(c for c in result["checks"] if c["name"] == "failed_queries")
    assert "did not finish a batch within timeout_s = 0.2 s" in failed["reason"]
