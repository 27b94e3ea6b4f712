"""Token runs in virtual time: TTFT/TPOT per sample, tokens/s, validity on TTFT/TPOT limits, bad
token reports, and the synthetic decode-slot model against queueing theory (M/D/1)."""

import math

import numpy as np
import pytest

from harness.measure.engine import Environment
from harness.judge.verdict import judge
from harness.measure.loadgen import LoadGen
from harness.measure.schedule import generate
from harness.measure.settings import effective
from harness.sut.synthetic_tokens import DecodeSlots, TokenModel
from harness.judge.tokens import tpot_s

F, P = 2.0 ** -5, 2.0 ** -8       # 31.25 ms prefill, 3.90625 ms per token: exact in binary and in ns


def slots(n=1, tokens=33, first=F, per=P, distribution="deterministic", low=1, high=1):
    return DecodeSlots(TokenModel(distribution, tokens, low, high, 0.0, first, per), n, seed=3)


def run(scenario, sut, **settings):
    s = effective(scenario, {"use_token_latencies": True, **settings}, 0)
    records = LoadGen(Environment(), sut, s, generate(s)).run()
    return records, judge(records, s), s


def lindley_ttft(arrivals, service, first):
    """TTFT of a FIFO single server: waiting (Lindley recursion) + time to the first token."""
    free, out = 0.0, []
    for a in arrivals:
        start = free if free > a else a
        out.append(start + first - a)
        free = start + service
    return np.array(out)


def test_one_slot_ttft_is_md1_waiting_plus_prefill_and_tpot_is_per_token_exactly():
    records, outcome, _ = run("server", slots(), server_target_qps=2.0, min_duration_ms=20_000_000,
                              server_ttft_latency_ns=2e9, server_tpot_latency_ns=2e8)
    service = F + 32 * P
    expected = lindley_ttft(records.scheduled_s, service, F)
    assert np.array_equal(records.first_token_s - records.scheduled_s, expected)
    assert np.all(records.tokens == 33)
    tpot = outcome.tokens["tpot_s"]
    assert tpot["min"] == tpot["max"] == P
    # Pollaczek-Khinchine mean wait of M/D/1: rho * S / (2 (1 - rho)); the run's mean TTFT is
    # its waiting time plus F, within the sampling error of ~40,000 arrivals
    rho = 2.0 * service
    assert outcome.tokens["ttft_s"]["mean"] - F == pytest.approx(rho * service / (2 * (1 - rho)), rel=0.03)


def test_server_tokens_per_second_has_no_minus_one_and_is_the_headline():
    records, outcome, _ = run("server", slots(n=4), server_target_qps=20.0, min_duration_ms=60_000,
                              server_ttft_latency_ns=2e9, server_tpot_latency_ns=2e8)
    done = records.completed_s[-1]
    assert outcome.tokens["output_tokens"] == 33 * records.count
    assert outcome.tokens["completed_tokens_per_second"] == 33 * records.count / done
    assert outcome.metric == {"name": "completed tokens per second",
                              "value": 33 * records.count / done, "unit": "tokens/s"}
    assert outcome.extras["completed_samples_per_second"] == (records.count - 1) / done
    assert outcome.valid


def test_offline_tokens_per_second_is_tokens_over_the_last_completion():
    records, outcome, s = run("offline", slots(n=8), offline_expected_qps=100.0, min_duration_ms=10_000,
                              min_query_count=1)
    last = max(t for t, _ in records.sample_completions)
    assert records.tokens[0] == 33 * s.samples_per_query
    assert outcome.metric["value"] == 33 * s.samples_per_query / last
    assert outcome.metric["unit"] == "tokens/s" and "ttft_s" not in outcome.tokens


@pytest.mark.parametrize("limit, failing", [("server_tpot_latency_ns", "performance_tpot"),
                                            ("server_ttft_latency_ns", "performance_ttft")])
