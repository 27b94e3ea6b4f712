"""Report pages in a real headless browser (Debian's Chromium driven by Playwright): the page
loads with no console errors, fetches nothing, and every chart is visible; a screenshot is saved.

The set-up installs what is missing (pip install playwright; apt-get install chromium) and skips
with the reason when it cannot. Playwright's own browser download is never used."""

import re

import pytest

import textwrap

from browser.chromium import ensure_browser, load_page
from browser.runs import accelerator_run, make_run, system_file
from harness.cli.main import main
from harness.record.rundir import write_run
from harness.render.page import write_report, write_run_report
from harness.measure.runner import RunRequest, execute, prepare
from harness.sweep import load_sweep, run_sweep

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium():
    path, why = ensure_browser()
    if path is None:
        pytest.skip(f"browser tests need Chromium and Playwright: {why}")
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    sut = system_file(root, "<script>alert(1)</script>")
    server = make_run(root / "server", sut, "server", qps=3000.0, duration_s=5.0)
    accel = accelerator_run(make_run(root / "ss", sut, "single-stream", qps=None, duration_s=2.0),
                            root / "accel")
    offline = make_run(root / "offline", sut, "offline", qps=2000.0, duration_s=2.0)
    write_run_report(server, root / "server.html")
    write_run_report(accel, root / "accel.html")
    write_run_report(offline, root / "offline.html")
    write_report([server, accel, offline], root / "multi.html")
    npu = execute(prepare(RunRequest("server", "npu_v2", "resnet50", 1500.0, 2.0)))
    write_run_report(write_run(root / "npu", npu.result, npu.records), root / "npu.html")
    sweep_file = root / "sweep.toml"
    sweep_file.write_text(textwrap.dedent(SWEEP))
    run_sweep(load_sweep(sweep_file), root / "sweep", workers=1)
    (root / "sweep.html").write_bytes((root / "sweep" / "sweep.html").read_bytes())
    return {name: root / f"{name}.html" for name in PAGES if name != "compare"} | {"root": root}


# The report of each kind, several runs overlaid, a real npu_v2 run (DRAM timeline, roofline,
# energy), the sweep page and compare's page
PAGES = ("server", "accel", "offline", "multi", "npu", "sweep", "compare")
SWEEP = """
    [sweep]
    name = "browser"
    mode = "profile"
    [fixed]
    system = "npu_v2"
    workload = "resnet50"
    [grid]
    memory.sram_bytes = [4194304, 16777216]
    masters.camera.frame_rate_hz = [30, 120]
    compute.precision = ["int8", "fp16"]
"""


@pytest.fixture(scope="module")
def compare_page(pages):
    root = pages["root"]
    out = root / "compare.html"
    with pytest.raises(SystemExit) as done:
        main(["compare", str(root / "server"), str(root / "offline"), str(root / "npu"),
              "--format", "html", "--out", str(out)])
    assert done.value.code == 0
    return out


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_cleanly_with_every_chart_visible(chromium, pages, compare_page, name, tmp_path):
    page = compare_page if name == "compare" else pages[name]
    shot = tmp_path / f"{name}.png"
    check = load_page(chromium, page, screenshot=shot)
    assert check.console_errors == [] and check.page_errors == []
    assert check.requests == [page.resolve().as_uri()]            # nothing fetched
    expected = re.findall(r'data-chart="([^"]+)"', page.read_text(encoding="utf-8"))
    assert [c["id"] for c in check.charts] == expected and expected
    for chart in check.charts:
        assert chart["visible"] and chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["outside"] == [], chart   # nothing drawn past the chart's frame
    assert shot.stat().st_size > 10_000


def test_a_hostile_system_name_stays_text(chromium, pages):
    check = load_page(chromium, pages["server"])
    assert check.dialogs == [] and check.console_errors == []
    assert check.heading.startswith("<script>alert(1)</script>")


def test_the_frame_check_sees_a_label_past_the_edge(chromium, tmp_path):
    """The check above can fail: a chart whose label is drawn past its right edge."""
    page = tmp_path / "cut.html"
    page.write_text('<!doctype html><h1>cut</h1><svg class="chart" data-chart="c" width="300" '
                    'height="120" viewBox="0 0 300 120" style="overflow: visible">'
                    '<text id="label" x="250" y="60">a label cut off here</text></svg>')
    check = load_page(chromium, page)
    assert len(check.charts) == 1 and check.charts[0]["outside"][0].startswith("text#label")
