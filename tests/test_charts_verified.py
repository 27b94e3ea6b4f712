"""Charts read back: what they draw is what they claim. No mathtext from user strings, no raw
`mathdefault` tick text, ids unique across a page, log ticks labelled, tables humanised."""

import re
from collections import Counter

from clirun import bench
from test_compare import make_result

ID = re.compile(r'\bid="([^"]+)"')



def assert_clean_page(page: str) -> None:
    assert "mathdefault" not in page and "\\mathdefault" not in page
    duplicated = [i for i, n in Counter(ID.findall(page)).items() if n > 1]
    assert duplicated == []


def svg_texts(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t.strip()]


def test_compare_html_with_three_charts(capsys, tmp_path):
    runs = [make_result(tmp_path, f"r{i}", sut__name=name, workload__name=workload)
            for i, (name, workload) in enumerate((("b$c$d", "resnet50"), ("npu_x", "mobilenet_v2"),
                                                   ("npu_y", "bert")))]
    out = tmp_path / "c.html"
    code, _, err = bench(capsys, "compare", *map(str, runs), "--format", "html", "--out", str(out))
    assert code == 0, err
    page = out.read_text()
    assert page.count("<svg") == 3
    assert_clean_page(page)
    assert "b$c$d" in page  # drawn as typed, not typeset as math
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        assert any(t.isdigit() or "," in t for t in svg_texts(svg))  # numeric tick labels present


def test_run_sweep_over_two_systems(capsys, tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nmode = "run"\nduration_s = 1\n[grid]\nsystem = ["npu_v1", "npu_v2"]\n'
                     'scenario = ["server"]\ntarget_qps = [20, 2000]\nmemory.sram_bytes = [8388608, 16777216]\n')
    code, _, err = bench(capsys, "sweep", str(sweep), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, err
    page = (tmp_path / "out" / "sweep.html").read_text()
    assert_clean_page(page)
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    qps_chart = next(c for c in charts if 'data-chart="param-target-qps"' in c)
    assert {"100", "1,000"} <= set(svg_texts(qps_chart))  # the log x axis labelled in plain numbers
    sram_chart = set(svg_texts(next(c for c in charts if 'data-chart="param-memory-sram-bytes"' in c)))
    assert {"8 MiB", "16 MiB"} <= sram_chart and not any("e7" in t for t in sram_chart)  # at each value
    assert any(t.endswith(" ms") for t in sram_chart) and any(t.endswith(" W") for t in sram_chart)
    tables = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    assert "<td>16 MiB</td>" in tables and "<td>16777216</td>" not in tables  # bytes read as MiB
    assert "throughput (samples/s)" in page and "samples/s</td>" in page


def test_a_token_run_draws_no_sample_latency_bound(capsys, tmp_path):
    """A token run is judged on TTFT and TPOT: its latency charts draw no 'bound' line."""
    out = tmp_path / "llm"
    code, _, err = bench(capsys, "run", "--scenario", "server", "--sut", "examples/llm/system.toml",
                         "--workload", "llama2-70b", "--target-qps", "50", "--duration", "5", "--out", str(out))
    assert code == 0, err
    charts = re.findall(r"<svg.*?</svg>", (out / "report.html").read_text(), re.S)
    assert charts and not any(t.startswith("bound") for c in charts for t in svg_texts(c))


def test_equal_latencies_still_get_labelled_axes_and_room_above(capsys, synthetic, tmp_path):
    """A deterministic single-stream run: every latency equal. The CDF's log axis is widened so
    its ticks are labelled, and the flat lines are drawn below the frame's top, not on it."""
    from matplotlib.figure import Figure

    from harness.render import charts
    from harness.render.runs import load_run

    out = tmp_path / "ss"
    code, _, err = bench(capsys, "run", "--scenario", "single-stream", "--sut", str(synthetic(mean_s=0.008)),
                         "--workload", "tiny", "--duration", "2", "--out", str(out), "--no-report")
    assert code == 0, err
    run = load_run(out)
    latency = run.record.latency_s.p50
    for draw, axis in ((charts._draw_cdf, "x"), (charts._draw_timeline, "y")):
        fig = Figure()
        draw(fig, [run])
        ax = fig.axes[0]
        lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
        assert lo < latency / 2 and hi > latency * 1.5  # the data well inside, ticks around it
        ticks = (ax.xaxis if axis == "x" else ax.yaxis).get_ticklocs()
        labels = [(ax.xaxis if axis == "x" else ax.yaxis).get_major_formatter()(t) for t in ticks if lo <= t <= hi]
        assert sum(bool(label) for label in labels) >= 1
    fig = Figure()
    charts._draw_throughput(fig, [run])
    assert fig.axes[0].get_ylim()[1] >= 1.1 * run.record.samples_per_second


def test_a_parameter_axis_is_ticked_at_its_values_in_its_unit_when_the_labels_fit():
    import numpy as np
    from matplotlib.figure import Figure

    from harness.render.sweep_charts import _value_axis

    def ticks(key, values):
        ax = Figure(figsize=(7.5, 5.0)).subplots(2, 2)[0, 0]
        order = np.array(values, dtype=float)
        ax.plot(order, order)
        _value_axis(ax.xaxis, key, order)
        return [t.get_text() for t in ax.get_xticklabels()], list(ax.get_xticks())

    assert ticks("memory.sram_bytes", [8388608, 16777216])[0] == ["8 MiB", "16 MiB"]
    assert ticks("memory.dram_bytes_per_s", [51.2e9, 68.3e9, 102.4e9])[0] == \
        ["51.2 GB/s", "68.3 GB/s", "102.4 GB/s"]
    # "1,000 queries/s" x 5 would overlap: the unit that only follows the number goes
    assert ticks("server_target_qps", [1000, 1500, 2000, 2500, 3000])[0] == \
        ["1,000", "1,500", "2,000", "2,500", "3,000"]
    assert ticks("compute.engines", [2, 3]) == (["2", "3"], [2.0, 3.0])   # no tick at 2.2
    many = ticks("memory.sram_bytes", [2**20 * k for k in range(1, 13)])[1]
    assert len(many) != 12   # twelve values: the default ticks, not one per value
