"""HTML reports: one self-contained page (inline SVG charts, no script, nothing fetched) for one
result or several side by side. `bench run` measures, writes the run, then calls `report_beside`
on the directory: the same code as `bench report DIR`."""

from harness.report.page import render_runs, report_beside, write_report, write_run_report

__all__ = ["render_runs", "report_beside", "write_report", "write_run_report"]
