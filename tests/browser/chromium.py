"""Headless Chromium (Debian's package) driven by Playwright's Python package: installing them
when missing, and loading a report page. Playwright's own browser download is never used."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    configured = os.environ.get("BENCH_CHROMIUM")
    for path in ((configured,) if configured else ()) + CANDIDATES:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return None


def _run(cmd: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{' '.join(cmd)}: {exc}"
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
    return done.returncode == 0, f"{' '.join(cmd)}: exit {done.returncode} {tail[0]}"


def _as_root() -> list[str] | None:
    if os.geteuid() == 0:
        return []
    return ["sudo", "-n"] if shutil.which("sudo") else None


def install_chromium() -> tuple[str | None, str]:
    """Debian's chromium via apt-get (needs root, or password-less sudo, and the mirror)."""
    root = _as_root()
    if not shutil.which("apt-get") or root is None:
        return None, "apt-get is missing or needs root"
    ok, why = _run(root + ["apt-get", "update", "-q"])
    if ok:
        ok, why = _run(root + ["env", "DEBIAN_FRONTEND=noninteractive",
                               "apt-get", "install", "-y", "-q", "chromium"])
    return (find_chromium() if ok else None), why


def install_playwright() -> tuple[bool, str]:
    """Playwright's Python package from PyPI (not its browser download)."""
    if importlib.util.find_spec("playwright") is not None:
        return True, ""
    ok, why = _run([sys.executable, "-m", "pip", "install", "-q", "playwright"])
    importlib.invalidate_caches()
    return ok and importlib.util.find_spec("playwright") is not None, why


def ensure_browser() -> tuple[str | None, str]:
    """(chromium path, '') when a browser can drive pages, else (None, why not)."""
    ok, why = install_playwright()
    if not ok:
        return None, f"playwright could not be installed ({why})"
    path = find_chromium()
    if path is None:
        path, why = install_chromium()
    if path is None:
        return None, f"no Chromium and it could not be installed ({why})"
    return path, ""


@dataclass
class PageCheck:
    """What a loaded page reported: console errors, page errors, failed requests, chart boxes."""
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)      # alert()/confirm(): a script ran
    charts: list[dict] = field(default_factory=list)
    heading: str = ""


def _listen(page, check: PageCheck) -> None:
    page.on("console", lambda m: check.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: check.page_errors.append(str(e)))
    page.on("request", lambda r: check.requests.append(r.url))
    page.on("dialog", lambda d: (check.dialogs.append(d.message), d.dismiss()))


# Each chart's box, and what it draws outside that box (cut off at the page: a clipped label,
# a legend or tick text past the edge). Geometry clipped to the axes (clip-path) is left out:
# what it draws is inside the axes by construction.
_CHART_BOXES = """() => Array.from(document.querySelectorAll('svg.chart')).map(s => {
  const r = s.getBoundingClientRect(); const st = getComputedStyle(s);
  const outside = Array.from(s.querySelectorAll('text, path, line, rect, use, polyline, polygon'))
    .filter(e => !e.closest('[clip-path]'))
    .map(e => [e, e.getBoundingClientRect()])
    .filter(([e, b]) => b.width + b.height > 0 &&
      (b.left < r.left - 1 || b.top < r.top - 1 || b.right > r.right + 1 || b.bottom > r.bottom + 1))
    .map(([e, b]) => `${e.tagName}#${e.id || e.parentNode.id}: ` +
      `${Math.round(b.left - r.left)},${Math.round(b.top - r.top)} ${Math.round(b.width)}x${Math.round(b.height)}`);
  return {id: s.dataset.chart, width: r.width, height: r.height, outside: outside,
          visible: st.visibility !== 'hidden' && st.display !== 'none' && s.checkVisibility()};
})"""


def load_page(chromium: str, html: Path, screenshot: Path | None = None,
              width: int = 1200) -> PageCheck:
    """Open `html` from disk, collect what happened, optionally save a full-page screenshot."""
    from playwright.sync_api import sync_playwright
    check = PageCheck()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            _listen(page, check)
            page.goto(html.resolve().as_uri(), wait_until="load")
            check.charts = page.evaluate(_CHART_BOXES)
            check.heading = page.inner_text("h1")
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return check
