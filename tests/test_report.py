"""harness.render's pieces: point reduction, formatting, deltas, SVG scoping, matplotlib state."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from harness.render import deltas
from harness.render import fmt
from harness.render import reduce
from harness.render import svg
from harness.record.schema import Latency, Metric
from records import record

LATENCY = ("min", "mean", "p50", "p90", "p95", "p97", "p99", "p99.9", "max")

# ------------------------------------------------------------------ reduction


def test_cdf_is_the_empirical_cdf_on_a_log_grid():
    lat = np.sort(np.random.default_rng(1).exponential(1e-3, 100_000))
    s = reduce.cdf(lat, points=200)
    assert len(s.x) == 200 and np.all(np.diff(s.x) > 0) and np.all(np.diff(s.y) >= 0)
    assert s.x[-1] == lat[-1] and s.y[-1] == 1.0
    assert np.allclose(np.diff(np.log(s.x)), np.log(s.x[1] / s.x[0]))  # geometric grid
    i = 100
    assert s.y[i] == np.count_nonzero(lat <= s.x[i]) / len(lat)


def test_cdf_of_nothing_is_empty():
    assert reduce.cdf(np.empty(0)).x.size == 0


def test_cdf_from_summary_uses_the_recorded_percentiles():
    s = reduce.cdf_from_summary(Latency(min=1.0, mean=None, p50=2.0, p90=3.0, p95=None, p97=None,
                                        p99=4.0, p99_9=None, max=5.0))
    assert s.x.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert s.y.tolist() == [0.0, 0.5, 0.9, 0.99, 1.0]


def test_timeline_keeps_every_bins_maximum():
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(0, 600, 200_000))
    y = rng.exponential(1e-3, len(x))
    t = reduce.timeline(x, y, bins=100, sample=1000)
    assert len(t.mid_s) <= 100 and t.max_s.max() == y.max()
    assert np.isclose(np.average(t.mean_s, weights=np.histogram(x, 100)[0][:len(t.mean_s)]),
                      y.mean(), rtol=0.05)
    assert 1000 <= len(t.sample.x) <= 1001


def test_completed_drops_failed_queries_and_orders_by_schedule():
    q = reduce.Queries(np.array([2.0, 0.0, 1.0]), np.array([2.5, np.nan, 1.25]), np.ones(3))
    x, y = reduce.completed(q)
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [0.25, 0.5]


def test_throughput_bins_count_samples_per_second():
    t = np.linspace(0.01, 10.0, 5000)
    q = reduce.Queries(t - 0.01, t, np.full(len(t), 2.0))
    s = reduce.throughput(q)
    width = s.x[1] - s.x[0]
    assert len(s.x) == 100
    assert np.isclose((s.y * width).sum(), 2.0 * len(t))
    assert np.allclose(s.y[1:-1], 1000.0, rtol=0.05)


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize("value, text", [
    (0.000487, "487 µs"), (0.0028, "2.8 ms"), (494.3, "494.3 s"), (2e-9, "2 ns"), (0.0, "0 s"),
    (None, "n/a"), (float("nan"), "n/a"),
])
def test_seconds(value, text):
    assert fmt.seconds(value) == text


@pytest.mark.parametrize("value, text", [
    (1200426, "1,200,426"), (600000.0, "600,000"), (2000.7055, "2,001"), (0.99, "0.99"),
    (True, "yes"), ("exponential", "exponential"), (None, "n/a"),
])
def test_number(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize("value, unit, text", [
    (1.2e9, "B/s", "1.2 GB/s"), (3.24e-3, "J", "3.24 mJ"), (157e-6, "J", "157 µJ"), (5.0, "", "5"),
])
def test_si(value, unit, text):
    assert fmt.si(value, unit) == text


def test_metric_uses_the_unit():
    assert fmt.metric(Metric("early-stopping p90 latency", 0.0011634, "s")) == "1.163 ms"
    assert fmt.metric(Metric("samples per second", 2000.7055, "samples/s")) == "2,000.71 samples/s"


# ------------------------------------------------------------------ deltas


def _result(metric=("completed samples per second", 100.0, "samples/s"), p99=0.01, energy=None,
            scenario="server"):
    name, value, unit = metric
    return record(scenario=scenario, workload={"name": "tiny"},
                  metric={"name": name, "value": value, "unit": unit}, samples_per_second=value,
                  latency_s={k: (p99 if k == "p99" else None) for k in LATENCY}, energy=energy)


def _row(rows, label):
    return next(r for r in rows if r["label"] == label)


def test_deltas_know_which_direction_is_better():
    rows = deltas.rows([_result(), _result(metric=("completed samples per second", 110.0, "samples/s"),
                                           p99=0.012)])
    head = _row(rows, "headline: completed samples per second")["cells"]
    assert head[0]["delta"] is None and head[1]["delta"] == "+10.00 %" and head[1]["css"] == "better"
    p99 = _row(rows, "latency p99")["cells"][1]
    assert p99["delta"] == "+20.00 %" and p99["css"] == "worse"


def test_deltas_skip_figures_no_result_has_and_unlike_headlines():
    rows = deltas.rows([_result(), _result(metric=("early-stopping p90 latency", 0.001, "s"))])
    assert not any(r["label"].startswith("energy") for r in rows)
    assert rows[0]["cells"][1]["delta"] == "n/a" and rows[0]["cells"][1]["css"] == "same"


def test_unlike_results_are_named():
    other = _result(scenario="offline")
    assert deltas.unlike([_result(), _result()]) == []
    assert "different scenarios (offline, server)" in deltas.unlike([_result(), other])[0]


# ------------------------------------------------------------------ SVG


def test_scope_prefixes_ids_and_references():
    raw = ('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg xmlns="x"><defs><clipPath id="p1">'
           '</clipPath></defs><g clip-path="url(#p1)"><use xlink:href="#m2"/></g></svg>')
    out = svg.scope(raw, "cdf", 'a "b" <c>')
    assert out.startswith('<svg class="chart" data-chart="cdf" role="img" aria-label="a &quot;b&quot; &lt;c&gt;"')
    assert 'id="cdf-p1"' in out and "url(#cdf-p1)" in out and 'href="#cdf-m2"' in out


def test_render_leaves_matplotlib_as_it_found_it():
    before = dict(matplotlib.rcParams)
    out = svg.render("t", "test", lambda fig: fig.subplots().plot([1, 2], [3, 4], label="$x$ <y>"))
    assert dict(matplotlib.rcParams) == before
    assert out.startswith("<svg") and "<?xml" not in out


def test_reports_never_import_pyplot():
    code = ("import sys; from harness.render import svg, charts, accel_charts, page; "
            "svg.render('t', 't', lambda f: f.subplots().plot([1], [1])); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