def test_server_is_invalid_when_a_p99_token_latency_is_over_its_limit(limit, failing):
    bounds = {"server_ttft_latency_ns": 2e9, "server_tpot_latency_ns": 2e8, limit: 1e6}
    _, outcome, _ = run("server", slots(n=2), server_target_qps=4.0, min_duration_ms=200_000, **bounds)
    failed = {c.name for c in outcome.checks if not c.met}
    name = failing.split("_")[1]
    assert failed == {failing, f"early_stopping_{name}"}
    assert not outcome.valid
    assert any(r.startswith(f"{name.upper()} constraint not met: p99 {name.upper()}") for r in outcome.invalid_reasons)


def test_interactive_is_a_server_run_under_its_own_limits():
    _, outcome, s = run("interactive", slots(n=4), server_target_qps=4.0, min_duration_ms=200_000,
                        server_ttft_latency_ns=4.5e8, server_tpot_latency_ns=4e7)
    assert s.is_server and (s.ttft_latency_s, s.tpot_latency_s) == (0.45, 0.04)
    assert outcome.tokens["limits"] == {"ttft_s": 0.45, "tpot_s": 0.04} and outcome.valid


def test_tpot_truncates_to_whole_nanoseconds_and_is_zero_for_one_token():
    decode = np.array([0.0, 1e-9 * 10, 0.3])
    assert tpot_s(decode, np.array([1, 4, 11])).tolist() == [0.0, 3e-9, 0.03]


class BadReports:
    """Query q's report is case q % 5: fine, zero tokens, negative tokens, first token after the
    last, no first token."""

    name = "bad"

    def start(self, env, done):
        self.env, self.done = env, done

    def issue(self, query, samples):
        now, case = self.env.now, query % 5
        end = now + 0.01
        if case != 4:
            self.done.first_token(query, end + 1.0 if case == 3 else now + 0.002)
        tokens = {1: 0, 2: -3}.get(case, 5)
        self.done.complete(query, 1, end, tokens=tokens)

    def flush(self):
        pass


def test_bad_token_reports_fail_the_sample_with_the_reason():
    records, outcome, _ = run("server", BadReports(), server_target_qps=10.0, min_duration_ms=10_000)
    reasons = {q % 5: r for q, r in records.errors.items()}
    assert reasons == {1: "SUT reported 0 output tokens (must be a whole number >= 1)",
                       2: "SUT reported -3 output tokens (must be a whole number >= 1)",
                       3: "SUT reported the first token after the last",
                       4: "SUT reported no first token before the last"}
    assert all(math.isnan(records.completed_s[q]) for q in records.errors)
    assert outcome.failed_queries == len(records.errors) > 0 and not outcome.valid
    assert outcome.tokens["output_tokens"] == 5 * int(np.count_nonzero(~np.isnan(records.completed_s)))


def test_a_real_time_order_of_reports_is_judged_by_their_times():
    class Streaming(BadReports):
        """First token, a repeated first token (ignored), then the last, as real SUTs call."""

        def issue(self, query, samples):
            self.env.after(0.002, self.done.first_token, query)
            self.env.after(0.004, self.done.first_token, query)
            self.env.after(0.010, lambda: self.done.complete(query, 1, tokens=3))

    records, outcome, _ = run("server", Streaming(), server_target_qps=10.0, min_duration_ms=1_000)
    assert records.errors == {}
    assert outcome.tokens["ttft_s"]["max"] == pytest.approx(0.002)
    assert outcome.tokens["tpot_s"]["max"] == pytest.approx(0.004)


def test_a_non_token_sut_in_a_token_run_fails_every_sample_saying_why():
    from harness.sut.synthetic import SyntheticConfig, SyntheticSUT
    sut = SyntheticSUT("syn", SyntheticConfig("deterministic", 0.001, 0.5, "", (), 1, 1, 0.0, 0.0), seed=1)
    records, outcome, _ = run("server", sut, server_target_qps=10.0, min_duration_ms=1_000)
    assert set(records.errors.values()) == {"SUT reported no output token count (a token run needs n_tokens)"}
    assert outcome.tokens["output_tokens"] == 0 and not outcome.valid
