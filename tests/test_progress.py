"""The real-time progress line reads the run's counters without disturbing it."""

import io
import json
from pathlib import Path

import pytest

from harness.cli import progress
from harness.measure.runner import RunRequest, execute, prepare

SLEEPY = Path(__file__).resolve().parents[1] / "examples" / "sleepy" / "system.toml"


def test_only_real_time_runs_on_a_terminal_get_one(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert not progress.wanted("real")  # not a terminal
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert progress.wanted("real") and not progress.wanted("virtual")


@pytest.mark.realtime
def test_watched_real_time_run_completes_unchanged(monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL_S", 0.05)
    prepared = prepare(RunRequest("server", str(SLEEPY), "tiny", target_qps=100.0,
                                  duration_s=0.5, min_queries=10))
    seen = []

    def watch(loadgen):
        seen.append(loadgen)
        return progress.real_time_progress(loadgen)

    run = execute(prepared, watch=watch)
    assert len(seen) == 1 and seen[0].finished_count == run.result["query_count"]
    assert run.result["failed_queries"] == 0
    json.dumps(run.result)
