"""Report pages in a real headless browser (Debian's Chromium driven by Playwright): the page
loads with no console errors, fetches nothing, and every chart is visible; a screenshot is saved.

The set-up installs what is missing (pip install playwright; apt-get install chromium) and skips
with the reason when it cannot. Playwright's own browser download is never used."""

import re

import pytest

from browser.chromium import ensure_browser, load_page
from browser.runs import accelerator_run, make_run, system_file
from harness.report import write_report, write_run_report

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
    return {name: root / f"{name}.html" for name in ("server", "accel", "offline", "multi")}


@pytest.mark.parametrize("name", ["server", "accel", "offline", "multi"])
def test_page_loads_cleanly_with_every_chart_visible(chromium, pages, name, tmp_path):
    page = pages[name]
    shot = tmp_path / f"{name}.png"
    check = load_page(chromium, page, screenshot=shot)
    assert check.console_errors == [] and check.page_errors == []
    assert check.requests == [page.resolve().as_uri()]            # nothing fetched
    expected = re.findall(r'data-chart="([^"]+)"', page.read_text(encoding="utf-8"))
    assert [c["id"] for c in check.charts] == expected and expected
    for chart in check.charts:
        assert chart["visible"] and chart["width"] > 100 and chart["height"] > 50, chart
    assert shot.stat().st_size > 10_000


def test_a_hostile_system_name_stays_text(chromium, pages):
    check = load_page(chromium, pages["server"])
    assert check.dialogs == [] and check.console_errors == []
    assert check.heading.startswith("<script>alert(1)</script>")
