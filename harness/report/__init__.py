"""HTML reports: one self-contained page (inline SVG charts, no script, nothing fetched) for one
result or several side by side. `bench run` calls `write_run_report` on each run it writes."""

from harness.report.page import render_runs, write_report, write_run_report

__all__ = ["render_runs", "write_report", "write_run_report"]
